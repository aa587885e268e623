"""Helpers every handler uses: escaping, the role check, replies, pagination.

HTML escaping happens here, once, at the edge: domain code returns plain text and
handlers pass every piece of user or pupil text through `h()`.
"""

from __future__ import annotations

import functools
import html
import logging
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

from telegram import Bot, Message, Update
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest, TelegramError

from bot.logsafe import failure_text
from bot.records.outbox import Buttons
from bot.roles import Permission, Role, allows
from bot.shell.callbacks import Callback, pack, unpack
from bot.shell.context import BotContext
from bot.shell.delivery import keyboard
from bot.shell.ticker import runtime
from bot.strangers import StrangerGate
from bot.wording import roles_named, you_are

log = logging.getLogger(__name__)

Context = BotContext  # PTB's CallbackContext with a typed `context.runtime` (bot.shell.context)
MAX_TEXT = 4096
MAX_CAPTION = 1024
PAGE_CHARS = 3500  # leaves room for a header and footer under Telegram's 4096
T = TypeVar("T")


def h(text: object) -> str:
    """Escape user or pupil text for Telegram's HTML parse mode."""
    return html.escape(str(text), quote=False)


def clip(text: str, limit: int) -> str:
    """Shorten plain text (before escaping) so a message stays inside Telegram's limits."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class Actor:
    """The staff member behind an update, with the role storage gives them now."""

    user_id: int
    name: str
    role: Role


def is_private(update: Update) -> bool:
    chat = update.effective_chat
    return chat is not None and chat.type == ChatType.PRIVATE


async def admit(
    update: Update,
    context: Context,
    permission: Permission | None,
    *,
    action: str,
    private: bool = True,
) -> Actor | None:
    """The server-side check in front of every handler and button: role, permission, chat.

    Refusals are audited and answered politely; a stranger learns nothing but their own id. In a
    group chat the check comes before the role's: nothing said there may tell who is staff.
    """
    user = update.effective_user
    if user is None:
        return None
    services = runtime(context).services
    role = services.staff.role_of(user.id)
    if role is None:
        await refuse_stranger(update, context, action=action)
        return None
    if private and not is_private(update):
        services.audit(user.id, action, outcome="refused: group chat")
        await point_to_private_chat(update, context)
        return None
    if permission is not None and not allows(role, permission):
        services.audit(user.id, action, outcome="refused: role")
        said = f" {you_are(role)}" if is_private(update) else ""
        allowed = roles_named([r for r in Role if allows(r, permission)])
        await tell(update, f"Sorry, only {allowed} can do that.{said}")
        return None
    services.staff.remember_name(user.id, user.full_name)
    return Actor(user.id, user.full_name, role)


@dataclass(frozen=True)
class Press:
    """A button press from someone allowed to make it, with its parsed callback data."""

    actor: Actor
    callback: Callback

    @property
    def number(self) -> int | None:
        """The first argument as a number (an incident, an application...), None when forged."""
        return self.callback.int_arg(0)


EXPIRED = "This button has expired."


async def admit_press(update: Update, context: Context, permission: Permission | None, *, action: str) -> Press | None:
    """The role check for a button; None when refused or the data does not parse (the press is answered)."""
    actor = await admit(update, context, permission, action=action)
    if actor is None:
        return None  # admit answered it
    callback = callback_of(update)
    if callback is None:
        await answer(update, EXPIRED)  # forged or from an older version: the phone's spinner stops
        return None
    return Press(actor, callback)


@dataclass(frozen=True)
class NumberedPress:
    """A press about one numbered thing (an incident, an application, a pending question)."""

    actor: Actor
    callback: Callback
    number: int


async def admit_numbered(update: Update, context: Context, permission: Permission | None, *, action: str) -> NumberedPress | None:
    """admit_press for a button about one numbered thing: None also when the number is forged (answered as expired)."""
    press = await admit_press(update, context, permission, action=action)
    if press is None:
        return None
    if press.number is None:
        await answer(update, EXPIRED)
        return None
    return NumberedPress(press.actor, press.callback, press.number)


HandlerWithActor = Callable[[Update, Context, Actor], Awaitable[T]]


def staff_only(
    permission: Permission | None = None, *, private: bool = True, action: str = ""
) -> Callable[[HandlerWithActor[T]], Callable[[Update, Context], Coroutine[Any, Any, T | None]]]:
    """Decorate a handler so it runs only for staff allowed to do this (checked from storage)."""

    def decorate(handler: HandlerWithActor[T]) -> Callable[[Update, Context], Coroutine[Any, Any, T | None]]:
        @functools.wraps(handler)
        async def guarded(update: Update, context: Context) -> T | None:
            actor = await admit(update, context, permission, action=action or handler.__name__, private=private)
            if actor is None:
                return None
            return await handler(update, context, actor)

        return guarded

    return decorate


def callback_of(update: Update) -> Callback | None:
    query = update.callback_query
    return unpack(query.data) if query else None


def stranger_gate(context: Context) -> StrangerGate:
    """The one gate that bounds what strangers get back, made on first use from the config."""
    bot_data = context.application.bot_data
    if "stranger_gate" not in bot_data:
        minutes = runtime(context).services.config.access.stranger_window_minutes
        bot_data["stranger_gate"] = StrangerGate(timedelta(minutes=minutes))
    gate: StrangerGate = bot_data["stranger_gate"]
    return gate


def stranger_may_be_answered(update: Update, context: Context, action: str, outcome: str, kind: str = "") -> bool:
    """Audit a stranger's attempt and say whether to answer it: once per stranger (and kind of
    answer) per window. Between those, attempts are only counted; the next audit line says how many
    went unanswered."""
    user = update.effective_user
    assert user is not None
    services = runtime(context).services
    detail = stranger_gate(context).admit((user.id, kind), services.clock.now())
    if detail is None:
        return False
    services.audit(user.id, action, outcome=outcome, detail=detail)
    return True


async def refuse_stranger(update: Update, context: Context, action: str = "message") -> None:
    """What an unknown person sees: a polite no, their id, and a way to ask for access (audited)."""
    user = update.effective_user
    assert user is not None
    if not stranger_may_be_answered(update, context, action, "refused: not staff"):
        return
    if update.callback_query:
        await update.callback_query.answer("Sorry, this button is not for you.", show_alert=True)
        return
    if not is_private(update):
        return  # say nothing to strangers in groups: no noise, nothing learned
    school = runtime(context).services.config.school.name
    try:
        await reply(
            update,
            f"Sorry, this assistant is only for staff of {h(school)}.\n"
            f"Your Telegram id is <code>{user.id}</code>.\n"
            "If you are a member of staff, tap <b>Request access</b> and a senior leader will decide.",
            ((("Request access", pack("acc", "req")),),),
        )
    except TelegramError:
        stranger_gate(context).release((user.id, ""))  # never reached them: their next message is answered
        raise


async def point_to_private_chat(update: Update, context: Context) -> None:
    """Staff who use a command in a group are answered privately: the group learns nothing of roles."""
    user = update.effective_user
    assert user is not None
    text = "For pupils' privacy I only answer in a private chat, never in a group. Please send that to me here."
    if update.callback_query:
        await update.callback_query.answer(text, show_alert=True)
        return
    try:
        await context.bot.send_message(user.id, text)
    except TelegramError as exc:  # they never opened a private chat with the bot: say nothing anywhere
        log.info("Could not point user %s to a private chat: %s", user.id, type(exc).__name__)


async def tell(update: Update, text: str) -> None:
    """A short answer: an alert on a button press, a reply to a message."""
    if update.callback_query:
        await update.callback_query.answer(text[:200], show_alert=True)
    elif update.effective_message:
        await reply(update, h(text))


async def reply(update: Update, text: str, buttons: Buttons = ()) -> Message:
    """Send HTML `text` (already escaped) to the chat the update came from."""
    chat = update.effective_chat
    assert chat is not None
    return await chat.send_message(text, parse_mode=ParseMode.HTML, reply_markup=keyboard(buttons))


async def show(update: Update, text: str, buttons: Buttons = ()) -> None:
    """Replace the pressed message's content (a button flow), or reply to a typed command."""
    query = update.callback_query
    if query is None or query.message is None or not isinstance(query.message, Message):
        await reply(update, text, buttons)
        return
    try:
        if query.message.photo:
            await query.message.edit_caption(text, parse_mode=ParseMode.HTML, reply_markup=keyboard(buttons))
        else:
            await query.message.edit_text(text, parse_mode=ParseMode.HTML, reply_markup=keyboard(buttons))
    except BadRequest as exc:
        if "not modified" not in exc.message.lower():  # a double tap shows the same thing again
            raise


async def drop_buttons(bot: Bot, chat_id: int, *message_ids: int) -> None:
    """Take the buttons off these messages, leaving their words, once their step is over (0: nothing to tidy)."""
    for message_id in message_ids:
        if not message_id:
            continue
        try:
            await bot.edit_message_reply_markup(chat_id=chat_id, message_id=message_id)
        except TelegramError as exc:  # already without buttons, deleted, or the network: only tidiness is lost
            log.info("Buttons of an old step not removed (%s)", type(exc).__name__)


async def answer(update: Update, text: str | None = None) -> None:
    """Acknowledge a button press so the phone stops its spinner.

    It comes after the press's change is saved: a lost or late answer must not read as a failure.
    """
    if update.callback_query:
        try:
            await update.callback_query.answer(text[:200] if text else None)
        except TelegramError as exc:
            log.warning("Answer to update %s not delivered (%s)", update.update_id, type(exc).__name__)


@dataclass(frozen=True)
class Page:
    lines: list[str]
    number: int
    count: int

    def buttons(self, feature: str, *args: str | int) -> Buttons:
        nav: list[tuple[str, str]] = []
        if self.number > 0:
            nav.append(("‹ Previous", pack(feature, "page", self.number - 1, *args)))
        if self.number + 1 < self.count:
            nav.append(("Next ›", pack(feature, "page", self.number + 1, *args)))
        return (tuple(nav),) if nav else ()

    @property
    def footer(self) -> str:
        return f"\n\n<i>Page {self.number + 1} of {self.count}</i>" if self.count > 1 else ""


def paginate(lines: Sequence[str], number: int, per_page: int = 10, chars: int = PAGE_CHARS) -> Page:
    """Split rendered lines into pages that respect both a count and Telegram's size limit."""
    pages: list[list[str]] = [[]]
    size = 0
    for line in lines:
        if pages[-1] and (len(pages[-1]) >= per_page or size + len(line) + 1 > chars):
            pages.append([])
            size = 0
        pages[-1].append(line)
        size += len(line) + 1
    number = max(0, min(number, len(pages) - 1))
    return Page(pages[number], number, len(pages))


PageRenderer = Callable[[Update, Context, Actor, int], Awaitable[None]]


def paged(
    permission: Permission, action: str, render: PageRenderer
) -> tuple[Callable[[Update, Context], Coroutine[Any, Any, None]], Callable[[Update, Context], Coroutine[Any, Any, None]]]:
    """A list command and its Previous/Next buttons: one role check for both, page 1 first."""

    @staff_only(permission, action=action)
    async def first_page(update: Update, context: Context, actor: Actor) -> None:
        await render(update, context, actor, 0)

    async def other_page(update: Update, context: Context) -> None:
        press = await admit_press(update, context, permission, action=action)
        if press is None:
            return
        await answer(update)
        await render(update, context, press.actor, max(press.callback.int_arg(0) or 0, 0))

    return first_page, other_page


def command_args(context: Context) -> str:
    """The text after the command, as typed."""
    return " ".join(context.args or []).strip()


def log_update_error(update: object, exc: BaseException) -> None:
    """Log a failure with ids and the stack only: message text may name a pupil."""
    if isinstance(update, Update):
        user = update.effective_user.id if update.effective_user else None
        chat = update.effective_chat.id if update.effective_chat else None
        log.error("Update %s from user %s in chat %s failed: %s", update.update_id, user, chat, failure_text(exc))
    else:
        log.error("Background work failed: %s", failure_text(exc))

"""Durable delivery: every important message goes through the outbox and is retried until sent.

This is the one place that turns Telegram's refusals into decisions, and every refusal ends in
one: wait and retry (429, network trouble, 5xx); retry for a bounded time and then tell the
leaders once (someone who never opened the bot or blocked it); send it another way (a picture
Telegram will not take as a photo goes as a file, then as text with a note; HTML Telegram cannot
parse, or text over its limit, goes as shortened plain text); treat as done (an edit that changes
nothing, a message that no longer exists); or cancel (the recipient's access ended or was
lowered since the message was queued: checked right before every send and every edit).

A join-request decision (approve or decline) is an outbox item too: done when Telegram takes it or
no longer has the request; retried after a 429, a 5xx or a failed connection; ended after any other
refusal (400, 403), which whoever asked for it hears once (`on_join_answer`), so a person can act.
"""

from __future__ import annotations

import asyncio
import html
import logging
import re
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update
from telegram.constants import ChatMemberStatus, ChatType, ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.ext import AIORateLimiter, Application, CallbackContext, TypeHandler

from bot.records.audit import SYSTEM
from bot.records.outbox import Buttons, ItemKind, JoinAnswer, OutboxItem, OutboxState
from bot.roles import PERMISSIONS, Permission, Role, allows
from bot.services import Services
from storage.outbox import DISK_REFUSED

log = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(minutes=5)
NETWORK_RETRIES = 2
NETWORK_BACKOFF = 0.2  # seconds, doubled on each retry
FORBIDDEN_BACKOFF = timedelta(minutes=1)
_DONE_EDIT_ERRORS = ("message is not modified", "message to edit not found", "message can't be edited")
# Telegram will not take this picture as a photo (size, dimensions, format, a stale file id).
_PICTURE_REFUSALS = (
    "photo_invalid",
    "photo_save_file_invalid",
    "photo_ext_invalid",
    "photo_content",
    "image_process_failed",
    "wrong file identifier",
    "wrong remote file",
    "wrong type of the web page content",
    "failed to get http url content",
    "can't use file of type",
    "type of file mismatch",
    "file must be non-empty",
    "file is too big",
    "entity too large",
)
_TOO_LARGE = ("entity too large", "file too large")
# The text itself is refused: sent again as plain text inside the limit.
_TEXT_REFUSALS = ("can't parse entities", "message is too long", "caption is too long", "text is empty")
# The copy is not what the edit expects (a text edit of a picture, or the other way round).
_WRONG_KIND = ("there is no text in the message to edit", "there is no caption in the message to edit")
_TAG = re.compile(r"</?[a-zA-Z][^>]*>")
# Telegram no longer has the join request: another admin decided it, it was withdrawn, or they joined.
_JOIN_ALREADY_HANDLED = ("hide_requester_missing", "user_already_participant")
# Told what became of a join-request decision (the item as saved, the answer, Telegram's words).
JoinListener = Callable[[OutboxItem, JoinAnswer, str], None]
MAX_TEXT = 4096
MAX_CAPTION = 1024


# The updater retries polling itself; a callback answer that arrives late is worse than none.
_NOT_RETRIED = frozenset({"getUpdates", "answerCallbackQuery"})


def _certainly_not_done(exc: NetworkError) -> bool:
    """True when Telegram answered with an error (a 5xx) or no connection was made. A dropped answer
    or a time-out may hide a message already sent, and sending it again would show it twice."""
    if isinstance(exc, TimedOut):
        return False
    return not exc.message.startswith("httpx.") or exc.message.startswith("httpx.ConnectError")


class RetryingRateLimiter(AIORateLimiter):
    """PTB's AIORateLimiter waits out 429s; this also retries a 5xx or a failed connection briefly.

    Covers the replies handlers send directly; the outbox keeps retrying important messages for as
    long as it takes. A refusal (400, 403) is an answer, not a fault, and is never retried here.
    `wait_scale` is the share of each wait actually waited (Telegram's retry_after, the network
    back-off): 1 in production; 0 in tests, which still see every retry, just without the pause.
    """

    def __init__(self, *, wait_scale: float = 1.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.wait_scale = wait_scale

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Any]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Any:
        if self.wait_scale != 1:
            callback = self._scaling_retry_after(callback)
        for attempt in range(NETWORK_RETRIES + 1):
            try:
                return await super().process_request(callback, args, kwargs, endpoint, data, rate_limit_args)
            except RetryAfter as exc:  # still refused after AIORateLimiter's retries: say what Telegram said
                said = exc.__cause__ if isinstance(exc.__cause__, RetryAfter) else exc
                raise said from None
            except BadRequest:
                raise
            except NetworkError as exc:
                if attempt == NETWORK_RETRIES or endpoint in _NOT_RETRIED or not _certainly_not_done(exc):
                    raise
                if _refusal(exc, _TOO_LARGE):
                    raise  # Telegram's 413 is a refusal PTB reports as a network error: sending again cannot help
                await asyncio.sleep(NETWORK_BACKOFF * 2**attempt * self.wait_scale)
        raise AssertionError("unreachable")

    def _scaling_retry_after(self, callback: Callable[..., Coroutine[Any, Any, Any]]) -> Callable[..., Coroutine[Any, Any, Any]]:
        """The call with Telegram's retry_after scaled, so AIORateLimiter's own wait (it also holds
        back every other call meanwhile) is scaled too."""

        async def call(*args: Any, **kwargs: Any) -> Any:
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                raise RetryAfter(retry_wait(exc) * self.wait_scale) from exc

        return call


def retry_wait(exc: RetryAfter) -> timedelta:
    """How long Telegram asked us to wait (an int before PTB's timedelta opt-in, a timedelta after)."""
    wait = exc.retry_after
    return wait if isinstance(wait, timedelta) else timedelta(seconds=wait)


def audience_for(role: Role | None, needs: Permission | None = None) -> str:
    """What a message's recipient must still be allowed when it goes out (or is edited).

    With `needs`, that permission; otherwise everything the recipient's role allowed when it
    was queued, so a revocation or a lower role cancels it. "" for someone who is not staff
    (an applicant, a parent): their messages are not role-gated and never hold staff data.
    """
    if needs is not None:
        return f"perm:{needs.name}"
    return f"role:{role.value}" if role is not None else ""


def still_allowed(audience: str, role: Role | None) -> bool:
    """True when someone with `role` may still receive a message queued for `audience`."""
    kind, _, name = audience.partition(":")
    if not audience:
        return True
    if role is None:
        return False
    if kind == "perm" and name in Permission.__members__:
        return allows(role, Permission[name])
    if kind == "role" and name in {r.value for r in Role}:
        return PERMISSIONS[Role(name)] <= PERMISSIONS[role]
    return False


def plain_text(text: str, limit: int) -> str:
    """Our HTML as plain text within `limit` UTF-16 units: the last resort when Telegram refuses it."""
    plain = html.unescape(_TAG.sub("", text)).strip() or "(empty message)"
    if len(plain.encode("utf-16-le")) // 2 <= limit:
        return plain
    while len(plain.encode("utf-16-le")) // 2 > limit - 1:
        plain = plain[: -max(1, (len(plain.encode("utf-16-le")) // 2 - limit) // 2)]
    return plain + "…"


def _refusal(exc: TelegramError, kinds: tuple[str, ...]) -> bool:
    return any(kind in exc.message.lower() for kind in kinds)


def picture_refused(exc: TelegramError) -> bool:
    """True when Telegram will not take a picture as a photo (it may still go as a file)."""
    return _refusal(exc, _PICTURE_REFUSALS)


def keyboard(buttons: Buttons) -> InlineKeyboardMarkup | None:
    if not buttons:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in buttons]
    )


class Delivery:
    """Saves messages before sending them, sends what is due, and edits every copy of a thread."""

    def __init__(self, bot: Bot, services: Services) -> None:
        self.bot = bot
        self.services = services
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[datetime | None] | None = None
        self._join_listener: JoinListener | None = None

    # ---- enqueueing -------------------------------------------------------------------
    def post(
        self,
        key: str,
        chat_id: int,
        text: str,
        buttons: Buttons = (),
        photo: str = "",
        thread: str = "",
        give_up_after: timedelta | None = None,
        needs: Permission | None = None,
        photo_note: str = "",
    ) -> OutboxItem:
        """Save a message for delivery (idempotent by key) and start sending it.

        It is retried until Telegram takes it, or, with `give_up_after`, until it no longer
        matters (Telegram lets a bot write to a join requester for a few minutes only). It goes
        out only while the recipient still holds `needs` (by default: everything their role
        allows now); `photo_note` is added if the picture has to be left out.
        """
        now = self.services.clock.now()
        give_up_at = now + give_up_after if give_up_after else None
        audience = audience_for(self.services.staff.role_of(chat_id), needs)
        item = self.services.outbox.enqueue(
            OutboxItem(
                key, chat_id, text, now, now, buttons=buttons, photo=photo, thread=thread,
                give_up_at=give_up_at, audience=audience, photo_note=photo_note,
            )
        )
        self.kick()
        return item

    def edit_thread(self, thread: str, text: str, buttons: Buttons = ()) -> None:
        """Show new content on every copy of a thread: sent copies are edited, unsent ones rewritten.

        A copy whose holder may no longer see it (access ended or lowered) is left as it was.
        """
        outbox = self.services.outbox
        now = self.services.clock.now()
        for copy in outbox.in_thread(thread):
            if copy.state == OutboxState.PENDING:
                outbox.save(replace(copy, text=text, buttons=buttons))
                continue
            if copy.state != OutboxState.SENT or not self._allowed(copy):
                continue
            body = _with_note(text, copy.photo_note) if copy.delivered_as == "text" else text
            waiting = outbox.pending_edit(copy.chat_id, copy.message_id)
            if waiting:
                outbox.save(replace(waiting, text=body, buttons=buttons))
                continue
            outbox.enqueue(
                OutboxItem(
                    f"{copy.key}:edit:{uuid.uuid4().hex[:12]}",
                    copy.chat_id,
                    body,
                    now,
                    now,
                    buttons=buttons,
                    photo=copy.photo,
                    thread=thread,
                    edit_of=copy.message_id,
                    audience=copy.audience,
                    delivered_as=copy.delivered_as,
                )
            )
        self.kick()

    def thread_copies(self, thread: str) -> list[OutboxItem]:
        return self.services.outbox.in_thread(thread)

    def unreachable(self, chat_id: int) -> bool:
        """True while Telegram will not let us write to this person and we stopped retrying."""
        spell = self.services.outbox.unreachable(chat_id)
        return spell is not None and spell.gave_up

    def decide_join(self, key: str, group: int, user_id: int, approve: bool) -> OutboxItem:
        """Save a decision on a join request to `group` (idempotent by key) and start sending it."""
        now = self.services.clock.now()
        kind = ItemKind.APPROVE_JOIN if approve else ItemKind.DECLINE_JOIN
        item = self.services.outbox.enqueue(OutboxItem(key, group, "", now, now, kind=kind, user_id=user_id))
        self.kick()
        return item

    def on_join_answer(self, listener: JoinListener) -> None:
        """Who hears what became of each join-request decision (the capability that made it)."""
        self._join_listener = listener

    def heard_from(self, chat_id: int) -> None:
        """They wrote to the bot: they can be reached again, and what waits for them goes now."""
        outbox = self.services.outbox
        if not outbox.reachable(chat_id):
            return  # no refusal on record: nothing waits for them
        self._audit("reachable again", chat_id, "ok", "")
        outbox.retry_now(chat_id, self.services.clock.now())
        self.kick()

    # ---- sending ----------------------------------------------------------------------
    def kick(self) -> None:
        """Send what is due in the background, unless a send round is already running."""
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self.flush())

    async def wait(self, timeout: float) -> None:
        """Wait (at most `timeout` seconds) for the send round now due, e.g. to say whether an alert got through."""
        self.kick()
        if self._task is not None:
            await asyncio.wait({self._task}, timeout=timeout)

    @property
    def busy(self) -> bool:
        return self._task is not None and not self._task.done()

    async def flush(self) -> datetime | None:
        """Send every due item once; return when the next retry is due (for the scheduler)."""
        async with self._lock:
            outbox = self.services.outbox
            outbox.save_unsaved()  # what a full disk could not take earlier
            for item in outbox.pending():
                if not self._allowed(item):
                    self._cancel(item)
            tried: set[int] = set()
            while fresh := [i for i in outbox.due(self.services.clock.now()) if i.id not in tried]:
                for item in fresh:  # items saved meanwhile are picked up by the next round
                    tried.add(item.id)
                    await self._attempt(item)
            return outbox.next_attempt()

    def _allowed(self, item: OutboxItem) -> bool:
        return still_allowed(item.audience, self.services.staff.role_of(item.chat_id))

    def _cancel(self, item: OutboxItem) -> None:
        """The recipient's access ended or was lowered after this was queued: it never goes out."""
        log.info("Outbox item %s to chat %s cancelled: the recipient may no longer see it", item.id, item.chat_id)
        self.services.outbox.save(replace(item, state=OutboxState.CANCELLED, last_error="recipient no longer allowed"))
        self._audit("delivery cancelled", item.chat_id, "cancelled: access ended or lowered", f"outbox {item.key}")

    async def _attempt(self, item: OutboxItem) -> None:
        outbox = self.services.outbox
        now = self.services.clock.now()
        if not self._allowed(item):  # checked again right before sending: roles change at any time
            self._cancel(item)
            return
        if item.kind is not ItemKind.MESSAGE:
            await self._answer_join(item, now)
            return
        try:
            message_id, delivered_as = await self._send(item)
        except RetryAfter as exc:
            wait = retry_wait(exc)
            outbox.save(self._retry(item, now, wait, "rate limited"))
        except Forbidden:
            self._unreachable(item, now, "forbidden")
        except BadRequest as exc:
            if item.edit_of and _refusal(exc, _DONE_EDIT_ERRORS):
                outbox.save(replace(item, state=OutboxState.SENT, attempts=item.attempts + 1, sent_at=now))
            elif "chat not found" in exc.message.lower():
                self._unreachable(item, now, "chat not found")
            else:
                self._failed(item, exc.message)
        except (NetworkError, TelegramError) as exc:
            outbox.save(self._retry(item, now, self._backoff(item), f"network: {type(exc).__name__}"))
        else:
            # A delivered message keeps only what later edits need: its text and buttons were the
            # bulk of the outbox file, which is rewritten on every change. If the disk refuses this
            # record, memory keeps it (so the message is never sent twice) until a write works.
            sent = replace(item, state=OutboxState.SENT, attempts=item.attempts + 1, sent_at=now, message_id=message_id)
            outbox.save(replace(sent, text="", buttons=(), delivered_as=delivered_as))
            if outbox.unreachable(item.chat_id):
                outbox.reachable(item.chat_id)

    async def _answer_join(self, item: OutboxItem, now: datetime) -> None:
        """Approve or decline a join request; each of Telegram's answers ends in one outcome."""
        try:
            if item.kind is ItemKind.APPROVE_JOIN:
                await self.bot.approve_chat_join_request(item.chat_id, item.user_id)
            else:
                await self.bot.decline_chat_join_request(item.chat_id, item.user_id)
        except RetryAfter as exc:
            self._join_answered(self._retry(item, now, retry_wait(exc), "rate limited"), JoinAnswer.RETRYING, "rate limited")
        except (BadRequest, Forbidden) as exc:  # Telegram's answer, not a fault: sending again cannot change it
            if _refusal(exc, _JOIN_ALREADY_HANDLED):
                self._join_answered(self._sent(item, now), JoinAnswer.ALREADY_HANDLED, exc.message)
                return
            log.warning("Join request decision %s refused by Telegram: %s", item.key, exc.message)
            refused = replace(item, state=OutboxState.FAILED, attempts=item.attempts + 1, last_error=f"refused: {exc.message}")
            self._join_answered(refused, JoinAnswer.REFUSED, exc.message)
        except TelegramError as exc:  # a 5xx or no connection: the decision stands, Telegram has not heard it yet
            retry = self._retry(item, now, self._backoff(item), f"network: {type(exc).__name__}")
            self._join_answered(retry, JoinAnswer.RETRYING, type(exc).__name__)
        else:
            self._join_answered(self._sent(item, now), JoinAnswer.DONE, "")

    def _sent(self, item: OutboxItem, now: datetime) -> OutboxItem:
        return replace(item, state=OutboxState.SENT, attempts=item.attempts + 1, sent_at=now)

    def _join_answered(self, item: OutboxItem, answer: JoinAnswer, detail: str) -> None:
        """Save what became of the decision, then tell the capability that made it."""
        self.services.outbox.save(item)
        if self._join_listener is not None:
            self._join_listener(item, answer, detail)

    def _failed(self, item: OutboxItem, error: str) -> None:
        """Telegram refused the message itself, and every other way of sending it: a bug, said loudly."""
        log.error("Outbox item %s to chat %s refused by Telegram: %s", item.id, item.chat_id, error)
        self.services.outbox.save(replace(item, state=OutboxState.FAILED, attempts=item.attempts + 1, last_error=error))
        self._audit("delivery failed", item.chat_id, "failed: refused by Telegram", f"outbox {item.key}")

    def _unreachable(self, item: OutboxItem, now: datetime, error: str) -> None:
        """Telegram will not let us write to them: retry for a bounded time, then stop and tell the leaders."""
        outbox = self.services.outbox
        spell = outbox.note_refused(item.chat_id, now)
        deadline = spell.since + timedelta(minutes=self.services.config.delivery.give_up_after_minutes)
        if item.give_up_at is not None:
            deadline = min(deadline, item.give_up_at)
        if not spell.gave_up and now < deadline:
            log.warning("Outbox item %s to chat %s not delivered (%s); retrying", item.id, item.chat_id, error)
            wait_until = min(now + FORBIDDEN_BACKOFF, deadline)
            outbox.save(replace(item, attempts=item.attempts + 1, next_attempt_at=wait_until, last_error=error))
            return
        log.warning("Outbox item %s to chat %s given up: they cannot be reached (%s)", item.id, item.chat_id, error)
        outbox.save(replace(item, state=OutboxState.FAILED, attempts=item.attempts + 1, last_error=f"gave up: {error}"))
        if item.give_up_at is None:
            self._tell_leaders_unreachable(item.chat_id, now)

    def _tell_leaders_unreachable(self, chat_id: int, now: datetime) -> None:
        """Once a spell: the leaders hear, in plain words, who cannot be reached and what to do."""
        outbox = self.services.outbox
        if not outbox.give_up_on(chat_id, now):
            return
        member = self.services.staff.get(chat_id)
        if member is None or member.role is None:
            self._audit("unreachable", chat_id, "gave up", "not staff: nobody told")
            return
        self._audit("unreachable", chat_id, "gave up", "leaders told")
        minutes = self.services.config.delivery.give_up_after_minutes
        who = html.escape(member.name or "someone who has not written to me yet", quote=False)
        text = (
            f"⚠️ <b>I cannot reach {who}</b> ({member.role.label}, Telegram id <code>{chat_id}</code>). "
            f"My messages to them have not arrived for {minutes} minutes: they have not opened a chat "
            "with me, or they have blocked me.\n"
            "Please ask them to open me in Telegram and send /start. Until they do, I stop sending "
            "them messages that can wait, such as the daily moderation nudge."
        )
        spell = outbox.unreachable(chat_id)
        started = int(spell.since.timestamp()) if spell else 0
        leaders = self.services.staff.leaders()
        for leader in leaders:
            if leader == chat_id:
                continue
            try:
                self.post(f"unreachable:{chat_id}:{started}:{leader}", leader, text, needs=Permission.MANAGE_STAFF)
            except DISK_REFUSED:
                log.warning("The notice that chat %s cannot be reached could not be queued", chat_id)
                return

    def _audit(self, action: str, chat_id: int, outcome: str, detail: str) -> None:
        """Delivery's own audit lines: ids and outbox keys only, never a message's text."""
        try:
            self.services.audit(SYSTEM, action, f"user {chat_id}", outcome=outcome, detail=detail)
        except DISK_REFUSED:
            log.warning("Audit line %r for chat %s not written: the disk refused it", action, chat_id)

    def _backoff(self, item: OutboxItem) -> timedelta:
        return min(timedelta(seconds=5 * 2**item.attempts), MAX_BACKOFF)

    def _retry(self, item: OutboxItem, now: datetime, wait: timedelta, error: str) -> OutboxItem:
        if item.give_up_at and now + wait > item.give_up_at:
            log.warning("Outbox item %s to chat %s given up (%s)", item.id, item.chat_id, error)
            return replace(item, state=OutboxState.FAILED, attempts=item.attempts + 1, last_error=f"gave up: {error}")
        log.warning("Outbox item %s to chat %s not delivered (%s); retrying", item.id, item.chat_id, error)
        return replace(item, attempts=item.attempts + 1, next_attempt_at=now + wait, last_error=error)

    # ---- the Bot API calls, each with its fallback ---------------------------------------------
    async def _send(self, item: OutboxItem) -> tuple[int, str]:
        """Send or edit; returns the message id and how a picture went out (photo, document, text)."""
        markup = keyboard(item.buttons)
        if item.edit_of:
            await self._edit(item, markup)
            return item.edit_of, item.delivered_as
        if item.photo:
            return await self._send_picture(item, markup)
        return await self._send_text(item.chat_id, item.text, markup), ""

    async def _send_text(self, chat_id: int, text: str, markup: InlineKeyboardMarkup | None) -> int:
        try:
            message = await self.bot.send_message(chat_id, text, parse_mode=ParseMode.HTML, reply_markup=markup)
        except BadRequest as exc:
            if not _refusal(exc, _TEXT_REFUSALS):
                raise
            log.error("Telegram refused a message to chat %s (%s); sent as plain text", chat_id, exc.message)
            message = await self.bot.send_message(chat_id, plain_text(text, MAX_TEXT), parse_mode=None, reply_markup=markup)
        return message.message_id

    async def _send_picture(self, item: OutboxItem, markup: InlineKeyboardMarkup | None) -> tuple[int, str]:
        """As a photo; if Telegram will not take it as one, as a file; else as text with the note."""
        stored: bytes | None = None
        if item.photo.startswith("evidence/"):
            path = self.services.db.data_dir / item.photo
            try:  # read here: PTB would report a missing file as a network error, retried for ever
                stored = path.read_bytes()
            except OSError as exc:
                log.error("Outbox item %s: the stored picture cannot be read (%s)", item.id, type(exc).__name__)
                return await self._send_text(item.chat_id, _with_note(item.text, item.photo_note), markup), "text"
        senders = (("photo", self.bot.send_photo), ("document", self.bot.send_document))
        for kind, send in senders:
            picture = InputFile(stored, filename=Path(item.photo).name) if stored is not None else item.photo
            try:
                message = await send(
                    item.chat_id, picture, caption=item.text, parse_mode=ParseMode.HTML, reply_markup=markup
                )
                return message.message_id, kind
            except BadRequest as exc:
                if not _refusal(exc, _PICTURE_REFUSALS + _TEXT_REFUSALS):
                    raise
                why = exc.message
            except NetworkError as exc:  # PTB reports Telegram's 413 (file too large) as a network error
                if not _refusal(exc, _TOO_LARGE):
                    raise
                why = exc.message
            log.warning("Outbox item %s: the picture was not taken as a %s (%s)", item.id, kind, why)
        return await self._send_text(item.chat_id, _with_note(item.text, item.photo_note), markup), "text"

    async def _edit(self, item: OutboxItem, markup: InlineKeyboardMarkup | None) -> None:
        """Edit a copy; a copy of the other kind, or text Telegram refuses, gets a second try."""
        text, caption = item.text, item.is_caption
        mode: ParseMode | None = ParseMode.HTML
        for last_try in (False, False, True):
            try:
                if caption:
                    await self.bot.edit_message_caption(
                        item.chat_id, item.edit_of, caption=text, parse_mode=mode, reply_markup=markup
                    )
                else:
                    await self.bot.edit_message_text(text, item.chat_id, item.edit_of, parse_mode=mode, reply_markup=markup)
                return
            except BadRequest as exc:
                if last_try:
                    raise
                if _refusal(exc, _WRONG_KIND):
                    caption = not caption
                elif mode is not None and _refusal(exc, _TEXT_REFUSALS):
                    log.error("Telegram refused an edit in chat %s (%s); sent as plain text", item.chat_id, exc.message)
                    text, mode = plain_text(text, MAX_CAPTION if caption else MAX_TEXT), None
                else:
                    raise


def _with_note(text: str, note: str) -> str:
    return f"{text}\n\n{note}" if note else text


def register(application: Application, delivery: Delivery) -> None:
    """Before any feature sees an update: someone writing to the bot in private can be reached again."""

    async def heard(update: Update, context: CallbackContext) -> None:
        chat, user = update.effective_chat, update.effective_user
        member = update.my_chat_member
        if chat is None or user is None or chat.type != ChatType.PRIVATE:
            return
        if member is not None and member.new_chat_member.status == ChatMemberStatus.BANNED:
            return  # they just blocked the bot
        delivery.heard_from(user.id)

    application.add_handler(TypeHandler(Update, heard), group=-1)

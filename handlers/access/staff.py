"""/start, /help, and who has access: SLT's /grant, /revoke and /staff, risky changes asked again first."""

from __future__ import annotations

import uuid

from telegram import Update
from telegram.constants import ChatAction
from telegram.error import TelegramError

from bot.numbers import TELEGRAM_USER_ID_MAX, parse_user_id
from bot.records.outbox import Buttons
from bot.roles import GRANTABLE, Permission, Role, parse_role
from bot.shell.callbacks import pack
from bot.shell.ticker import Runtime, runtime
from bot.staff import AccessChange, staff_name
from bot.wording import a_role, role_name, you_are
from handlers import confirmations
from handlers.common import (
    Actor,
    Context,
    admit_press,
    answer,
    clip,
    command_args,
    h,
    paged,
    reply,
    show,
    staff_only,
)
from handlers.confirmations import Question, Reply
from handlers.menu import MenuCommand, daily_groups, more_commands, more_groups, refresh_menu
from handlers.paging import page_of

GRANT_USAGE = (
    "Usage: <code>/grant ID ROLE</code>, where ROLE is one of "
    + ", ".join(f"<code>{r.value}</code>" for r in GRANTABLE)
    + ". Someone without access sees their id when they first message me."
)
REVOKE_USAGE = "Usage: <code>/revoke ID</code> (see /staff for ids)."


@staff_only(action="start")
async def start(update: Update, context: Context, actor: Actor) -> None:
    """A first hello: staff see what they can do (strangers get the polite refusal from the role check)."""
    await refresh_menu(context.bot, runtime(context).menu, actor.user_id, actor.role)
    await reply(update, *help_page(runtime(context), actor.role, actor.user_id, more=False))


@staff_only(action="help")
async def help_command(update: Update, context: Context, actor: Actor) -> None:
    """The handful of commands this role uses every day, grouped, with "More" for the rest (private chats only)."""
    await reply(update, *help_page(runtime(context), actor.role, actor.user_id, more=False))


async def help_press(update: Update, context: Context) -> None:
    """ "More" or "Back" under /help: the same message shows the other page, for the role the person has now."""
    press = await admit_press(update, context, None, action="help")
    if press is None:
        return
    await show(update, *help_page(runtime(context), press.actor.role, press.actor.user_id, more=press.callback.action == "more"))
    await answer(update)


def help_page(rt: Runtime, role: Role, user_id: int, *, more: bool) -> tuple[str, Buttons]:
    """/help's everyday page (grouped) or its "More" page, and the button to the other one."""
    lines = [f"<b>{h(rt.services.config.school.name)}: social media assistant</b>", you_are(role)]
    for title, commands in more_groups(rt.menu, role, user_id) if more else daily_groups(rt.menu, role, user_id):
        lines += ["", f"<b>{h(title)}</b>"] + [_line(c) for c in commands]
    if more:
        return "\n".join(lines), ((("‹ Back", pack("help", "less")),),)
    rest = more_commands(rt.menu, role, user_id)
    buttons: Buttons = ((("More commands ›", pack("help", "more")),),) if rest else ()
    return "\n".join(lines), buttons


def _line(command: MenuCommand) -> str:
    return f"/{command.command} — {h(command.description)}"


def _not_an_id(text: str, usage: str) -> str:
    return (
        f"“{h(clip(text, 24))}” is not a Telegram user id: ids are whole numbers from 1 to "
        f"{TELEGRAM_USER_ID_MAX}, written with the digits 0–9.\n{usage}"
    )


@staff_only(Permission.MANAGE_STAFF)
async def grant(update: Update, context: Context, actor: Actor) -> None:
    """SLT or Head gives someone a role by Telegram id; risky changes are asked again first."""
    args = context.args or []
    role = parse_role(args[1]) if len(args) == 2 else None
    if len(args) != 2 or role is None:
        await reply(update, f"“{h(clip(args[1], 24))}” is not a role.\n{GRANT_USAGE}" if len(args) == 2 else GRANT_USAGE)
        return
    target = parse_user_id(args[0])
    if target is None:
        await reply(update, _not_an_id(args[0], GRANT_USAGE))
        return
    rt = runtime(context)
    opened = await opened_bot(context, target)
    result = rt.services.staff_access.grant(actor.user_id, target, role, opened_bot=opened)
    await _after_change(update, context, result, "grant", role.value, f"Yes, make {_short_name(rt, target)} {a_role(role)}")


@staff_only(Permission.MANAGE_STAFF)
async def revoke(update: Update, context: Context, actor: Actor) -> None:
    """SLT or Head removes someone's access, always asked once more: it cannot be undone by them."""
    arg = command_args(context)
    target = parse_user_id(arg)
    if target is None:
        await reply(update, _not_an_id(arg, REVOKE_USAGE) if arg else REVOKE_USAGE)
        return
    rt = runtime(context)
    result = rt.services.staff_access.revoke(actor.user_id, target)
    await _after_change(update, context, result, "revoke", "", f"Yes, revoke {_short_name(rt, target)}'s access")


def _short_name(rt: Runtime, user_id: int) -> str:
    """A name short enough for a button label (the question above it has the whole name)."""
    return clip(staff_name(rt.services.staff, user_id), 24)


def _basis(rt: Runtime, user_id: int) -> str:
    """What a grant or revoke was asked about: the person's role then. A Yes is honoured only while it is unchanged."""
    role = rt.services.staff.role_of(user_id)
    return role.value if role else "none"


async def confirm_change(update: Update, context: Context) -> None:
    """Yes under a grant or revoke question: honoured once, for the one asked, in time, while nothing changed meanwhile."""
    press = await admit_press(update, context, Permission.MANAGE_STAFF, action="confirm access change")
    if press is None:
        return
    rt = runtime(context)
    token = press.callback.args[0] if press.callback.args else ""
    said, question = confirmations.take(context, token, rt.services.clock.now(), ("grant", "revoke"))
    if said is not Reply.YES or question is None:
        await _not_now(update, context, press.actor, said, question)
        return
    if _basis(rt, question.target) != question.basis:
        who = staff_name(rt.services.staff, question.target)
        target = f"user {question.target}"
        rt.services.audit(press.actor.user_id, f"confirm {question.what}", target, outcome="refused: out of date")
        await show(update, h(f"Nothing changed: {who}'s access changed since you were asked. ") + _again(question))
        await answer(update)
        return
    access = rt.services.staff_access
    role = parse_role(question.detail)
    try:
        if question.what == "grant" and role is not None:
            result = access.grant(press.actor.user_id, question.target, role, confirmed=True)
        else:
            result = access.revoke(press.actor.user_id, question.target, confirmed=True)
    except Exception:
        confirmations.reopen(context, token)  # nothing was done: the same Yes may be tapped again
        raise
    await _after_change(update, context, result, "", "", "")
    await answer(update)


async def _not_now(update: Update, context: Context, actor: Actor, said: Reply, question: Question | None) -> None:
    """A Yes that does nothing, and why: a second tap, a question too old, or data never asked of them."""
    if said is Reply.ANSWERED:
        await answer(update, "Already answered: nothing more changed.")
        return
    if said is Reply.EXPIRED and question is not None:
        await show(update, f"This question has expired: nothing changed. {_again(question)}")
        await answer(update)
        return
    runtime(context).services.audit(actor.user_id, "confirm access change", outcome="refused: not asked")
    await answer(update, "This button has expired: nothing changed.")


def _again(question: Question) -> str:
    if question.what == "grant":
        return f"Send <code>/grant {question.target} {h(question.detail)}</code> to ask again."
    return f"Send <code>/revoke {question.target}</code> to ask again."


async def cancel_change(update: Update, context: Context) -> None:
    """Cancel under a grant or revoke question: nothing changes, and its Yes no longer works."""
    press = await admit_press(update, context, Permission.MANAGE_STAFF, action="cancel access change")
    if press is None:
        return
    if press.callback.args:
        confirmations.drop(context, press.callback.args[0])
    await show(update, "Cancelled: nothing changed.")
    await answer(update)


async def _after_change(update: Update, context: Context, result: AccessChange, what: str, detail: str, yes: str) -> None:
    """Ask the question (Yes and Cancel on the same message), or tell the person and refresh their menu, then show the outcome."""
    if result.question:
        rt = runtime(context)
        question = Question(what, result.target_id, detail, _basis(rt, result.target_id), rt.services.clock.now())
        token = confirmations.ask(context, question)
        await show(update, h(result.question), confirmations.buttons("acc", token, yes))
        return
    if result.ok:  # told before the reply: a lost reply must not leave the person untold
        await tell_of_change(context, result)
    await show(update, h(result.message))


async def tell_of_change(context: Context, change: AccessChange) -> None:
    """The person hears of a change once, in plain words, and their menu follows their new role."""
    rt = runtime(context)
    if not await opened_bot(context, change.target_id):
        return  # Telegram lets no bot write first; at /start they see what their role allows
    school = rt.services.config.school.name
    if change.role is None:
        text = (
            f"Your access to the {school} social media assistant has ended. "
            "If you think this is a mistake, please speak to the Head Teacher."
        )
    elif change.previous is None:
        text = f"You now have access as {a_role(change.role)}. Send /help to see what you can do."
    else:
        text = f"Your access has changed: you are now {a_role(change.role)}. Send /help to see what you can do."
    tell_person(rt, change.target_id, text)
    await refresh_menu(context.bot, rt.menu, change.target_id, change.role)


async def opened_bot(context: Context, user_id: int) -> bool:
    """Whether this person has a private chat with the bot. Telegram refuses a bot's first word, so
    a chat action (a brief "typing…") tells, when storage has not seen them."""
    if runtime(context).services.staff.has_chat(user_id):
        return True
    try:
        await context.bot.send_chat_action(user_id, ChatAction.TYPING)
    except TelegramError:
        return False
    return True


async def show_staff(update: Update, context: Context, actor: Actor, number: int) -> None:
    """Everyone with access, grouped by role, a page at a time."""
    members = sorted(
        runtime(context).services.staff.active(), key=lambda m: (list(Role).index(m.role) if m.role else len(Role), m.name)
    )
    lines = [f"• {h(m.name or 'not yet seen')} — <code>{m.user_id}</code> — {role_name(m.role)}" for m in members if m.role]
    page = page_of(lines, number, per_page=15)  # measured as Telegram does: names can be 128 emoji
    await show(update, "<b>Staff with access</b>\n" + "\n".join(page.lines) + page.footer, page.buttons("staff"))


staff_list, staff_page = paged(Permission.MANAGE_STAFF, "staff list", show_staff)


def tell_person(rt: Runtime, user_id: int, text: str) -> None:
    """A plain message through the outbox under a key of its own: each telling is sent once, none dropped as a repeat."""
    rt.delivery.post(f"tell:{user_id}:{uuid.uuid4().hex}", user_id, h(text))

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
from bot.staff import AccessChange
from bot.wording import a_role, role_name, you_are
from handlers.common import (
    Actor,
    Context,
    admit_numbered,
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
from handlers.menu import MenuCommand, daily_groups, more_commands, refresh_menu
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
    await reply(update, *help_page(runtime(context), actor.role, more=False))


@staff_only(action="help")
async def help_command(update: Update, context: Context, actor: Actor) -> None:
    """The handful of commands this role uses every day, grouped, with "More" for the rest (private chats only)."""
    await reply(update, *help_page(runtime(context), actor.role, more=False))


async def help_press(update: Update, context: Context) -> None:
    """ "More" or "Back" under /help: the same message shows the other page, for the role the person has now."""
    press = await admit_press(update, context, None, action="help")
    if press is None:
        return
    await show(update, *help_page(runtime(context), press.actor.role, more=press.callback.action == "more"))
    await answer(update)


def help_page(rt: Runtime, role: Role, *, more: bool) -> tuple[str, Buttons]:
    """/help's everyday page (grouped) or its "More" page, and the button to the other one."""
    lines = [f"<b>{h(rt.services.config.school.name)}: social media assistant</b>", you_are(role)]
    if more:
        lines += ["", "<b>More commands</b>"] + [_line(c) for c in more_commands(rt.menu, role)]
        return "\n".join(lines), ((("‹ Back", pack("help", "less")),),)
    for title, commands in daily_groups(rt.menu, role):
        lines += ["", f"<b>{h(title)}</b>"] + [_line(c) for c in commands]
    rest = more_commands(rt.menu, role)
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
    await _after_change(update, context, result, pack("acc", "gr", target, role.value), "Yes, grant")


@staff_only(Permission.MANAGE_STAFF)
async def revoke(update: Update, context: Context, actor: Actor) -> None:
    """SLT or Head removes someone's access; their own or the last other leader's is asked again first."""
    arg = command_args(context)
    target = parse_user_id(arg)
    if target is None:
        await reply(update, _not_an_id(arg, REVOKE_USAGE) if arg else REVOKE_USAGE)
        return
    result = runtime(context).services.staff_access.revoke(actor.user_id, target)
    await _after_change(update, context, result, pack("acc", "rv", target), "Yes, remove access")


async def confirm_change(update: Update, context: Context) -> None:
    """The second tap on a risky grant or revoke: the rules are checked again, now confirmed."""
    press = await admit_numbered(update, context, Permission.MANAGE_STAFF, action="confirm access change")
    if press is None:
        return
    target = press.number
    access = runtime(context).services.staff_access
    role = parse_role(press.callback.args[1]) if len(press.callback.args) > 1 else None
    if press.callback.action == "gr" and role is not None:
        result = access.grant(press.actor.user_id, target, role, confirmed=True)
    elif press.callback.action == "rv":
        result = access.revoke(press.actor.user_id, target, confirmed=True)
    else:
        await answer(update, "This button has expired.")
        return
    await _after_change(update, context, result, "", "")
    await answer(update)


async def cancel_change(update: Update, context: Context) -> None:
    """Cancel on a risky grant or revoke: nothing changes."""
    if await admit_press(update, context, Permission.MANAGE_STAFF, action="cancel access change") is None:
        return
    await show(update, "Cancelled: nothing changed.")
    await answer(update)


async def _after_change(update: Update, context: Context, result: AccessChange, confirm_data: str, yes: str) -> None:
    """Ask the question, or tell the person and refresh their menu, then show the outcome."""
    if result.question:
        buttons: Buttons = (((yes, confirm_data), ("Cancel", pack("acc", "cancel"))),)
        await show(update, h(result.question), buttons)
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

"""Start, help, and staff access: /grant, /revoke, /staff, and strangers' access requests."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Coroutine
from typing import Any

from telegram import Update
from telegram.constants import ChatAction, ChatMemberStatus
from telegram.error import TelegramError
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ConversationHandler, MessageHandler, filters

from bot.clock import show_time
from bot.numbers import TELEGRAM_USER_ID_MAX, parse_user_id
from bot.records.outbox import Buttons
from bot.records.staff import AccessRequest
from bot.roles import GRANTABLE, PERMISSIONS, Permission, Role, parse_role
from bot.shell.callbacks import pack
from bot.shell.ticker import Runtime, runtime
from bot.staff import AccessChange, RequestState, staff_name
from handlers.common import (
    Actor,
    Context,
    admit_numbered,
    admit_press,
    answer,
    clip,
    command_args,
    h,
    is_private,
    paged,
    refuse_stranger,
    reply,
    show,
    staff_only,
    stranger_may_be_answered,
    tell,
)
from handlers.menu import MenuCommand, commands_for, refresh_menu
from handlers.paging import page_of

FLOW_ROLES = "flow_roles"  # per person: the role each open flow began with
# The enum a person's flow state keeps between messages and across a restart (bot.shell.persistence).
FLOW_STATE = (Role,)

COMMANDS = (
    MenuCommand("help", "What I can do for you", None),
    MenuCommand("staff", "Who has access, by role", Permission.MANAGE_STAFF),
    MenuCommand("grant", "Give someone a role: /grant ID ROLE", Permission.MANAGE_STAFF),
    MenuCommand("revoke", "Remove someone's access: /revoke ID", Permission.MANAGE_STAFF),
)

GRANT_USAGE = (
    "Usage: <code>/grant ID ROLE</code>, where ROLE is one of "
    + ", ".join(f"<code>{r.value}</code>" for r in GRANTABLE)
    + ". People see their id when they first message me."
)
REVOKE_USAGE = "Usage: <code>/revoke ID</code> (see /staff for ids)."
_IN_GROUP = {"yes": "yes", "no": "no", "unknown": "unknown (I could not check)", "none": "unknown (no parents' group is set up)"}


@staff_only(action="start")
async def start(update: Update, context: Context, actor: Actor) -> None:
    """A first hello: staff see what they can do (strangers get the polite refusal from the role check)."""
    await refresh_menu(context.bot, runtime(context).menu, actor.user_id, actor.role)
    await _help(update, context, actor)


@staff_only(action="help")
async def help_command(update: Update, context: Context, actor: Actor) -> None:
    """Lists the commands this person's role allows (in a private chat only: a group learns no roles)."""
    await _help(update, context, actor)


async def _help(update: Update, context: Context, actor: Actor) -> None:
    rt = runtime(context)
    lines = [f"<b>{h(rt.services.config.school.name)}: social media assistant</b>", f"You are {actor.role.label}.", ""]
    lines += [f"/{c.command} — {h(c.description)}" for c in commands_for(rt.menu, actor.role)]
    await reply(update, "\n".join(lines))


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
        text = f"You now have access as {change.role.label}. Send /help to see what you can do."
    else:
        text = f"Your access has changed: you are now {change.role.label}. Send /help to see what you can do."
    _tell_person(rt, change.target_id, text)
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
    lines = [f"• {h(m.name or 'not yet seen')} — <code>{m.user_id}</code> — {m.role.label}" for m in members if m.role]
    page = page_of(lines, number, per_page=15)  # measured as Telegram does: names can be 128 emoji
    await show(update, "<b>Staff with access</b>\n" + "\n".join(page.lines) + page.footer, page.buttons("staff"))


staff_list, staff_page = paged(Permission.MANAGE_STAFF, "staff list", show_staff)


# ---- strangers asking for access ----------------------------------------------------------------


async def in_parents_group(context: Context, user_id: int) -> str:
    """What Telegram says about this person and the parents' group: yes, no, unknown or none."""
    group = runtime(context).services.config.applications.group_chat_id
    if not group:
        return "none"
    try:
        member = await context.bot.get_chat_member(group, user_id)
    except TelegramError:
        return "unknown"
    inside = member.status in (ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.MEMBER)
    return "yes" if inside or getattr(member, "is_member", False) else "no"


def request_card(rt: Runtime, request: AccessRequest) -> str:
    """What the stranger claims, apart from what Telegram tells the bot, for the leaders to check."""
    username = f"@{h(request.username)}" if request.username else "none"
    asked = show_time(request.requested_at, rt.services.config.school.timezone)
    twins = [m for m in rt.services.staff_access.namesakes(request.name) if m.user_id != request.user_id]
    warning = ""
    if twins:  # the name of someone who already has access: perhaps them on a new phone, perhaps not
        who = ", ".join(f"{h(m.name)} ({m.role.label if m.role else ''}, id <code>{m.user_id}</code>)" for m in twins[:3])
        warning = f"⚠️ <b>Staff already has this name:</b> {who}. Someone may be posing as them: ask that person directly.\n"
    return (
        "<b>Access request</b>\n"
        f"<i>They say they are</i> (a Telegram name anyone can choose): <b>{h(request.name)}</b>\n"
        f"{warning}"
        "<i>What Telegram tells me:</i>\n"
        f"• Telegram id <code>{request.user_id}</code>\n"
        f"• Username: {username}\n"
        f"• In the parents' group: {_IN_GROUP.get(request.in_group, 'unknown')}\n"
        f"Asked {asked}. Check with them in person or by a number the school holds before giving access."
    )


def request_buttons(user_id: int) -> Buttons:
    return (
        (("Make admin", pack("acc", "ok", user_id, "admin")), ("Make office", pack("acc", "ok", user_id, "office"))),
        (("Decline", pack("acc", "no", user_id)),),
    )


async def request_access(update: Update, context: Context) -> None:
    """A stranger taps "Request access": SLT and the Head get a card to decide, once per cool-down."""
    user = update.effective_user
    if user is None or update.callback_query is None:
        return
    rt = runtime(context)
    if rt.services.staff.role_of(user.id) is not None:
        await answer(update, "You already have access. Send /help.")
        return
    outcome = rt.services.staff_access.request_access(
        user.id, user.full_name, user.username or "", await in_parents_group(context, user.id)
    )
    if outcome.state is not RequestState.NEW:
        # Repeated taps are a stranger's messages like any other: answered once per window.
        refused = f"refused: {outcome.state.value}"
        if not stranger_may_be_answered(update, context, "request access", refused, kind="request"):
            return
        if outcome.state is RequestState.WAITING:
            await answer(update, "Your request is already with the senior leaders.")
        elif outcome.state is RequestState.BUSY:
            await answer(update)
            await reply(update, "The senior leaders have many requests to look at just now. Please try again in a day or two.")
        else:
            declined = outcome.request.decided_at or outcome.request.requested_at
            await answer(update)
            await reply(
                update,
                f"Your request was declined on {show_time(declined, rt.services.config.school.timezone)}. "
                "If you are a member of staff, please ask a member of staff you know to speak to a senior leader.",
            )
        return
    request = outcome.request
    for leader in rt.services.staff.leaders():
        rt.delivery.post(
            f"access:{user.id}:{request.requested_at.timestamp()}:{leader}",
            leader,
            request_card(rt, request),
            request_buttons(user.id),
            thread=f"access:{user.id}",
        )
    # Answered after the cards are queued: a lost answer must not lose the request (a second tap
    # finds it "already with the senior leaders").
    await answer(update, "Request sent.")
    await show(update, "Thank you. Your request has been sent to the senior leaders; I will tell you their decision.")


async def decide_request(update: Update, context: Context) -> None:
    """SLT or Head on an access request card: Make admin/office asks once more; Yes grants; Decline declines."""
    press = await admit_numbered(update, context, Permission.MANAGE_STAFF, action="decide access request")
    if press is None:
        return
    actor, callback, target = press.actor, press.callback, press.number
    rt = runtime(context)
    pending = rt.services.staff.pending_request(target)
    if pending is None:
        last = rt.services.staff.last_request(target)
        decider = staff_name(rt.services.staff, last.decided_by) if last else "someone else"
        await answer(update, f"Already decided by {decider}.")
        return
    access = rt.services.staff_access
    role = parse_role(callback.args[1]) if len(callback.args) > 1 else None
    if callback.action in ("ok", "yes") and role not in (Role.ADMIN, Role.OFFICE):
        await answer(update, "This button has expired.")
        return
    if callback.action == "ok" and role is not None:  # the first tap: only this leader's card asks
        await show(
            update,
            request_card(rt, pending) + f"\n\n<b>Make {h(pending.name)} {role.label}?</b> "
            "They will see what that role sees, including pupils' names.",
            ((("Yes, make " + role.value, pack("acc", "yes", target, role.value)), ("Back", pack("acc", "back", target))),),
        )
        await answer(update)
        return
    if callback.action == "back":
        await show(update, request_card(rt, pending), request_buttons(target))
        await answer(update)
        return
    if callback.action == "yes" and role is not None:
        result = access.grant(actor.user_id, target, role, confirmed=True)
        if not result.ok:
            await answer(update, result.message)
            return
        outcome = f"made {role.label}"
        _tell_person(rt, target, f"Your access request was approved: you are now {role.label}. Send /help.")
        await refresh_menu(context.bot, rt.menu, target, role)
    else:
        access.decline_request(actor.user_id, target)
        outcome = "declined"
        _tell_person(rt, target, "Sorry, your access request was declined.")
    when = show_time(rt.services.clock.now(), rt.services.config.school.timezone)
    rt.delivery.edit_thread(
        f"access:{target}",
        f"<b>Access request</b>\n{h(pending.name)} — <code>{target}</code>\n"
        f"✔️ {outcome.capitalize()} by {h(actor.name)} at {when}",
    )
    await answer(update, "Done.")  # after every card is queued for its edit: a lost answer loses nothing


def _tell_person(rt: Runtime, user_id: int, text: str) -> None:
    rt.delivery.post(f"tell:{user_id}:{uuid.uuid4().hex}", user_id, h(text))


# ---- what nothing else handled --------------------------------------------------------------------


async def unknown_message(update: Update, context: Context) -> None:
    """Anything no feature understood: strangers get the refusal, staff a pointer to /help."""
    if not is_private(update) or update.effective_user is None:
        return  # never chatter in groups
    rt = runtime(context)
    if rt.services.staff.role_of(update.effective_user.id) is None:
        await refuse_stranger(update, context, action="message")
        return
    await reply(update, "Sorry, I didn't understand that. Send /help to see what I can do.")


async def expired_button(update: Update, context: Context) -> None:
    """A button nobody recognises (old, forged or truncated data): nothing changes."""
    user = update.effective_user
    if user is None:
        return
    services = runtime(context).services
    if services.staff.role_of(user.id) is None:
        await refuse_stranger(update, context, action="button")
        return
    services.audit(user.id, "button", outcome="refused: unknown button")
    await answer(update, "This button has expired. Please send the command again.")


# ---- flows already under way when access changes --------------------------------------------------

FlowCallback = Callable[[Update, Context], Coroutine[Any, Any, object]]


def _flow_entry(name: str, callback: FlowCallback) -> FlowCallback:
    """Remember the role someone had when they started a flow (a /log, an /apply, a ban...)."""

    @functools.wraps(callback)
    async def entry(update: Update, context: Context) -> object:
        result = await callback(update, context)
        user = update.effective_user
        if user is not None and result not in (None, ConversationHandler.END):
            role = runtime(context).services.staff.role_of(user.id)
            if role is not None:  # kept with the person's flow state, so it outlives a restart too
                context.state.setdefault(FLOW_ROLES, {})[name] = role
        return result

    return entry


def _flow_step(name: str, callback: FlowCallback) -> FlowCallback:
    """Each later step checks the role again: revoked or lowered since the start ends the flow."""

    @functools.wraps(callback)
    async def step(update: Update, context: Context) -> object:
        user = update.effective_user
        started: Role | None = context.state.get(FLOW_ROLES, {}).get(name) if user else None
        if user is None or started is None:
            return await callback(update, context)
        services = runtime(context).services
        now = services.staff.role_of(user.id)
        if now is not None and PERMISSIONS[started] <= PERMISSIONS[now]:
            return await callback(update, context)
        context.state.get(FLOW_ROLES, {}).pop(name, None)
        if now is None:
            await refuse_stranger(update, context, action=f"{name} step")
        else:
            services.audit(user.id, f"{name} step", outcome="refused: access changed")
            await tell(update, "Your access has changed, so this was stopped; nothing from it was saved.")
        return ConversationHandler.END

    return step


def guard_flows(application: Application) -> None:
    """Every conversation flow checks, at every step, that its user still has the role they began with.

    A flow's entry checks the role once; without this a revoked admin could finish a /log, or
    revoked office staff go on to see pupils' names in /apply's register matches.
    """
    for handlers in application.handlers.values():
        for flow in handlers:
            if not isinstance(flow, ConversationHandler):
                continue
            name = flow.name or repr(flow)
            for handler in flow.entry_points:
                handler.callback = _flow_entry(name, handler.callback)
            for state, steps in flow.states.items():
                if state != ConversationHandler.TIMEOUT:  # the bot's own clean-up, not the user's step
                    for handler in steps:
                        handler.callback = _flow_step(name, handler.callback)


def register_fallbacks(application: Application) -> None:
    """Registered after every feature, so they only see what nothing else handled."""
    guard_flows(application)
    application.add_handler(MessageHandler(filters.ALL, unknown_message))
    application.add_handler(CallbackQueryHandler(expired_button))


def register(application: Application, rt: Runtime) -> None:
    application.add_handler(CommandHandler("start", start))
    application.add_handler(CommandHandler("help", help_command))
    application.add_handler(CommandHandler("grant", grant))
    application.add_handler(CommandHandler("revoke", revoke))
    application.add_handler(CommandHandler("staff", staff_list))
    application.add_handler(CallbackQueryHandler(staff_page, pattern=r"^1:staff:page:"))
    application.add_handler(CallbackQueryHandler(request_access, pattern=r"^1:acc:req$"))
    application.add_handler(CallbackQueryHandler(decide_request, pattern=r"^1:acc:(ok|yes|back|no):"))
    application.add_handler(CallbackQueryHandler(confirm_change, pattern=r"^1:acc:(gr|rv):"))
    application.add_handler(CallbackQueryHandler(cancel_change, pattern=r"^1:acc:cancel$"))

"""A stranger's "Request access": a card to SLT and the Head with what Telegram says, and their decision."""

from __future__ import annotations

from telegram import Update
from telegram.constants import ChatMemberStatus
from telegram.error import TelegramError

from bot.records.outbox import Buttons
from bot.records.staff import AccessRequest, InGroup
from bot.roles import Permission, Role, parse_role
from bot.shell.callbacks import pack
from bot.shell.ticker import Runtime, runtime
from bot.staff import RequestState, staff_name
from bot.wording import a_role, role_name, when
from handlers.access.staff import tell_person
from handlers.common import Context, admit_numbered, answer, h, reply, show, stranger_may_be_answered
from handlers.menu import refresh_menu

_IN_GROUP = {
    InGroup.YES: "yes",
    InGroup.NO: "no",
    InGroup.UNKNOWN: "unknown (I could not check)",
    InGroup.NO_GROUP: "unknown (no parents' group is set up)",
}


async def in_parents_group(context: Context, user_id: int) -> InGroup:
    """What Telegram says about this person and the parents' group."""
    group = runtime(context).services.config.applications.group_chat_id
    if not group:
        return InGroup.NO_GROUP
    try:
        member = await context.bot.get_chat_member(group, user_id)
    except TelegramError:
        return InGroup.UNKNOWN
    inside = member.status in (ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.MEMBER)
    return InGroup.YES if inside or getattr(member, "is_member", False) else InGroup.NO


def request_card(rt: Runtime, request: AccessRequest) -> str:
    """What the stranger claims, apart from what Telegram tells the bot, for the leaders to check."""
    username = f"@{h(request.username)}" if request.username else "none"
    asked = when(request.requested_at, rt.services.clock.now(), rt.services.config.school.timezone)
    twins = [m for m in rt.services.staff_access.namesakes(request.name) if m.user_id != request.user_id]
    warning = ""
    if twins:  # the name of someone who already has access: perhaps them on a new phone, perhaps not
        who = ", ".join(
            f"{h(m.name)} ({role_name(m.role) if m.role else 'none'}, id <code>{m.user_id}</code>)" for m in twins[:3]
        )
        warning = f"⚠️ <b>Staff already has this name:</b> {who}. Someone may be posing as them: ask that person directly.\n"
    return (
        "<b>Access request</b>\n"
        f"<i>They say they are</i> (a Telegram name anyone can choose): <b>{h(request.name)}</b>\n"
        f"{warning}"
        "<i>What Telegram tells me:</i>\n"
        f"• Telegram id <code>{request.user_id}</code>\n"
        f"• Username: {username}\n"
        f"• In the parents' group: {_IN_GROUP[request.in_group]}\n"
        f"Asked {asked}. Check with them in person or by a number the school holds before giving access."
    )


def _role(role: Role | None) -> str:
    return role_name(role) if role else "no role"


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
                f"Your request was declined ({when(declined, rt.services.clock.now(), rt.services.config.school.timezone)}). "
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
            request_card(rt, pending) + f"\n\n<b>Make {h(pending.name)} {a_role(role)}?</b> "
            "They will see what that role sees, including pupils' names.",
            (((f"Yes, make {role_name(role)}", pack("acc", "yes", target, role.value)), ("Back", pack("acc", "back", target))),),
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
        outcome = f"✅ Made {a_role(role)}"
        tell_person(rt, target, f"Your access request was approved: you are now {a_role(role)}. Send /help.")
        await refresh_menu(context.bot, rt.menu, target, role)
    else:
        access.decline_request(actor.user_id, target)
        outcome = "❌ Declined"
        tell_person(rt, target, "Sorry, your access request was declined.")
    now = rt.services.clock.now()
    at = when(now, now, rt.services.config.school.timezone)
    rt.delivery.edit_thread(
        f"access:{target}",
        f"<b>Access request</b>\n{h(pending.name)} — <code>{target}</code>\n{outcome} by {h(actor.name)}, {at}",
    )
    await answer(update, "Done.")  # after every card is queued for its edit: a lost answer loses nothing

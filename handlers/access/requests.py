"""A stranger's "Request access": a card to SLT and the Head with what Telegram says, and their decision."""

from __future__ import annotations

from telegram import Update
from telegram.constants import ChatMemberStatus
from telegram.error import TelegramError

from bot.clock import show_time
from bot.records.outbox import Buttons
from bot.records.staff import AccessRequest, InGroup
from bot.roles import Permission, Role, parse_role
from bot.shell.callbacks import pack
from bot.shell.ticker import Runtime, runtime
from bot.staff import AccessChange, RequestState, staff_name
from bot.wording import a_role, plural, role_name, when
from handlers import confirmations
from handlers.access.staff import tell_person
from handlers.common import Context, admit_numbered, admit_press, answer, clip, h, reply, show, stranger_may_be_answered
from handlers.confirmations import Question, Reply
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
    asked = show_time(request.requested_at, rt.services.config.school.timezone)  # the card stays: no "today"
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
    """SLT or Head on an access request card: Make admin, Make office and Decline each ask once more (Yes: confirm_request)."""
    press = await admit_numbered(update, context, Permission.MANAGE_STAFF, action="decide access request")
    if press is None:
        return
    callback, target = press.callback, press.number
    rt = runtime(context)
    pending = rt.services.staff.pending_request(target)
    if pending is None:
        last = rt.services.staff.last_request(target)
        decider = staff_name(rt.services.staff, last.decided_by) if last else "someone else"
        await answer(update, f"Already decided by {decider}.")
        return
    role = parse_role(callback.args[1]) if len(callback.args) > 1 else None
    if callback.action == "ok" and role in (Role.ADMIN, Role.OFFICE):  # the first tap: only this leader's card asks
        assert role is not None
        question = Question("admit", target, role.value, pending.requested_at.isoformat(), rt.services.clock.now())
        token = confirmations.ask(context, question)
        name = clip(pending.name, 24)
        await show(
            update,
            request_card(rt, pending) + f"\n\n<b>Make {h(pending.name)} {a_role(role)}?</b> "
            "They will see what that role sees, including pupils' names.",
            (((f"Yes, make {name} {a_role(role)}", pack("acc", "admit", token)), ("Back", pack("acc", "back", target))),),
        )
        await answer(update)
        return
    if callback.action == "back":
        await show(update, request_card(rt, pending), request_buttons(target))
        await answer(update)
        return
    if callback.action != "no":
        await answer(update, "This button has expired.")
        return
    question = Question("decline", target, "", pending.requested_at.isoformat(), rt.services.clock.now())
    token = confirmations.ask(context, question)
    days = rt.services.config.access.request_cooldown_days
    await show(
        update,
        request_card(rt, pending) + f"\n\n<b>Decline {h(pending.name)}'s request?</b> "
        f"They cannot ask again for {plural(days, 'day')}.",
        (((f"Yes, decline {clip(pending.name, 24)}", pack("acc", "admit", token)), ("Back", pack("acc", "back", target))),),
    )
    await answer(update)


async def confirm_request(update: Update, context: Context) -> None:
    """Yes, make them admin (or office), or decline: honoured once, in time, while the request still waits as it did."""
    press = await admit_press(update, context, Permission.MANAGE_STAFF, action="decide access request")
    if press is None:
        return
    rt = runtime(context)
    token = press.callback.args[0] if press.callback.args else ""
    said, question = confirmations.take(context, token, rt.services.clock.now(), ("admit", "decline"))
    if said is Reply.ANSWERED:
        await answer(update, "Already answered: nothing more changed.")
        return
    if question is None:
        rt.services.audit(press.actor.user_id, "decide access request", outcome="refused: not asked")
        await answer(update, "This button has expired: nothing changed.")
        return
    pending = rt.services.staff.pending_request(question.target)
    if pending is None or pending.requested_at.isoformat() != question.basis:
        last = rt.services.staff.last_request(question.target)
        decider = staff_name(rt.services.staff, last.decided_by) if last and last.decided_by else "someone else"
        await answer(update, f"Already decided by {decider}: nothing changed.")
        return
    role = parse_role(question.detail)
    if said is Reply.EXPIRED or (question.what == "admit" and role is None):
        await show(update, request_card(rt, pending), request_buttons(question.target))
        await answer(update, "That question had expired: nothing changed. Choose again.")
        return
    try:
        outcome = _decide(rt, press.actor.user_id, question.target, role)
    except Exception:
        confirmations.reopen(context, token)  # nothing was done: the same Yes may be tapped again
        raise
    if isinstance(outcome, AccessChange):  # refused (the rules are checked again at the Yes)
        await answer(update, outcome.message)
        return
    if role is not None:
        await refresh_menu(context.bot, rt.menu, question.target, role)
    await _decided(update, rt, press.actor.name, question.target, pending.name, outcome)


def _decide(rt: Runtime, by: int, target: int, role: Role | None) -> str | AccessChange:
    """Grant `role` (None: decline) and tell the person: the card's outcome line, or the refusal."""
    access = rt.services.staff_access
    if role is None:
        access.decline_request(by, target)
        tell_person(rt, target, "Sorry, your access request was declined.")
        return "❌ Declined"
    result = access.grant(by, target, role, confirmed=True)
    if not result.ok:
        return result
    tell_person(rt, target, f"Your access request was approved: you are now {a_role(role)}. Send /help.")
    return f"✅ Made {a_role(role)}"


async def _decided(update: Update, rt: Runtime, by_name: str, target: int, name: str, outcome: str) -> None:
    """Every leader's card for the request says what was decided, by whom, and loses its buttons."""
    at = show_time(rt.services.clock.now(), rt.services.config.school.timezone)  # kept in chats: no "today"
    rt.delivery.edit_thread(
        f"access:{target}",
        f"<b>Access request</b>\n{h(name)} — <code>{target}</code>\n{outcome} by {h(by_name)}, {at}",
    )
    await answer(update, "Done.")  # after every card is queued for its edit: a lost answer loses nothing

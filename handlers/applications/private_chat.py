"""Telegram join requests and the applicant's private chat: their children, the code of conduct, their answers."""

from __future__ import annotations

from telegram import Message, Update
from telegram.ext import filters

from bot.applications import Filed, Invalid
from bot.records.applications import Status
from bot.roles import Permission, allows
from bot.services import Services
from bot.shell.callbacks import pack
from bot.shell.ticker import Runtime, runtime
from handlers.applications.messages import (
    WITH_LEADERS,
    applicant_status,
    ask_conduct_text,
    conduct_agreed_text,
    conduct_buttons,
    conduct_refused_text,
    text_of,
)
from handlers.applications.notices import APPLICANT_WINDOW, refresh_cards, send_cards
from handlers.common import (
    Context,
    answer,
    callback_of,
    h,
    reply,
    show,
    stranger_gate,
    stranger_may_be_answered,
)


async def join_request(update: Update, context: Context) -> None:
    """A parent asks to join the parents' group: an application, and questions in a private chat."""
    request = update.chat_join_request
    rt = runtime(context)
    group = rt.services.config.applications.group_chat_id
    if request is None or not group or request.chat.id != group:
        return  # not the parents' group: not ours to decide
    user = request.from_user
    joined = rt.services.application_desk.receive_join_request(user.id, user.full_name, user.username or "", request.chat.id)
    application = joined.application
    n = application.number
    # Telegram lets the bot write to a join requester through user_chat_id while the request is pending.
    if joined.kind == "linked":
        refresh_cards(rt, application)
        rt.delivery.post(f"app:{n}:join:{update.update_id}", request.user_chat_id, WITH_LEADERS, give_up_after=APPLICANT_WINDOW)
        return
    if joined.kind == "again" and stranger_gate(context).admit((user.id, "join"), rt.services.clock.now()) is None:
        return  # withdrawing and asking again in a loop: told where things stand once per window
    text, buttons = applicant_status(rt.services, application)
    rt.delivery.post(f"app:{n}:join:{update.update_id}", request.user_chat_id, text, buttons, give_up_after=APPLICANT_WINDOW)


async def applicant_conduct(update: Update, context: Context) -> None:
    """The applicant taps I agree / I do not agree to the code of conduct."""
    user = update.effective_user
    callback = callback_of(update)
    number = callback.int_arg(0) if callback else None
    if user is None:
        return
    rt = runtime(context)
    agrees = callback is not None and callback.action == "yes"
    filed = None
    if number is not None:
        filed = rt.services.application_desk.applicant_conduct(number, user.id, agrees=agrees)
    if filed is None:
        if rt.services.staff.role_of(user.id) is not None:
            rt.services.audit(user.id, "applicant code of conduct", f"application {number}", outcome="refused: not theirs")
        elif not stranger_may_be_answered(update, context, "applicant code of conduct", "refused: not theirs", kind="button"):
            return  # a stranger's forged presses: answered and audited once per window, like their messages
        await answer(update, "This button is no longer active.")
        return
    if filed.unchanged:  # a double tap or a flood: nothing stored, nothing audited, nothing edited
        collecting = filed.application.status is Status.COLLECTING
        await answer(update, "Already noted." if collecting else "This button is no longer active.")
        return
    # The cards are queued before any await: the application is already pending, and a lost
    # answer must not leave it without a card (a second tap finds it no longer collecting).
    _after_filing(rt, filed)
    await answer(update)
    if not agrees:
        await show(update, conduct_refused_text(rt.services), ((("I agree", pack("apj", "yes", filed.application.number)),),))
        return
    await show(update, conduct_agreed_text(rt.services, rt.services.clock.now()))  # the code stays readable
    await reply(update, WITH_LEADERS)


def _after_filing(rt: Runtime, filed: Filed) -> None:
    """Cards for what has just reached the leaders, or fresh copies of what changed."""
    if filed.submitted:
        send_cards(rt, filed.application)
    if filed.refreshed:
        refresh_cards(rt, filed.application)
    if filed.folded is not None:
        refresh_cards(rt, filed.folded)


class SharedOwnContact(filters.MessageFilter):
    """A join requester shares their own contact (Telegram vouches for the number being theirs)."""

    def __init__(self, services: Services) -> None:
        super().__init__(name="join requester's own contact")
        self.services = services

    def filter(self, message: Message) -> bool:
        user, contact = message.from_user, message.contact
        if user is None or contact is None or contact.user_id != user.id:
            return False
        return self.services.application_desk.open_for_applicant(user.id) is not None


async def shared_contact(update: Update, context: Context) -> None:
    """A join requester's own phone number: it links them to a paper form with that number on it."""
    message = update.effective_message
    if message is None or message.contact is None or update.effective_user is None:
        return
    rt = runtime(context)
    filed = rt.services.application_desk.applicant_phone(update.effective_user.id, message.contact.phone_number)
    if filed is None:
        return
    if filed.unchanged and not _applicant_may_be_answered(update, context, "contact shared again"):
        return  # the same number again and again: answered once per window
    _after_filing(rt, filed)
    if filed.linked:
        await reply(update, WITH_LEADERS)
        return
    text, buttons = applicant_status(rt.services, filed.application)
    await reply(update, text, buttons)


class FromApplicant(filters.MessageFilter):
    """A private text from someone whose application waits for them: their children, an answer, or a question of theirs."""

    def __init__(self, services: Services) -> None:
        super().__init__(name="application's applicant")
        self.services = services

    def filter(self, message: Message) -> bool:
        user = message.from_user
        return user is not None and self.services.application_desk.expects_text_from(user.id)


async def applicant_text(update: Update, context: Context) -> None:
    """What an applicant types: the answer to a leader's question, their child's name, or anything (their status)."""
    if update.effective_user is None:
        return
    try:
        if not await _answer_typed(update, context):
            await _applicant_typed(update, context)
    except Invalid as problem:
        if _applicant_may_be_answered(update, context, "refused: invalid text"):
            await reply(update, h(problem))


def _applicant_may_be_answered(update: Update, context: Context, outcome: str) -> bool:
    """An applicant is not staff: like a stranger, answered (and audited) once per window, so a flood
    of messages cannot flood the replies, the audit log, or Telegram's rate limit meant for alerts."""
    user = update.effective_user
    if user is None:
        return False
    if runtime(context).services.staff.role_of(user.id) is not None:
        return True
    return stranger_may_be_answered(update, context, "applicant message", outcome, kind="applicant")


async def _applicant_typed(update: Update, context: Context) -> None:
    user = update.effective_user
    assert user is not None
    rt = runtime(context)
    apps = rt.services.application_desk
    application = apps.applicant_children(user.id, text_of(update))
    if application is not None:
        await reply(update, ask_conduct_text(rt.services), conduct_buttons(application.number))
        return
    own = apps.open_for_applicant(user.id)
    if own is not None and _applicant_may_be_answered(update, context, "status shown"):
        text, buttons = applicant_status(rt.services, own)
        await reply(update, text, buttons)


async def _answer_typed(update: Update, context: Context) -> bool:
    """The applicant's answer to a leader's question, passed on; False when no question waits for them."""
    rt = runtime(context)
    assert update.effective_user is not None
    answered = rt.services.application_desk.answer(update.effective_user.id, text_of(update))
    if answered is None:
        return False
    application, asker = answered
    n = application.number
    # The leader who asked; if they may no longer decide (revoked or lowered since), every leader.
    still_leader = allows(rt.services.staff.role_of(asker), Permission.DECIDE_APPLICATIONS)
    for leader in [asker] if still_leader else rt.services.staff.leaders():
        rt.delivery.post(
            f"app:{n}:answer:{update.update_id}:{leader}",
            leader,
            f"The applicant for application #{n} ({h(application.parent_name)}) replied:\n{h(text_of(update).strip())}",
            needs=Permission.DECIDE_APPLICATIONS,  # checked again right before it goes
        )
    await reply(update, "Thank you. I have passed your answer to the senior leaders.")
    return True

"""Telegram join requests and the private chat: the applicant's answers, the leaders' reasons and questions."""

from __future__ import annotations

from telegram import Message, Update
from telegram.ext import filters

from bot.applications import LEADER_PROMPT_WAIT, Filed, Invalid
from bot.records.applications import Prompt, PromptKind, Status
from bot.roles import Permission, allows
from bot.services import Services
from bot.shell.callbacks import pack
from bot.shell.ticker import Runtime, runtime
from handlers.applications.messages import (
    CONDUCT_REFUSED,
    WITH_LEADERS,
    applicant_status,
    ask_conduct_text,
    conduct_buttons,
    recipients,
    school_name,
    text_of,
)
from handlers.applications.notices import APPLICANT_WINDOW, announce, refresh_cards, send_cards
from handlers.common import (
    Actor,
    Context,
    admit,
    admit_press,
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
    if user is None or callback is None or number is None:
        return
    rt = runtime(context)
    filed = rt.services.application_desk.applicant_conduct(number, user.id, agrees=callback.action == "yes")
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
    if callback.action != "yes":
        await show(update, CONDUCT_REFUSED, ((("I agree", pack("apj", "yes", number)),),))
        return
    await show(update, WITH_LEADERS)


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


class AwaitedText(filters.MessageFilter):
    """Matches a private text the applications flow is waiting for (checked against storage)."""

    def __init__(self, services: Services) -> None:
        super().__init__(name="awaited application text")
        self.services = services

    def filter(self, message: Message) -> bool:
        user = message.from_user
        return user is not None and self.services.application_desk.wants_text(user.id)


async def typed_text(update: Update, context: Context) -> None:
    """Text someone was asked for: a reason, a question, an applicant's child or answer."""
    user = update.effective_user
    if user is None:
        return
    rt = runtime(context)
    apps = rt.services.application_desk
    prompt = apps.awaiting(user.id)
    try:
        if prompt is not None and prompt.kind in (PromptKind.REASON, PromptKind.QUESTION):
            await _preview(update, context)
        elif prompt is not None and prompt.kind is PromptKind.ANSWER:
            await _answer_typed(update, context)
        else:
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


async def _answer_typed(update: Update, context: Context) -> None:
    rt = runtime(context)
    assert update.effective_user is not None
    answered = rt.services.application_desk.answer(update.effective_user.id, text_of(update))
    if answered is None:
        return
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


async def _preview(update: Update, context: Context) -> None:
    """A leader's typed reason or question is shown back: nothing leaves the school until Send."""
    actor = await admit(update, context, Permission.DECIDE_APPLICATIONS, action="application prompt")
    if actor is None:
        return
    rt = runtime(context)
    apps = rt.services.application_desk
    prompt = apps.draft(actor.user_id, text_of(update))
    if prompt is None:
        return
    application = apps.get(prompt.number)
    assert application is not None
    minutes = int(LEADER_PROMPT_WAIT.total_seconds() // 60)
    what = "reason" if prompt.kind is PromptKind.REASON else "question"
    cancel = pack("app", "redo" if prompt.kind is PromptKind.REASON else "drop", prompt.number)
    await reply(
        update,
        f"Send this {what} about application #{prompt.number} to "
        f"{recipients(rt.services, application, leaving_out=actor.user_id)}?\n\n"
        f"<blockquote>{h(prompt.draft)}</blockquote>\n\nTap <b>Send</b> within {minutes} minutes, or Cancel.",
        ((("Send", pack("app", "send", prompt.number)), ("Cancel", cancel)),),
    )


async def send_press(update: Update, context: Context) -> None:
    """Send under a previewed reason or question: only now does it reach the parent or the office."""
    press = await admit_press(update, context, Permission.DECIDE_APPLICATIONS, action="application prompt")
    number = press.number if press else None
    if press is None or number is None:
        return
    rt = runtime(context)
    prompt = rt.services.application_desk.ready_to_send(press.actor.user_id, number)
    if prompt is None:  # sent already (a double tap), cancelled, or the few minutes ran out
        await answer(update, "Nothing to send: it was sent already, cancelled, or the time ran out.")
        return
    await answer(update)
    if prompt.kind is PromptKind.REASON:
        await _send_reason(update, rt, press.actor, prompt)
    else:
        await _send_question(update, rt, press.actor, prompt)


async def redo_press(update: Update, context: Context) -> None:
    """Cancel under a previewed reason: not sent; the leader may type it again or tap Skip."""
    press = await admit_press(update, context, Permission.DECIDE_APPLICATIONS, action="application reason")
    number = press.number if press else None
    if press is None or number is None:
        return
    prompt = runtime(context).services.application_desk.retype(press.actor.user_id, number)
    await answer(update)
    if prompt is None:
        await show(update, "Not sent.")
        return
    minutes = int(LEADER_PROMPT_WAIT.total_seconds() // 60)
    await show(
        update,
        f"Not sent. Type the reason again within {minutes} minutes, or tap Skip to send the outcome without one.",
        ((("Skip", pack("app", "skip", number)),),),
    )


async def _send_reason(update: Update, rt: Runtime, actor: Actor, prompt: Prompt) -> None:
    number = prompt.number
    application = rt.services.application_desk.give_reason(number, actor.user_id, prompt.draft)
    if application is None:
        await show(update, "That application's outcome has already been sent.")
        return
    refresh_cards(rt, application)
    announce(rt, application)
    await show(update, f"Reason recorded on application #{number}, and the outcome sent.")


async def _send_question(update: Update, rt: Runtime, actor: Actor, prompt: Prompt) -> None:
    number = prompt.number
    application = rt.services.application_desk.ask(number, actor.user_id, actor.name, prompt.draft)
    if application is None:
        await show(update, f"Application #{number} has already been decided; the question was not sent.")
        return
    question = h(prompt.draft)
    who = h(actor.name)
    key = f"app:{number}:ask:{int(prompt.asked_at.timestamp())}"
    if application.applicant_id:
        rt.delivery.post(
            key,
            application.applicant_id,
            f"A question from the senior leaders of {school_name(rt.services)} about your request to join the "
            f"parents' group:\n\n{question}\n\nPlease reply here.",
            give_up_after=APPLICANT_WINDOW,
        )
    for recorder in application.recorded_by:
        if recorder != actor.user_id:
            rt.delivery.post(
                f"{key}:{recorder}",
                recorder,
                f"{who} asks about application #{number} ({h(application.parent_name)}), whose form you recorded:\n\n"
                f"{question}\n\nPlease find out from the parent and let {who} know.",
                needs=Permission.RECORD_APPLICATION,  # never to office staff revoked since recording it
            )
    await show(update, f"Question sent to {recipients(rt.services, application, leaving_out=actor.user_id)}.")

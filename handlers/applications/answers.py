"""Whoever recorded a paper form answers a leader's question about it: Answer, type, and it is with the leader.

A conversation of its own (handlers.flows.durable_flow), so a restart between the tap and the typed
answer carries on. Each step checks the role again; only the recorder of the form (or a leader) may
answer, and only while the application waits for a decision and the question for its answer.
"""

from __future__ import annotations

from datetime import timedelta

from telegram import Update
from telegram.ext import ConversationHandler

from bot.applications import Invalid
from bot.records.outbox import Buttons
from bot.roles import Permission, allows
from bot.shell.callbacks import pack
from bot.shell.ticker import runtime
from bot.staff import staff_name
from handlers.applications.messages import NAME_UNITS, text_of
from handlers.common import Context, admit, admit_numbered, answer, clip, drop_buttons, h, reply, show

ANSWER = "application answer"  # the conversation's one state: waiting for the typed answer
ANSWERING = "application_answer"  # (application number, the question's message, the prompt's), in the kept flow state
ANSWER_WAIT = timedelta(minutes=30)
MINUTES = int(ANSWER_WAIT.total_seconds() // 60)
NOTHING_TO_ANSWER = "Nothing to answer now: the question was answered already, or the application has been decided."


def answer_button(number: int) -> Buttons:
    return ((("Answer", pack("app", "reply", number)),),)


async def answer_press(update: Update, context: Context) -> str | int | None:
    """Answer under a leader's question: the recorder is asked to type it."""
    press = await admit_numbered(update, context, Permission.RECORD_APPLICATION, action="answer question about application")
    if press is None:
        return None
    rt = runtime(context)
    may_decide = allows(press.actor.role, Permission.DECIDE_APPLICATIONS)
    application = rt.services.application_desk.awaiting_recorder(press.number, press.actor.user_id, may_decide)
    if application is None:
        await answer(update, NOTHING_TO_ANSWER)
        return None
    asker = h(clip(staff_name(rt.services.staff, application.recorder_question_by), NAME_UNITS))
    await answer(update)
    question = update.effective_message
    await _buttons_off(update, context, _asked(context)[2])  # an earlier prompt's Cancel, if Answer is tapped again
    prompt = await reply(
        update,
        f"Type your answer about application #{press.number} ({h(application.parent_name)}) within {MINUTES} minutes: "
        f"it goes to {asker} and onto the application.",
        ((("Cancel", pack("app", "unreply", press.number)),),),
    )
    # The question's Answer comes off once answered (only a message that shows buttons has any to take off).
    shown = question is not None and question.reply_markup is not None and bool(question.reply_markup.inline_keyboard)
    context.state[ANSWERING] = (press.number, question.message_id if question and shown else 0, prompt.message_id)
    return ANSWER


def _asked(context: Context) -> tuple[int, int, int]:
    """The answer under way: (application number, the question's message, the prompt's); zeros when none."""
    kept = context.state.get(ANSWERING)
    if isinstance(kept, tuple) and len(kept) == 3 and all(isinstance(part, int) for part in kept):
        return kept
    return 0, 0, 0


async def _buttons_off(update: Update, context: Context, *message_ids: int) -> None:
    """Take the buttons off messages whose step is over (the question's Answer once answered, a prompt's Cancel)."""
    if update.effective_chat is not None:
        await drop_buttons(context.bot, update.effective_chat.id, *message_ids)


async def answer_typed(update: Update, context: Context) -> int | None:
    """The typed answer: kept in the application's history and sent to the leader who asked."""
    actor = await admit(update, context, Permission.RECORD_APPLICATION, action="answer question about application")
    kept = _asked(context)
    number, question_id, prompt_id = kept
    context.state.pop(ANSWERING, None)
    if actor is None or not number:
        return ConversationHandler.END
    rt = runtime(context)
    may_decide = allows(actor.role, Permission.DECIDE_APPLICATIONS)
    try:
        answered = rt.services.application_desk.recorder_answer(number, actor.user_id, actor.name, text_of(update), may_decide)
    except Invalid as problem:
        context.state[ANSWERING] = kept
        await reply(update, h(problem))
        return None
    if answered is None:
        await _buttons_off(update, context, question_id, prompt_id)
        await reply(update, f"{NOTHING_TO_ANSWER} Your answer about application #{number} was not sent.")
        return ConversationHandler.END
    application, asker = answered
    # The leader who asked; if they may no longer decide (revoked or lowered since), every leader.
    still_leader = allows(rt.services.staff.role_of(asker), Permission.DECIDE_APPLICATIONS)
    for leader in [asker] if still_leader else rt.services.staff.leaders():
        rt.delivery.post(
            f"app:{number}:office-answer:{update.update_id}:{leader}",
            leader,
            f"{h(actor.name)} (recorded the form) answers about application #{number} ({h(application.parent_name)}):\n"
            f"<blockquote>{h(text_of(update).strip())}</blockquote>",
            needs=Permission.DECIDE_APPLICATIONS,  # checked again right before it goes
        )
    who = h(clip(staff_name(rt.services.staff, asker), NAME_UNITS)) if still_leader else "the senior leaders"
    await _buttons_off(update, context, question_id, prompt_id)
    await reply(update, f"✅ Your answer is on application #{number} and with {who}.")
    return ConversationHandler.END


async def answer_cancelled(update: Update, context: Context) -> int:
    """Cancel (or /cancel) before typing: nothing is sent, and the question can still be answered."""
    if update.callback_query and await admit(update, context, Permission.RECORD_APPLICATION, action="answer question") is None:
        return ConversationHandler.END
    number, _, prompt_id = _asked(context)
    context.state.pop(ANSWERING, None)
    await answer(update)
    if not number:
        return ConversationHandler.END
    text = f"Not sent. Tap Answer under the question about application #{number} when you are ready."
    if update.callback_query:
        await show(update, text)
    else:
        await _buttons_off(update, context, prompt_id)
        await reply(update, text)
    return ConversationHandler.END


async def answer_timed_out(update: Update, context: Context) -> None:
    """No answer typed in time: the person is told, and may tap Answer again."""
    number, _, prompt_id = _asked(context)
    context.state.pop(ANSWERING, None)
    if number:
        await _buttons_off(update, context, prompt_id)
        await reply(update, f"No answer about application #{number} was typed in {MINUTES} minutes: tap Answer again when ready.")

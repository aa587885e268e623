"""A leader's typed reason or question: shown back with Send and Cancel, sent only on Send.

One conversation per leader (handlers.flows.durable_flow), entered from a card's Reject or Ask
for information. It waits LEADER_NOTE_WAIT at most for each step, so unrelated text typed later
is never captured and sent to a parent; the note is kept with the conversation, so a restart in
the middle carries on. Every step checks the role again (admit here, and handlers.access's guard).
"""

from __future__ import annotations

import logging
from dataclasses import replace

from telegram import Update
from telegram.error import NetworkError, RetryAfter
from telegram.ext import ConversationHandler

from bot.applications import LEADER_NOTE_WAIT, Invalid
from bot.records.applications import GroupApplication, LeaderNote, NoteKind
from bot.roles import Permission
from bot.shell.callbacks import pack
from bot.shell.ticker import Runtime, runtime
from handlers.applications.answers import answer_button
from handlers.applications.messages import already_decided, recipients, school_name, text_of
from handlers.applications.notices import APPLICANT_WINDOW, announce, refresh_cards
from handlers.common import Actor, Context, admit, admit_numbered, answer, drop_buttons, h, reply, show

log = logging.getLogger(__name__)

NOTE = "application note"  # the conversation's one state: waiting for the text, or for Send
KEPT = "application_note"  # the LeaderNote under way, in the leader's kept flow state
MINUTES = int(LEADER_NOTE_WAIT.total_seconds() // 60)
NOTHING_TO_SEND = "Nothing to send: it was sent already, cancelled, or the time ran out."

Step = str | int | None  # NOTE, ConversationHandler.END, or None: stay where the conversation is


def note_of(context: Context) -> LeaderNote | None:
    note = context.state.get(KEPT)
    return note if isinstance(note, LeaderNote) else None


def start_note(context: Context, kind: NoteKind, number: int, prompt_id: int = 0) -> str:
    """Wait for this leader's reason or question about one application (replacing any other)."""
    context.state[KEPT] = LeaderNote(kind, number, prompt_id=prompt_id)
    return NOTE


async def buttons_off(update: Update, context: Context, note: LeaderNote | None) -> None:
    """Take the buttons off the note's last prompt or preview: a step on, they would do nothing useful."""
    chat = update.effective_chat
    if note is not None and chat is not None:
        await drop_buttons(context.bot, chat.id, note.prompt_id)


async def wait_for_note(update: Update, context: Context, kind: NoteKind, number: int, ask: str, button: str) -> str:
    """Ask for the reason or question, under the one button that ends it (Skip or Cancel), and wait."""
    action = "skip" if kind is NoteKind.REASON else "drop"
    state = start_note(context, kind, number)
    try:
        prompt = await reply(update, ask, (((button, pack("app", action, number)),),))
    except (NetworkError, RetryAfter):  # the press is recorded: the leader may still type, or press again
        log.warning("Note prompt for update %s not delivered; the step is kept", update.update_id)
        return state
    return start_note(context, kind, number, prompt.message_id)


def carry_on(context: Context) -> Step:
    """A press that starts nothing new leaves a note under way as it was."""
    return None if note_of(context) is not None else ConversationHandler.END


def finish(context: Context, number: int) -> Step:
    """The note about this application is over; a note about another one carries on."""
    note = note_of(context)
    if note is None or note.number != number:
        return carry_on(context)
    context.state.pop(KEPT, None)
    return ConversationHandler.END


async def ask_press(update: Update, context: Context) -> Step:
    """Ask for information: the leader types a question, relayed to the applicant or the recorder."""
    press = await admit_numbered(update, context, Permission.DECIDE_APPLICATIONS, action="ask for information")
    if press is None:
        return carry_on(context)
    number, actor = press.number, press.actor
    rt = runtime(context)
    apps = rt.services.application_desk
    application = apps.noted(LeaderNote(NoteKind.QUESTION, number), actor.user_id)
    if application is None:
        await answer(update, already_decided(rt.services, apps.get(number)))
        return carry_on(context)
    if not application.applicant_id and set(application.recorded_by) <= {actor.user_id}:
        await answer(update, "There is nobody to relay a question to: you recorded this form yourself.")
        return carry_on(context)
    await answer(update)
    ask = (
        f"What would you like to ask about application #{number}? Type your question: it goes to "
        f"{recipients(rt.services, application, leaving_out=actor.user_id)}."
    )
    return await wait_for_note(update, context, NoteKind.QUESTION, number, ask, "Cancel")


async def note_typed(update: Update, context: Context) -> Step:
    """The typed reason or question is shown back: nothing leaves the school until Send."""
    actor = await admit(update, context, Permission.DECIDE_APPLICATIONS, action="application note")
    note = note_of(context)
    if actor is None or note is None:
        context.state.pop(KEPT, None)
        return ConversationHandler.END
    rt = runtime(context)
    apps = rt.services.application_desk
    try:
        drafted = apps.draft(note, actor.user_id, text_of(update))
    except Invalid as problem:
        await reply(update, h(problem))
        return None
    application = apps.get(note.number)
    if drafted is None or application is None:
        await reply(update, f"Application #{note.number} has been settled meanwhile: your {note.kind.value} was not sent.")
        return finish(context, note.number)
    await buttons_off(update, context, note)
    context.state[KEPT] = replace(drafted, prompt_id=0)
    cancel = pack("app", "redo" if note.kind is NoteKind.REASON else "drop", note.number)
    preview = await reply(
        update,
        f"Send this {note.kind.value} about application #{note.number} to "
        f"{recipients(rt.services, application, leaving_out=actor.user_id)}?\n\n"
        f"<blockquote>{h(drafted.draft)}</blockquote>\n\nTap <b>Send</b> within {MINUTES} minutes, or Cancel.",
        ((("Send", pack("app", "send", note.number)), ("Cancel", cancel)),),
    )
    context.state[KEPT] = replace(drafted, prompt_id=preview.message_id)
    return NOTE


async def send_press(update: Update, context: Context) -> Step:
    """Send under a previewed reason or question: only now does it reach the parent or the office."""
    press = await admit_numbered(update, context, Permission.DECIDE_APPLICATIONS, action="application note")
    note = note_of(context)
    if press is None:
        return carry_on(context)
    if note is None or note.number != press.number or not note.draft:  # an earlier preview's button
        await answer(update, NOTHING_TO_SEND)
        return carry_on(context)
    await answer(update)
    context.state.pop(KEPT, None)
    rt = runtime(context)
    if note.kind is NoteKind.REASON:
        await _send_reason(update, rt, press.actor, note)
    else:
        await _send_question(update, rt, press.actor, note)
    return ConversationHandler.END


async def redo_press(update: Update, context: Context) -> Step:
    """Cancel under a previewed reason: not sent; the leader may type it again or tap Skip."""
    press = await admit_numbered(update, context, Permission.DECIDE_APPLICATIONS, action="application reason")
    note = note_of(context)
    if press is None:
        return carry_on(context)
    await answer(update)
    if note is None or note.number != press.number or note.kind is not NoteKind.REASON:
        await show(update, "Not sent.")
        return carry_on(context)
    message = update.effective_message
    context.state[KEPT] = LeaderNote(NoteKind.REASON, note.number, prompt_id=message.message_id if message else 0)
    await show(
        update,
        f"Not sent. Type the reason again within {MINUTES} minutes, or tap Skip to send the outcome without one.",
        ((("Skip", pack("app", "skip", note.number)),),),
    )
    return NOTE


async def drop_question(update: Update, context: Context) -> Step:
    """Cancel under a question (asked for, or previewed): nothing is sent."""
    press = await admit_numbered(update, context, Permission.DECIDE_APPLICATIONS, action="ask for information")
    if press is None:
        return carry_on(context)
    await answer(update)
    await show(update, "No question sent.")
    return finish(context, press.number)


async def skip_reason(update: Update, context: Context) -> Step:
    """Skip on the reason prompt: the rejection is announced without a reason."""
    press = await admit_numbered(update, context, Permission.DECIDE_APPLICATIONS, action="application reason")
    if press is None:
        return carry_on(context)
    rt = runtime(context)
    application = rt.services.application_desk.skip_reason(press.number, press.actor.user_id)
    if application is None:
        await answer(update, "This button is no longer active.")
        return carry_on(context)
    if not application.outcome_told:
        announce(rt, application)
    await answer(update)
    await show(update, f"No reason given. The outcome of application #{press.number} has been sent.")
    return finish(context, press.number)


async def cancel_note(update: Update, context: Context) -> int:
    """/cancel while a reason or question is under way: nothing is sent."""
    note = note_of(context)
    context.state.pop(KEPT, None)
    await buttons_off(update, context, note)
    if note is not None:
        await reply(update, f"Cancelled: your {note.kind.value} about application #{note.number} was not sent.")
    return ConversationHandler.END


async def note_timed_out(update: Update, context: Context) -> None:
    """The few minutes ran out: nothing is sent, and the leader is told."""
    note = note_of(context)
    context.state.pop(KEPT, None)
    await buttons_off(update, context, note)
    user = update.effective_user
    if note is None or user is None:
        return
    rt = runtime(context)
    if note.kind is NoteKind.REASON:
        application = rt.services.application_desk.get(note.number)
        sent = application is not None and application.outcome_told
        what = f"Your reason for rejecting application #{note.number}"
        then = "The outcome was sent without one." if sent else "The outcome goes without one."
    else:
        what, then = f"Your question about application #{note.number}", "Tap Ask for information to ask again."
    rt.delivery.post(
        f"app:{note.number}:note-timeout:{update.update_id}",
        user.id,
        f"{what} was not sent: the {MINUTES} minutes to type it and tap Send ran out. {then}",
        needs=Permission.DECIDE_APPLICATIONS,
    )


async def note_over(update: Update, context: Context) -> None:
    """Send or Cancel under a note that has ended (sent, cancelled, or timed out)."""
    if await admit(update, context, Permission.DECIDE_APPLICATIONS, action="application note") is None:
        return
    await answer(update, NOTHING_TO_SEND)


async def _send_reason(update: Update, rt: Runtime, actor: Actor, note: LeaderNote) -> None:
    application = rt.services.application_desk.give_reason(note.number, actor.user_id, note.draft)
    if application is None:
        await show(update, "That application's outcome has already been sent.")
        return
    refresh_cards(rt, application)
    announce(rt, application)
    await show(update, f"Reason recorded on application #{note.number}, and the outcome sent.")


async def _send_question(update: Update, rt: Runtime, actor: Actor, note: LeaderNote) -> None:
    number = note.number
    application = rt.services.application_desk.ask(number, actor.user_id, actor.name, note.draft)
    if application is None:
        await show(update, f"Application #{number} has already been decided; the question was not sent.")
        return
    _relay_question(rt, application, actor, note, update.update_id)
    await show(update, f"Question sent to {recipients(rt.services, application, leaving_out=actor.user_id)}.")


def _relay_question(rt: Runtime, application: GroupApplication, actor: Actor, note: LeaderNote, update_id: int) -> None:
    """To the applicant in their own chat, and to whoever recorded the paper form (not the asker)."""
    number, question, who = note.number, h(note.draft), h(actor.name)
    key = f"app:{number}:ask:{update_id}"
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
                f"<blockquote>{question}</blockquote>\n\nPlease find out from the parent, then tap <b>Answer</b> to tell {who}.",
                answer_button(number),
                needs=Permission.RECORD_APPLICATION,  # never to office staff revoked since recording it
            )

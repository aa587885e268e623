"""/log (aliases /misuse, /report): screenshots, a category, an optional note, confirm.

Confirming saves the incident and queues the Head's alert in the outbox in one step without
an await, so neither is lost and a second press finds the first.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import replace
from typing import Any

from telegram import Message, Update
from telegram.ext import ConversationHandler

from bot.escalation import NoticeKind
from bot.incidents import MAX_NOTE, MAX_SCREENSHOT_BYTES, MAX_SCREENSHOTS, Draft, is_category
from bot.roles import Permission
from bot.shell.callbacks import pack
from bot.shell.ticker import runtime
from bot.wording import plural
from handlers.common import Actor, Context, admit, answer, callback_of, drop_buttons
from handlers.incidents.escalation import post, receipt_view, refresh_receipt
from handlers.incidents.messages import draft_view
from handlers.incidents.pictures import OFFERS, Picture, fetch_screenshot, picture_in
from handlers.incidents.shared import (
    CATEGORY,
    CONFIRM,
    FLOW_TIMEOUT,
    LOG_FROM,
    NOTE,
    SCREENSHOTS,
    draft_of,
    flow_message,
    forget_draft,
    forget_prompt,
    keep_draft,
    keep_prompt,
    prompt,
    retire_log_button,
    retire_prompt,
    say,
)
from storage.atomic import WriteFailed

log = logging.getLogger(__name__)

ALERT_WAIT = 5.0  # seconds the reporter's Confirm waits to learn whether the Head has the alert


def _new_draft(context: Context, actor: Actor) -> Draft:
    rt = runtime(context)
    forget_draft(context)  # a /log begun again replaces the unfinished one
    draft = Draft(uuid.uuid4().hex[:12], actor.user_id, rt.services.clock.now())
    keep_draft(context, draft)
    return draft


async def start_log(update: Update, context: Context) -> str | int:
    """/log, /misuse or /report: asks for the screenshots."""
    actor = await admit(update, context, Permission.LOG_MISUSE, action="log misuse")
    if actor is None:
        return ConversationHandler.END
    draft = _new_draft(context, actor)
    await retire_log_button(context)  # a /log begun again ends the one "Log it now" began
    await prompt(update, context, *draft_view(SCREENSHOTS, draft))
    return SCREENSHOTS


async def start_from_button(update: Update, context: Context) -> str | int:
    """ "Found a problem, log it" under the moderation nudge: the same flow, in a new message."""
    actor = await admit(update, context, Permission.LOG_MISUSE, action="log misuse")
    if actor is None:
        return ConversationHandler.END
    draft = _new_draft(context, actor)
    await answer(update)
    pressed = update.callback_query.message if update.callback_query else None
    await retire_log_button(context, keep=pressed if isinstance(pressed, Message) else None)
    if isinstance(pressed, Message) and pressed.reply_markup is not None:  # its "Log it now" goes when this /log ends
        keep_prompt(context, pressed, LOG_FROM)
    await prompt(update, context, *draft_view(SCREENSHOTS, draft), new=True)
    return SCREENSHOTS


async def start_with_photo(update: Update, context: Context) -> str | int:
    """ "Log misuse" under a photo sent outside any flow: the flow starts with that screenshot."""
    actor = await admit(update, context, Permission.LOG_MISUSE, action="log misuse")
    callback = callback_of(update)
    if actor is None or callback is None:
        return ConversationHandler.END
    offers = context.state.get(OFFERS, {})
    offered: Picture | None = offers.get(callback.int_arg(0))
    if offered is None:
        await answer(update, "That photo is no longer with me. Please send it again.")
        return ConversationHandler.END
    draft = _new_draft(context, actor)
    await retire_log_button(context)
    shot = await fetch_screenshot(context, offered, draft.id)
    draft, _ = draft.add(shot)
    keep_draft(context, draft)
    await answer(update)
    await prompt(update, context, *draft_view(SCREENSHOTS, draft))
    return SCREENSHOTS


def screenshot_adder(state: str) -> Callable[[Update, Context], Coroutine[Any, Any, str | int | None]]:
    """A picture sent at any step joins the draft; the person stays on the step they were at."""

    async def add_screenshot(update: Update, context: Context) -> str | int | None:
        """Adds a screenshot (sent, forwarded or as an image file) to the incident being logged."""
        message = update.effective_message
        draft = draft_of(context)
        if message is None or draft is None:
            return ConversationHandler.END
        picture = picture_in(message)
        if picture is None:
            return None
        if picture.size > MAX_SCREENSHOT_BYTES:
            await say(update, "That file is too big for me to keep (20 MB at most). Please send a screenshot.")
            return None
        if draft.full:
            await prompt(update, context, *draft_view(state, draft, f"I can keep {MAX_SCREENSHOTS} screenshots per incident.\n"))
            return None
        shot = await fetch_screenshot(context, picture, draft.id)
        draft, added = draft.add(shot)
        keep_draft(context, draft)
        note = "" if added else "I already have that screenshot. "
        if state != SCREENSHOTS:
            note = note or f"Added: {plural(len(draft.screenshots), 'screenshot')} in all.\n"
        await prompt(update, context, *draft_view(state, draft, note))
        return state

    return add_screenshot


async def screenshots_done(update: Update, context: Context) -> str | int | None:
    """Done with screenshots: choose the category."""
    draft = draft_of(context)
    if draft is None:
        return ConversationHandler.END
    if not draft.screenshots:
        await answer(update, "Please send a screenshot first.")
        return None
    await answer(update)
    await prompt(update, context, *draft_view(CATEGORY, draft))
    return CATEGORY


async def choose_category(update: Update, context: Context) -> str | int | None:
    """A category is chosen: ask for the optional note."""
    draft = draft_of(context)
    callback = callback_of(update)
    if draft is None or callback is None:
        return ConversationHandler.END
    key = callback.args[0] if callback.args else ""
    if not is_category(key):
        await answer(update, "This button has expired. Please send the command again.")
        return None
    draft = replace(draft, category=key)
    keep_draft(context, draft)
    await answer(update)
    await prompt(update, context, *draft_view(NOTE, draft))
    return NOTE


async def take_note(update: Update, context: Context) -> str | int | None:
    """The note, typed: capped in length, then the summary to confirm."""
    draft = draft_of(context)
    message = update.effective_message
    if draft is None or message is None or not is_category(draft.category):
        return ConversationHandler.END
    text = (message.text or "").strip()
    if len(text) > MAX_NOTE:
        await prompt(
            update,
            context,
            f"That note is {len(text):,} characters; please keep it under {MAX_NOTE:,} "
            "(the full story can go on CPOMS). Send a shorter note, or tap Skip.",
            ((("Skip", pack("log", "skip")), ("Cancel", pack("log", "no"))),),
        )
        return NOTE
    draft = replace(draft, note=text)
    keep_draft(context, draft)
    await prompt(update, context, *draft_view(CONFIRM, draft))
    return CONFIRM


async def skip_note(update: Update, context: Context) -> str | int | None:
    """No note: straight to the summary."""
    draft = draft_of(context)
    if draft is None or not is_category(draft.category):
        return ConversationHandler.END
    await answer(update)
    await prompt(update, context, *draft_view(CONFIRM, draft))
    return CONFIRM


async def want_screenshot(update: Update, context: Context) -> None:
    """Text while screenshots are expected: say what is needed."""
    draft = draft_of(context)
    if draft is not None:
        await prompt(update, context, *draft_view(SCREENSHOTS, draft, "Please send the screenshot as a photo or an image file. "))


async def want_category(update: Update, context: Context) -> None:
    """Text while a category is expected: show the buttons again."""
    draft = draft_of(context)
    if draft is not None:
        await prompt(update, context, *draft_view(CATEGORY, draft, "Please choose with a button. "))


async def confirm(update: Update, context: Context) -> str | int | None:
    """Confirm: the incident is saved and the Head's alert queued, once per draft; the summary
    becomes the reporter's receipt, kept up to date as the incident moves on."""
    actor = await admit(update, context, Permission.LOG_MISUSE, action="confirm incident")
    callback = callback_of(update)
    if actor is None:
        return ConversationHandler.END
    if callback is None or not callback.args:
        await answer(update, "This button has expired. Please send the command again.")
        return ConversationHandler.END
    rt = runtime(context)
    incidents = rt.services.incident_log
    draft_id = callback.args[0]
    existing = incidents.by_draft(draft_id)
    if existing is not None:
        if existing.reporter_id != actor.user_id:
            rt.services.audit(actor.user_id, "confirm incident", existing.ref, outcome="refused: not the reporter")
            await answer(update, "Sorry, this button is not for you.")
            return None
        rt.services.audit(actor.user_id, "confirm incident", existing.ref, outcome="already logged")
        forget_draft(context, draft_id)
        await answer(update, f"Already logged as {existing.ref}.")
        return ConversationHandler.END
    draft = draft_of(context)
    if draft is None or draft.id != draft_id or not draft.ready:
        await answer(update, "This summary is out of date: nothing was logged from it. Send /log to start again.")
        return None if draft is not None else ConversationHandler.END
    incident, _ = incidents.confirm(draft, actor.name)
    escalation = rt.services.incident_escalation
    notices = escalation.opened(incident)
    pressed = update.callback_query.message if update.callback_query else None
    if isinstance(pressed, Message):  # no await from the save to here: the receipt is queued with the incident
        post(rt, [n for n in notices if n.kind is not NoticeKind.RECEIPT])
        for receipt in (n for n in notices if n.kind is NoticeKind.RECEIPT):
            rt.delivery.adopt(
                receipt.key, pressed.chat_id, pressed.message_id, receipt.thread, *receipt_view(rt, incident), needs=receipt.needs
            )
    else:
        post(rt, notices)
    escalation.alert_posted(incident)
    forget_draft(context, draft_id)
    forget_prompt(context)
    await answer(update, f"Logged as {incident.ref}.")
    await retire_log_button(context)
    await rt.delivery.wait(ALERT_WAIT)
    if escalation.head_has_alert(incident):
        try:  # the receipt says so: no second message
            refresh_receipt(rt, incident.number)
        except WriteFailed:  # a full disk: the incident and its alert are saved; only that line of the receipt is lost
            log.warning("Receipt of %s not updated: the disk refused the outbox write", incident.ref)
    else:  # durable: a follow-up is owed once the alert gets through (bot.escalation)
        post(rt, [escalation.not_yet(incident)])
    return ConversationHandler.END


async def cancel_flow(update: Update, context: Context) -> int:
    """/cancel or the Cancel button: nothing is logged; the flow's message no longer offers its buttons."""
    draft = draft_of(context)
    if draft is not None and update.effective_user is not None:
        runtime(context).services.audit(update.effective_user.id, "log misuse: cancel", f"draft {draft.id}")
    forget_draft(context)
    await answer(update)
    if update.callback_query is None:
        await retire_prompt(context)
    else:
        forget_prompt(context)
    await retire_log_button(context)
    await say(update, "Cancelled: nothing was logged. Send /log to start again.")
    return ConversationHandler.END


async def flow_timed_out(update: Update, context: Context) -> None:
    """No answer for a while: the draft is dropped and the flow's message says so (durably)."""
    draft = draft_of(context)
    forget_draft(context)
    where = flow_message(context)
    forget_prompt(context)
    await retire_log_button(context)
    if draft is None:
        return
    rt = runtime(context)
    rt.services.audit(draft.reporter_id, "log misuse: timed out", f"draft {draft.id}")
    minutes = int(FLOW_TIMEOUT.total_seconds() // 60)
    text = (
        f"The misuse log timed out after {plural(minutes, 'minute')} without an answer, so nothing was logged. "
        "Send /log to start again."
    )
    key = f"log:timeout:{draft.id}"
    if where is None:
        rt.delivery.post(key, draft.reporter_id, text)
    else:  # in place of the step that waited, without its buttons
        rt.delivery.adopt(key, where[0], where[1], key, text)


async def flow_over(update: Update, context: Context) -> None:
    """A button of a flow that has ended (logged, cancelled, timed out, or the bot restarted)."""
    if await admit(update, context, Permission.LOG_MISUSE, action="log misuse") is None:
        return  # a stranger (or office staff) pressing copied data is refused and audited, not told about logs
    await answer(update, "This log has ended. Send /log to start again.")
    message = update.callback_query.message if update.callback_query else None
    if isinstance(message, Message) and message.reply_markup is not None:  # the ended step's buttons go
        await drop_buttons(context.bot, message.chat_id, message.message_id)

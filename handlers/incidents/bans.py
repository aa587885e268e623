""" "User banned": who (their name on the platform) and why, recorded once in the ban register."""

from __future__ import annotations

import logging
from contextlib import suppress

from telegram import Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, NetworkError, RetryAfter
from telegram.ext import ConversationHandler

from bot.incidents import BAN_CLAUSE, MAX_PLATFORM_NAME, MAX_REASON, ActionKind, ActionResult, ActionStatus, category
from bot.records.incidents import IncidentState
from bot.records.outbox import Buttons
from bot.roles import Permission
from bot.shell.callbacks import pack
from bot.shell.delivery import keyboard
from bot.shell.ticker import runtime
from bot.wording import when
from handlers.common import Context, admit, answer, callback_of, drop_buttons, h, reply
from handlers.incidents.alerts import pressed_record, record_view, redraw_record, settled
from handlers.incidents.shared import (
    flow_message,
    forget_prompt,
    incident_log,
    prompt,
    retire_prompt,
    say,
    school_tz,
)

log = logging.getLogger(__name__)

BAN_NAME, BAN_REASON = "ban name", "ban reason"
BAN = "incident_ban"
BAN_RECORD = "incident_ban_record"  # the /incident N record a ban was begun under, redrawn when it is saved
BAN_PROMPT = "incident_ban_prompt"  # the ban question now asked: the one message with live buttons


async def start_ban(update: Update, context: Context) -> str | int:
    """User banned: ask who (their name on the platform) for the ban register."""
    actor = await admit(update, context, Permission.LOG_MISUSE, action="ban")
    callback = callback_of(update)
    if actor is None or context.user_data is None:
        return ConversationHandler.END
    incidents = incident_log(context)
    incident = incidents.get(callback.int_arg(0) or 0) if callback else None
    if incident is None:
        await answer(update, "There is no such incident.")
        return ConversationHandler.END
    if not incidents.may_record(actor.user_id, incident, ActionKind.BANNED):
        runtime(context).services.audit(actor.user_id, "ban", incident.ref, outcome="refused")
        await answer(update, "Sorry, only the Head Teacher, the deputy and SLT (or the person who logged it) can do that.")
        return ConversationHandler.END
    if incident.state == IncidentState.CLOSED:  # a button older than the close: nothing more is recorded on it
        await settled(update, context, ActionResult(ActionStatus.ALREADY, incident), "")
        await redraw_record(update, context, actor, incident.number)
        return ConversationHandler.END
    ban = incidents.ban_for(incident.number)
    if ban is not None:
        rt = runtime(context)
        at = when(ban.at, rt.services.clock.now(), school_tz(rt))
        await answer(update, f"Already recorded: “{ban.platform_name}” banned by {ban.by_name}, {at}.")
        return ConversationHandler.END
    context.user_data[BAN] = (incident.number, "")
    record = pressed_record(update, runtime(context), actor, incident.number)
    context.user_data[BAN_RECORD] = (record.chat_id, record.message_id) if record else None
    await answer(update)
    await _ban_prompt(
        update,
        context,
        f"<b>Ban for {incident.ref}</b>\nWho was banned? Send their name exactly as the platform shows it.",
    )
    return BAN_NAME


async def _ban_prompt(update: Update, context: Context, text: str, buttons: Buttons = ()) -> None:
    """A new message (the tap may have come from a photo alert that must stay as it is); the question
    before it loses its buttons."""
    await prompt(update, context, text, (*buttons, (("Cancel", pack("inc", "banno")),)), new=True, key=BAN_PROMPT)


async def _close_questions(update: Update, context: Context, text: str) -> None:
    """The ban questions end in one message: a tap turns its own message into `text`; typed, `text`
    comes below and the last question loses its buttons."""
    if update.callback_query is not None:
        forget_prompt(context, BAN_PROMPT)
        await say(update, text)
        return
    await retire_prompt(context, BAN_PROMPT)
    with suppress(NetworkError, RetryAfter):  # what it says is saved, or nothing was: the flow is over either way
        await reply(update, text)


async def ban_name(update: Update, context: Context) -> str | int:
    """The offender's platform name: then the reason."""
    pending = context.state.get(BAN)
    message = update.effective_message
    if pending is None or message is None or context.user_data is None:
        return ConversationHandler.END
    name = (message.text or "").strip()
    if not name or len(name) > MAX_PLATFORM_NAME:
        await _ban_prompt(update, context, f"Please send their name on the platform, up to {MAX_PLATFORM_NAME} characters.")
        return BAN_NAME
    number = pending[0]
    context.user_data[BAN] = (number, name)
    incident = incident_log(context).get(number)
    kind = category(incident.category if incident else "other")
    await _ban_prompt(
        update,
        context,
        f"Why was “{h(name)}” banned? Tap to use the incident's category, or type a reason.",
        ((((kind.title)[:60], pack("inc", "why", number)),),),
    )
    return BAN_REASON


async def ban_reason(update: Update, context: Context) -> str | int | None:
    """The reason (typed, or the incident's category): the ban is recorded once."""
    actor = await admit(update, context, Permission.LOG_MISUSE, action="ban")
    pending = context.state.get(BAN)
    if actor is None or pending is None or context.user_data is None:
        return ConversationHandler.END
    number, name = pending
    callback = callback_of(update)
    if callback is not None and callback.int_arg(0) != number:
        await answer(update, "That button belongs to another ban. Type the reason, or tap the latest button.")
        return None
    incidents = incident_log(context)
    incident = incidents.get(number)
    if incident is None:
        return ConversationHandler.END
    kind = category(incident.category)
    if update.callback_query:
        reason = f"{kind.title}, policy {BAN_CLAUSE}"
    else:
        reason = ((update.effective_message.text if update.effective_message else "") or "").strip()
        if not reason or len(reason) > MAX_REASON:
            await _ban_prompt(update, context, f"Please type the reason in up to {MAX_REASON} characters.")
            return None
    result = incidents.record_ban(number, name, reason, actor.user_id, actor.name)
    context.user_data.pop(BAN, None)
    await settled(update, context, result, "Ban recorded.")
    if result.status != ActionStatus.DONE:  # already recorded, or refused: the pop-up said why
        await retire_prompt(context, BAN_PROMPT)
        return ConversationHandler.END
    await _close_questions(update, context, f"Recorded: “{h(name)}” is in the ban register for {incident.ref}. /bans shows it.")
    with suppress(NetworkError, RetryAfter):
        await _redraw_ban_record(context, number)
    return ConversationHandler.END


async def _redraw_ban_record(context: Context, number: int) -> None:
    """A ban begun under /incident N: that record now shows the ban (the questions came as new messages)."""
    where = context.state.pop(BAN_RECORD, None)
    view = record_view(runtime(context), number) if where else None
    if where is None or view is None:
        return
    text, buttons = view
    chat_id, message_id = where
    try:
        await context.bot.edit_message_text(
            text, chat_id=chat_id, message_id=message_id, parse_mode=ParseMode.HTML, reply_markup=keyboard(buttons)
        )
    except BadRequest as exc:
        if not any(known in exc.message.lower() for known in ("not modified", "not found")):  # or deleted meanwhile
            raise


async def cancel_ban(update: Update, context: Context) -> int:
    """/cancel or Cancel during the ban questions: nothing is recorded."""
    if context.user_data is not None:
        context.user_data.pop(BAN, None)
    await answer(update)
    await _close_questions(update, context, "Cancelled: no ban was recorded.")
    return ConversationHandler.END


async def ban_timed_out(update: Update, context: Context) -> None:
    """The ban questions went unanswered: nothing is recorded, and the last question says so (durably)."""
    where = flow_message(context, BAN_PROMPT)
    forget_prompt(context, BAN_PROMPT)
    if context.user_data is None or context.user_data.pop(BAN, None) is None or update.effective_user is None:
        return
    key = f"ban:timeout:{update.update_id}"
    text = "The ban questions timed out, so no ban was recorded. Tap User banned again when ready."
    if where is None:
        runtime(context).delivery.post(key, update.effective_user.id, text)
    else:  # in place of the question that waited, without its buttons
        runtime(context).delivery.adopt(key, where[0], where[1], key, text)


async def ban_over(update: Update, context: Context) -> None:
    """A button of ban questions that have ended."""
    if await admit(update, context, Permission.LOG_MISUSE, action="ban") is None:
        return
    await answer(update, "These questions have ended. Tap User banned again if needed.")
    message = update.callback_query.message if update.callback_query else None
    if isinstance(message, Message) and message.reply_markup is not None:  # the ended question's buttons go
        await drop_buttons(context.bot, message.chat_id, message.message_id)

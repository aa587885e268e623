"""What the incident handlers share: the conversation states, the draft kept per person, and
small helpers.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from zoneinfo import ZoneInfo

from telegram import Message, Update
from telegram.error import NetworkError, RetryAfter

from bot.incidents import Draft, IncidentLog
from bot.records.outbox import Buttons
from bot.shell.ticker import Runtime, runtime
from handlers.common import Context, drop_buttons, reply, show

log = logging.getLogger(__name__)

# Conversation states, named for what the bot is waiting for.
SCREENSHOTS, CATEGORY, NOTE, CONFIRM = "screenshots", "category", "note", "confirm"
FLOW_TIMEOUT = timedelta(minutes=15)
DRAFT = "incident_draft"
PROMPT = "incident_prompt"  # (chat, message) of the /log flow's current message: the one with the live buttons
LOG_FROM = "incident_log_from"  # (chat, message) whose "Log it now" began the /log: its button goes when the /log ends


def school_tz(rt: Runtime) -> ZoneInfo:
    return rt.services.config.school.timezone


def incident_log(context: Context) -> IncidentLog:
    return runtime(context).services.incident_log


async def say(update: Update, text: str, buttons: Buttons = ()) -> None:
    """Show a step of a flow. The step is already recorded: if the network loses the prompt,
    the person taps or sends again and sees it then, so a lost prompt is not an error."""
    try:
        await show(update, text, buttons)
    except (NetworkError, RetryAfter) as exc:
        log.warning("Prompt for update %s not delivered (%s); the step is kept", update.update_id, type(exc).__name__)


async def prompt(
    update: Update, context: Context, text: str, buttons: Buttons = (), *, new: bool = False, key: str = PROMPT
) -> None:
    """Show a step of a flow (/log; the ban questions under `key`). A tap edits the message it was
    on; a typed answer (or `new`) gets a new message (it has to come below what they sent), and the
    one before it loses its buttons, so only the flow's current message can be tapped."""
    query = update.callback_query
    if not new and query is not None and isinstance(query.message, Message):
        await say(update, text, buttons)
        keep_prompt(context, query.message, key)
        return
    await retire_prompt(context, key)
    try:
        keep_prompt(context, await reply(update, text, buttons), key)
    except (NetworkError, RetryAfter) as exc:
        log.warning("Prompt for update %s not delivered (%s); the step is kept", update.update_id, type(exc).__name__)


def keep_prompt(context: Context, message: Message, key: str = PROMPT) -> None:
    if context.user_data is not None:
        context.user_data[key] = (message.chat_id, message.message_id)


def flow_message(context: Context, key: str = PROMPT) -> tuple[int, int] | None:
    """Where the flow's current message is (None before the first, or once the flow ended)."""
    kept = context.state.get(key)
    return (int(kept[0]), int(kept[1])) if isinstance(kept, tuple) and len(kept) == 2 else None


def forget_prompt(context: Context, key: str = PROMPT) -> None:
    """The flow's message has become something else (a receipt, "cancelled"): its buttons are its own now."""
    if context.user_data is not None:
        context.user_data.pop(key, None)


async def retire_prompt(context: Context, key: str = PROMPT) -> None:
    """The flow's last message keeps its words and loses its buttons (they belong to a step that is over)."""
    kept = flow_message(context, key)
    forget_prompt(context, key)
    if kept is None:
        return
    await drop_buttons(context.bot, *kept)


async def retire_log_button(context: Context, keep: Message | None = None) -> None:
    """The /log begun by "Log it now" (under a nudge or a /checked answer) is over: that button goes too.

    `keep` is the message just tapped again: its button begins the new /log and stays."""
    kept = flow_message(context, LOG_FROM)
    forget_prompt(context, LOG_FROM)
    if kept is not None and (keep is None or kept != (keep.chat_id, keep.message_id)):
        await drop_buttons(context.bot, *kept)


def draft_of(context: Context) -> Draft | None:
    draft = context.state.get(DRAFT)
    return draft if isinstance(draft, Draft) else None


def keep_draft(context: Context, draft: Draft) -> None:
    assert context.user_data is not None
    context.user_data[DRAFT] = draft


def forget_draft(context: Context, draft_id: str | None = None) -> None:
    """The draft is over (logged, cancelled, timed out, replaced): it and its waiting screenshots go."""
    draft = draft_of(context)
    if context.user_data is not None and draft is not None and (draft_id is None or draft.id == draft_id):
        context.user_data.pop(DRAFT, None)
        incident_log(context).drop_draft(draft.id)

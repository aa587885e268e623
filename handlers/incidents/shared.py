"""What the incident handlers share: the conversation states, the draft kept per person, and
small helpers.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from zoneinfo import ZoneInfo

from telegram import Update
from telegram.error import NetworkError, RetryAfter

from bot.incidents import Draft, IncidentLog
from bot.records.outbox import Buttons
from bot.shell.ticker import Runtime, runtime
from handlers.common import Context, show

log = logging.getLogger(__name__)

# Conversation states, named for what the bot is waiting for.
SCREENSHOTS, CATEGORY, NOTE, CONFIRM = "screenshots", "category", "note", "confirm"
FLOW_TIMEOUT = timedelta(minutes=15)
DRAFT = "incident_draft"


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

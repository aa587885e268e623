"""A join-request decision (approve or decline) is an outbox item too, and each of Telegram's answers
ends it one way: done when Telegram takes it or no longer has the request; retried after a 429, a
5xx or a failed connection; ended after any other refusal (400, 403), which whoever asked for it
hears once (`Delivery.on_join_answer`), so a person can act.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from telegram import Bot
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError

from bot.records.outbox import ItemKind, JoinAnswer, OutboxItem, OutboxState
from bot.shell.delivery.outcomes import backoff, retry, retry_wait, sent
from bot.shell.delivery.sending import refusal

log = logging.getLogger(__name__)

# Telegram no longer has the join request: another admin decided it, it was withdrawn, or they joined.
_JOIN_ALREADY_HANDLED = ("hide_requester_missing", "user_already_participant")
# Told what became of a join-request decision (the item as saved, the answer, Telegram's words).
JoinListener = Callable[[OutboxItem, JoinAnswer, str], None]


async def answer_join(bot: Bot, item: OutboxItem, now: datetime) -> tuple[OutboxItem, JoinAnswer, str]:
    """Approve or decline a join request: the item as it is to be saved, the answer, Telegram's words."""
    try:
        if item.kind is ItemKind.APPROVE_JOIN:
            await bot.approve_chat_join_request(item.chat_id, item.user_id)
        else:
            await bot.decline_chat_join_request(item.chat_id, item.user_id)
    except RetryAfter as exc:
        return retry(item, now, retry_wait(exc), "rate limited"), JoinAnswer.RETRYING, "rate limited"
    except (BadRequest, Forbidden) as exc:  # Telegram's answer, not a fault: sending again cannot change it
        if refusal(exc, _JOIN_ALREADY_HANDLED):
            return sent(item, now), JoinAnswer.ALREADY_HANDLED, exc.message
        log.warning("Join request decision %s refused by Telegram: %s", item.key, exc.message)
        refused = replace(item, state=OutboxState.FAILED, attempts=item.attempts + 1, last_error=f"refused: {exc.message}")
        return refused, JoinAnswer.REFUSED, exc.message
    except TelegramError as exc:  # a 5xx or no connection: the decision stands, Telegram has not heard it yet
        return retry(item, now, backoff(item), f"network: {type(exc).__name__}"), JoinAnswer.RETRYING, type(exc).__name__
    return sent(item, now), JoinAnswer.DONE, ""

"""What becomes of an outbox item after a try: sent, tried again later, or given up; and the audit lines
delivery writes about it (ids and outbox keys only, never a message's text)."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, timedelta

from telegram.error import RetryAfter

from bot.records.audit import SYSTEM
from bot.records.outbox import OutboxItem, OutboxState
from bot.services import Services
from storage.outbox import DISK_REFUSED

log = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(minutes=5)


def retry_wait(exc: RetryAfter) -> timedelta:
    """How long Telegram asked us to wait (an int before PTB's timedelta opt-in, a timedelta after)."""
    wait = exc.retry_after
    return wait if isinstance(wait, timedelta) else timedelta(seconds=wait)


def backoff(item: OutboxItem) -> timedelta:
    return min(timedelta(seconds=5 * 2**item.attempts), MAX_BACKOFF)


def retry(item: OutboxItem, now: datetime, wait: timedelta, error: str) -> OutboxItem:
    """Tried again after `wait`, unless that is past the moment the item stops mattering."""
    if item.give_up_at and now + wait > item.give_up_at:
        log.warning("Outbox item %s to chat %s given up (%s)", item.id, item.chat_id, error)
        return replace(item, state=OutboxState.FAILED, attempts=item.attempts + 1, last_error=f"gave up: {error}")
    log.warning("Outbox item %s to chat %s not delivered (%s); retrying", item.id, item.chat_id, error)
    return replace(item, attempts=item.attempts + 1, next_attempt_at=now + wait, last_error=error)


def sent(item: OutboxItem, now: datetime) -> OutboxItem:
    return replace(item, state=OutboxState.SENT, attempts=item.attempts + 1, sent_at=now)


def audit(services: Services, action: str, chat_id: int, outcome: str, detail: str) -> None:
    """Delivery's own audit lines: ids and outbox keys only, never a message's text."""
    try:
        services.audit(SYSTEM, action, f"user {chat_id}", outcome=outcome, detail=detail)
    except DISK_REFUSED:
        log.warning("Audit line %r for chat %s not written: the disk refused it", action, chat_id)

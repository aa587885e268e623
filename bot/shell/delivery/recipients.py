"""Who may still receive an item: role gating, checked right before every send and every edit, and the
people Telegram will not let us write to (retried for a bounded time, then the leaders are told once).
"""

from __future__ import annotations

import html
import logging
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Protocol

from bot.records.outbox import OutboxItem, OutboxState
from bot.roles import PERMISSIONS, Permission, Role, allows
from bot.services import Services
from bot.shell.delivery.outcomes import audit
from bot.wording import plural, role_name
from storage.outbox import DISK_REFUSED

log = logging.getLogger(__name__)

FORBIDDEN_BACKOFF = timedelta(minutes=1)


def audience_for(role: Role | None, needs: Permission | None = None) -> str:
    """What a message's recipient must still be allowed when it goes out (or is edited).

    With `needs`, that permission; otherwise everything the recipient's role allowed when it
    was queued, so a revocation or a lower role cancels it. "" for someone who is not staff
    (an applicant, a parent): their messages are not role-gated and never hold staff data.
    """
    if needs is not None:
        return f"perm:{needs.name}"
    return f"role:{role.value}" if role is not None else ""


def still_allowed(audience: str, role: Role | None) -> bool:
    """True when someone with `role` may still receive a message queued for `audience`."""
    kind, _, name = audience.partition(":")
    if not audience:
        return True
    if role is None:
        return False
    if kind == "perm" and name in Permission.__members__:
        return allows(role, Permission[name])
    if kind == "role" and name in {r.value for r in Role}:
        return PERMISSIONS[Role(name)] <= PERMISSIONS[role]
    return False


class Delivery(Protocol):
    """What this module needs of the outbox (bot/shell/delivery/outbox.py): its services, and a way to
    queue the leaders' notice. A protocol, so the outbox imports this module and not the reverse."""

    services: Services

    def post(self, key: str, chat_id: int, text: str, *, needs: Permission | None = None) -> OutboxItem: ...


def note_unreachable(delivery: Delivery, item: OutboxItem, now: datetime, error: str) -> None:
    """Telegram will not let us write to them: retry for a bounded time, then stop and tell the leaders."""
    services = delivery.services
    outbox = services.outbox
    spell = outbox.note_refused(item.chat_id, now)
    deadline = spell.since + timedelta(minutes=services.config.delivery.give_up_after_minutes)
    if item.give_up_at is not None:
        deadline = min(deadline, item.give_up_at)
    if not spell.gave_up and now < deadline:
        log.warning("Outbox item %s to chat %s not delivered (%s); retrying", item.id, item.chat_id, error)
        wait_until = min(now + FORBIDDEN_BACKOFF, deadline)
        outbox.save(replace(item, attempts=item.attempts + 1, next_attempt_at=wait_until, last_error=error))
        return
    log.warning("Outbox item %s to chat %s given up: they cannot be reached (%s)", item.id, item.chat_id, error)
    outbox.save(replace(item, state=OutboxState.FAILED, attempts=item.attempts + 1, last_error=f"gave up: {error}"))
    if item.give_up_at is None:
        _tell_leaders_unreachable(delivery, item.chat_id, now)


def _tell_leaders_unreachable(delivery: Delivery, chat_id: int, now: datetime) -> None:
    """Once a spell: the leaders hear, in plain words, who cannot be reached and what to do."""
    services = delivery.services
    outbox = services.outbox
    if not outbox.give_up_on(chat_id, now):
        return
    member = services.staff.get(chat_id)
    if member is None or member.role is None:
        audit(services, "unreachable", chat_id, "gave up", "not staff: nobody told")
        return
    audit(services, "unreachable", chat_id, "gave up", "leaders told")
    minutes = services.config.delivery.give_up_after_minutes
    who = html.escape(member.name or "someone who has not written to me yet", quote=False)
    text = (
        f"⚠️ <b>I cannot reach {who}</b> ({role_name(member.role)}, Telegram id <code>{chat_id}</code>). "
        f"My messages to them have not arrived for {plural(minutes, 'minute')}: they have not opened a chat "
        "with me, or they have blocked me.\n"
        "Please ask them to open me in Telegram and send /start. Until they do, I stop sending "
        "them messages that can wait, such as the daily moderation nudge."
    )
    spell = outbox.unreachable(chat_id)
    started = int(spell.since.timestamp()) if spell else 0
    leaders = services.staff.leaders()
    for leader in leaders:
        if leader == chat_id:
            continue
        try:
            delivery.post(f"unreachable:{chat_id}:{started}:{leader}", leader, text, needs=Permission.MANAGE_STAFF)
        except DISK_REFUSED:
            log.warning("The notice that chat %s cannot be reached could not be queued", chat_id)
            return

"""Re-pings, the fallback to the deputy and SLT, the "Head unreachable" warning and the "reached"
note: derived on every tick from what each incident stores.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from bot.incidents import IncidentLog, Ping, category
from bot.records.incidents import Incident
from bot.roles import Permission
from bot.shell.ticker import Runtime
from handlers.common import h
from handlers.incidents.alerts import (
    alert_photo,
    alert_photo_note,
    head_has_alert,
    head_ids,
    leader_ids,
    not_yet_key,
    raise_alert,
)
from handlers.incidents.messages import alert_buttons, alert_caption
from handlers.incidents.shared import alert_thread, school_tz

REACHED_CHECK = timedelta(minutes=1)  # how often to look whether a late alert got through


def _post_ping(rt: Runtime, incidents: IncidentLog, ping: Ping) -> None:
    """A fresh copy (so the phone rings again) for each Head without one still waiting to go out."""
    incident = ping.incident
    number = incident.number
    caption = alert_caption(incident, incidents.actions(number), incidents.ban_for(number), school_tz(rt), reminder=ping.number)
    buttons = alert_buttons(incident, incidents.actions(number))
    waiting = {c.chat_id for c in rt.delivery.thread_copies(alert_thread(number)) if c.state == "pending"}
    people = [p for p in head_ids(rt) if p not in waiting]
    if ping.leaders_join:
        people += leader_ids(rt)
    for person in dict.fromkeys(people):
        rt.delivery.post(
            f"inc:{number}:ping:{ping.number}:{person}",
            person,
            caption,
            buttons,
            photo=alert_photo(incident),
            thread=alert_thread(number),
            needs=Permission.ACT_ON_ALERTS,
            photo_note=alert_photo_note(incident),
        )


def _tell_unreachable(rt: Runtime, incident: Incident) -> None:
    """In plain words: Telegram's own refusal text is for the log, never for staff."""
    minutes = rt.services.config.escalation.unreachable_minutes
    kind = category(incident.category)
    text = (
        f"⚠️ <b>{incident.ref}</b> ({h(kind.title)}) has not reached the Head Teacher after {minutes} minutes. "
        "I keep trying; please tell the Head Teacher directly."
    )
    for person in dict.fromkeys([incident.reporter_id, *leader_ids(rt)]):
        rt.delivery.post(f"inc:{incident.number}:unreachable:{person}", person, text, needs=Permission.LOG_MISUSE)


def _tell_reached(rt: Runtime, incident: Incident) -> None:
    """The reporter was told the Head did not have the alert yet: one short follow-up when they do."""
    key = f"inc:{incident.number}:reached"
    if rt.services.outbox.by_key(key) is None:
        rt.delivery.post(
            key, incident.reporter_id, f"✅ <b>{incident.ref}</b> has now reached the Head Teacher.", needs=Permission.LOG_MISUSE
        )


def escalation_work(rt: Runtime) -> Callable[[datetime], Awaitable[datetime | None]]:
    """Re-pings, fallback and the unreachable warning, all derived from what incidents store."""

    async def work(now: datetime) -> datetime | None:
        incidents = rt.services.incident_log
        for incident in incidents.needing_alert():
            raise_alert(rt, incidents, incident)
        for ping in incidents.due_pings(now):
            _post_ping(rt, incidents, ping)
            incidents.record_ping(ping, now)
        heads = set(head_ids(rt))
        wake: list[datetime] = []
        for incident in incidents.unacknowledged():
            if incident.next_ping_at is not None:
                wake.append(incident.next_ping_at)
            if rt.services.outbox.by_key(not_yet_key(incident.number)) is not None:
                if head_has_alert(rt, incident):
                    _tell_reached(rt, incident)
                else:
                    wake.append(now + REACHED_CHECK)
            if incident.unreachable_told:
                continue
            copies = [c for c in rt.delivery.thread_copies(alert_thread(incident.number)) if c.chat_id in heads]
            if any(c.state == "sent" for c in copies):
                continue
            deadline = incidents.unreachable_at(incident)
            if now < deadline:
                wake.append(deadline)
            elif incidents.note_unreachable(incident):
                _tell_unreachable(rt, incident)
        return min(wake, default=None)

    return work

"""Posting what bot.escalation says is owed: the alert and its re-sends, the reporter's receipt,
and the notes to the reporter and the fallback. Who, when and under which key is the domain's;
this renders each notice and queues it in the outbox.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime

from bot.escalation import Notice, NoticeKind, receipt_thread
from bot.records.incidents import EvidenceKind, Incident, IncidentState
from bot.records.outbox import Buttons, OutboxState
from bot.shell.ticker import Runtime
from handlers.incidents.messages import (
    alert_buttons,
    alert_caption,
    not_yet_text,
    ping_text,
    reached_text,
    receipt_buttons,
    receipt_text,
    unreachable_text,
)
from handlers.incidents.shared import school_tz

# A notice as it is posted: text (a caption when there is a picture), buttons, picture, and the
# line added in place of a picture Telegram will not take.
Drawn = tuple[str, Buttons, str, str]


def alert_photo(incident: Incident) -> str:
    """A photo goes by its Telegram file id; an image sent as a file goes as the stored copy."""
    first = incident.evidence[0]
    return first.file_id if first.kind == EvidenceKind.PHOTO else first.path


def receipt_view(rt: Runtime, incident: Incident) -> tuple[str, Buttons]:
    """The reporter's receipt as the incident now stands, saying so once the Head has the alert."""
    log = rt.services.incident_log
    actions = log.actions(incident.number)
    alerted = rt.services.incident_escalation.head_has_alert(incident)
    text = receipt_text(incident, actions, log.ban_for(incident.number), school_tz(rt), alerted=alerted)
    return text, receipt_buttons(incident, actions)


def refresh_receipt(rt: Runtime, number: int) -> None:
    """The receipt now says the Head has the alert (through the outbox, in the reporter's flow message)."""
    incident = rt.services.incident_log.get(number)
    if incident is not None and incident.state == IncidentState.OPEN:  # once acted on, the action has shown it
        rt.delivery.edit_thread(receipt_thread(number), *receipt_view(rt, incident))


def _draw(rt: Runtime, notice: Notice) -> Drawn:
    incident = notice.incident
    if notice.kind is NoticeKind.NOT_YET:
        return not_yet_text(incident), (), "", ""
    if notice.kind is NoticeKind.REACHED:
        return reached_text(incident), (), "", ""
    if notice.kind is NoticeKind.UNREACHABLE:
        return unreachable_text(incident, rt.services.config.escalation.unreachable_minutes), (), "", ""
    if notice.kind is NoticeKind.PING:
        return ping_text(incident, rt.services.incident_log.actions(incident.number), school_tz(rt)), (), "", ""
    if notice.kind is NoticeKind.RECEIPT:
        return (*receipt_view(rt, incident), "", "")
    log = rt.services.incident_log
    actions, ban, tz = log.actions(incident.number), log.ban_for(incident.number), school_tz(rt)
    caption = alert_caption(incident, actions, ban, tz, reminder=notice.reminder)
    note = f"📎 The screenshot could not be attached here: /incident {incident.number} shows the record."
    return caption, alert_buttons(incident, actions), alert_photo(incident), note


def post(rt: Runtime, notices: Iterable[Notice]) -> None:
    """Queue each notice under its key (asking twice finds the first); each text is drawn once."""
    drawn: dict[tuple[NoticeKind, int, int], Drawn] = {}
    for notice in notices:
        shape = (notice.kind, notice.incident.number, notice.reminder)
        if shape not in drawn:
            drawn[shape] = _draw(rt, notice)
        text, buttons, photo, photo_note = drawn[shape]
        rt.delivery.post(
            notice.key,
            notice.recipient,
            text,
            buttons,
            photo=photo,
            thread=notice.thread,
            needs=notice.needs,
            photo_note=photo_note,
        )


def tell_reached(rt: Runtime, notice: Notice) -> None:
    """The Head has the alert now: the reporter's "not yet" note says so in place (adopted under the
    notice's key, so it is told once) and so does their receipt. No new message buzzes them.

    A note still waiting to go out is rewritten (the next tick adopts it once sent); a note the
    outbox does not hold (it gave up on the reporter) leaves the news to a message of its own.
    """
    text = reached_text(notice.incident)
    copies = [c for c in rt.delivery.thread_copies(notice.thread) if c.chat_id == notice.recipient]
    sent = next((c for c in copies if c.state == OutboxState.SENT and c.message_id), None)
    if sent is not None:
        rt.delivery.adopt(notice.key, sent.chat_id, sent.message_id, notice.thread, text, needs=notice.needs)
    elif any(c.state == OutboxState.PENDING for c in copies):
        rt.delivery.edit_thread(notice.thread, text)
    else:
        post(rt, [notice])
    refresh_receipt(rt, notice.incident.number)


def escalation_work(rt: Runtime) -> Callable[[datetime], Awaitable[datetime | None]]:
    """Re-sends, the fallback, the unreachable warning and the reached note, as the domain owes them."""

    async def work(now: datetime) -> datetime | None:
        escalation = rt.services.incident_escalation
        due = escalation.due(now)
        post(rt, [n for n in due.notices if n.kind is not NoticeKind.REACHED])
        escalation.record(due, now)
        for notice in due.notices:
            if notice.kind is NoticeKind.REACHED:
                tell_reached(rt, notice)
        return due.next_at

    return work

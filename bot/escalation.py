"""Who is told about an incident, when, and under which key: decided here, as data.

An incident's alert goes to every Head at once. Unacknowledged, a short ping points to it again every
`ack_minutes` (`urgent_ack_minutes` when a pupil is named); from the `fallback_after`-th re-ping
on (from the start when it is 0) the fallback, the deputy and SLT, gets the alert too. Each person
holds one copy of the alert, edited as the incident moves on; only who has none is sent it again. If no Head has a
copy `unreachable_minutes` after it was logged, the reporter and the fallback are told to reach
the Head directly; a reporter told that the Head did not have it yet sees that note change, once,
when it arrives (and their receipt says so): no second message.

Everything is derived from what the incidents and the outbox store, so a restart loses nothing
and repeats nothing. The handler renders each `Notice` and posts it under its key (posting is
idempotent by key), then hands the `Due` back to `record`, as moderation does with its nudges.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from bot.auditing import Auditor
from bot.config import EscalationConfig
from bot.records.audit import SYSTEM
from bot.records.incidents import Incident, IncidentState
from bot.records.outbox import OutboxItem, OutboxState
from bot.roles import FALLBACK, Permission, Role
from storage.incidents import IncidentRepository
from storage.outbox import OutboxRepository
from storage.staff import StaffRepository

REACHED_CHECK = timedelta(minutes=1)  # how often to look whether a late alert got through


class NoticeKind(StrEnum):
    ALERT = "alert"  # the alert with its screenshot and buttons; a late joiner's first copy when `reminder` > 0
    PING = "ping"  # a short nudge to someone who already holds the alert: the alert itself is kept up to date
    RECEIPT = "receipt"  # the reporter's own copy, with their next steps
    NOT_YET = "not yet"  # to the reporter: saved, but no Head has the alert yet
    REACHED = "reached"  # after NOT_YET: that note now says a Head has it (an edit, not a new message)
    UNREACHABLE = "unreachable"  # to the reporter and the fallback: tell the Head directly


def alert_thread(number: int) -> str:
    """Every copy of an incident's alert (Head, re-sends, deputy and SLT) is edited together."""
    return f"inc:{number}"


def receipt_thread(number: int) -> str:
    return f"inc:{number}:mine"


def record_thread(number: int) -> str:
    """Every /incident N record shown with buttons: kept up to date like the alert's copies, so
    none offers a step the incident has moved past."""
    return f"inc:{number}:record"


def not_yet_thread(number: int) -> str:
    """The reporter's note that no Head has the alert yet, changed in place once one has it."""
    return f"inc:{number}:notyet"


def ping_thread(number: int) -> str:
    """Every short re-ping of an incident, edited together once someone acts, so none still says "waiting"."""
    return f"inc:{number}:ping"


def ping_interval(config: EscalationConfig, urgent: bool) -> timedelta:
    return timedelta(minutes=config.urgent_ack_minutes if urgent else config.ack_minutes)


@dataclass(frozen=True)
class Notice:
    """One message owed to one person about an incident, due now."""

    kind: NoticeKind
    incident: Incident
    recipient: int
    key: str  # the outbox key: asking again for the same notice finds the first
    reminder: int = 0  # which re-send of the alert this is (0: the first alert)

    @property
    def thread(self) -> str:
        """The copies edited together as the incident moves on ("" for a one-off note)."""
        if self.kind is NoticeKind.ALERT:
            return alert_thread(self.incident.number)
        if self.kind is NoticeKind.PING:
            return ping_thread(self.incident.number)
        if self.kind in (NoticeKind.NOT_YET, NoticeKind.REACHED):
            return not_yet_thread(self.incident.number)
        return receipt_thread(self.incident.number) if self.kind is NoticeKind.RECEIPT else ""

    @property
    def needs(self) -> Permission:
        """What the recipient must still be allowed when it goes out (access may end meanwhile)."""
        return Permission.ACT_ON_ALERTS if self.kind in (NoticeKind.ALERT, NoticeKind.PING) else Permission.LOG_MISUSE


@dataclass(frozen=True)
class Ping:
    """A re-send of an unacknowledged alert that is due now."""

    incident: Incident
    number: int  # 1 for the first re-send
    fallback_joins: bool  # the deputy and SLT get this one too


@dataclass(frozen=True)
class Due:
    """Everything owed now: the notices to post, then what `record` notes once they are posted."""

    notices: tuple[Notice, ...] = ()
    first_alerts: tuple[Incident, ...] = ()  # saved, but the alert was never queued (a stop in between)
    pings: tuple[Ping, ...] = ()
    unreachable: tuple[Incident, ...] = ()
    next_at: datetime | None = None


class Escalation:
    """The escalation of incidents to the Head Teacher, and who else hears of them."""

    def __init__(
        self,
        incidents: IncidentRepository,
        outbox: OutboxRepository,
        staff: StaffRepository,
        audit: Auditor,
        config: EscalationConfig,
    ) -> None:
        self.repo = incidents
        self.outbox = outbox
        self.staff = staff
        self.audit = audit
        self.config = config

    def heads(self) -> list[int]:
        return self.staff.with_roles(Role.HEAD)

    def fallback(self) -> list[int]:
        """Who hears of an alert the Head has not acknowledged: the deputy and SLT."""
        return self.staff.with_roles(*FALLBACK)

    # ---- an incident just logged --------------------------------------------------------
    def opened(self, incident: Incident) -> tuple[Notice, ...]:
        """The first alert for every Head (and the fallback when it starts there), then the receipt."""
        receipt = Notice(NoticeKind.RECEIPT, incident, incident.reporter_id, f"inc:{incident.number}:receipt")
        return (*self._first_alert(incident, self.heads(), self.fallback()), receipt)

    def alert_posted(self, incident: Incident) -> None:
        """After the first alert is queued: escalation from here on is `due`'s."""
        self.repo.mark_alert_posted(incident.number)
        self.audit(SYSTEM, "incident alert", incident.ref, detail="queued for the Head Teacher")

    def head_has_alert(self, incident: Incident) -> bool:
        """True once a copy of the alert has reached a Head (or someone has already acted on it)."""
        if incident.state != IncidentState.OPEN:
            return True
        heads = set(self.heads())
        return any(c.state == OutboxState.SENT and c.chat_id in heads for c in self._copies(incident))

    def not_yet(self, incident: Incident) -> Notice:
        """For the reporter when no Head has the alert yet; `due` follows it with REACHED."""
        return Notice(NoticeKind.NOT_YET, incident, incident.reporter_id, _not_yet_key(incident.number))

    # ---- on every tick --------------------------------------------------------------------
    def due(self, now: datetime) -> Due:
        """Every notice owed at `now`, and when to look again, from storage alone (restart-safe)."""
        heads, fallback = self.heads(), self.fallback()
        first = self.repo.unalerted()
        alerts = [n for incident in first for n in self._first_alert(incident, heads, fallback)]
        pings: list[Ping] = []
        resent: list[Notice] = []
        told: list[Notice] = []
        unreachable: list[Incident] = []
        wake: list[datetime] = []
        for incident in self.repo.unacknowledged():
            copies = self._copies(incident)
            next_ping = incident.next_ping_at
            if next_ping is not None and next_ping <= now:
                number = incident.pings + 1
                ping = Ping(incident, number, number >= self.config.fallback_after)
                pings.append(ping)
                resent += self._re_pings(incident, ping, copies, alerts, heads + (fallback if ping.fallback_joins else []))
                next_ping = now + ping_interval(self.config, incident.urgent)
            if next_ping is not None:
                wake.append(next_ping)
            reached = any(c.state == OutboxState.SENT and c.chat_id in heads for c in copies)
            if self._queued(_not_yet_key(incident.number)):
                key = f"inc:{incident.number}:reached"
                if not reached:
                    wake.append(now + REACHED_CHECK)
                elif not self._queued(key):
                    told.append(Notice(NoticeKind.REACHED, incident, incident.reporter_id, key))
            if incident.unreachable_told or reached:
                continue
            deadline = incident.opened_at + timedelta(minutes=self.config.unreachable_minutes)
            if now < deadline:
                wake.append(deadline)
                continue
            unreachable.append(incident)
            key = f"inc:{incident.number}:unreachable"
            people = [incident.reporter_id, *fallback]
            told += [Notice(NoticeKind.UNREACHABLE, incident, p, f"{key}:{p}") for p in dict.fromkeys(people)]
        return Due((*alerts, *resent, *told), tuple(first), tuple(pings), tuple(unreachable), min(wake, default=None))

    def record(self, due: Due, now: datetime) -> None:
        """After `due`'s notices are queued: note them, so the next tick does not owe them again."""
        for incident in due.first_alerts:
            self.alert_posted(incident)
        for ping in due.pings:
            incident = ping.incident
            next_at = now + ping_interval(self.config, incident.urgent)  # from now: no catch-up bursts
            self.repo.record_ping(incident.number, ping.number, next_at, incident.fallback_alerted or ping.fallback_joins)
            detail = f"re-send {ping.number}" + ("; deputy and SLT alerted" if ping.fallback_joins else "")
            self.audit(SYSTEM, "incident re-ping", incident.ref, detail=detail)
        for incident in due.unreachable:
            if self.repo.mark_unreachable_told(incident.number):
                self.audit(SYSTEM, "head unreachable", incident.ref, detail="reporter and SLT told")

    # ---- helpers ------------------------------------------------------------------------
    def _first_alert(self, incident: Incident, heads: list[int], fallback: list[int]) -> list[Notice]:
        people = heads + (fallback if incident.fallback_alerted else [])
        key = f"inc:{incident.number}:alert"
        return [Notice(NoticeKind.ALERT, incident, p, f"{key}:{p}") for p in dict.fromkeys(people)]

    def _re_pings(
        self, incident: Incident, ping: Ping, copies: list[OutboxItem], alerts: list[Notice], people: list[int]
    ) -> list[Notice]:
        """One alert per person, kept up to date: who holds a copy gets a short ping, who has none the alert.

        Someone whose copy is still waiting to go out gets nothing more: it will reach them as it stands.
        """
        waiting = {c.chat_id for c in copies if c.state == OutboxState.PENDING}
        waiting |= {a.recipient for a in alerts if a.incident.number == incident.number}
        holding = {c.chat_id for c in copies if c.state == OutboxState.SENT}
        key = f"inc:{incident.number}:ping:{ping.number}"
        return [
            Notice(NoticeKind.PING if p in holding else NoticeKind.ALERT, incident, p, f"{key}:{p}", ping.number)
            for p in dict.fromkeys(people)
            if p not in waiting
        ]

    def _copies(self, incident: Incident) -> list[OutboxItem]:
        return self.outbox.in_thread(alert_thread(incident.number))

    def _queued(self, key: str) -> bool:
        return self.outbox.by_key(key) is not None


def _not_yet_key(number: int) -> str:
    return f"inc:{number}:notyet"

"""Retention: records past their period are listed weekly, and deleted only when the Head confirms.

Periods are in calendar months (config [retention]). What is due is computed "as of" a school-local
date; a confirmation recomputes it as of its preview's date and deletes only what is both still
due then and named by the preview, so a stale preview can never delete anything newer than what
the Head saw. The audit log is append-only, one file per month: it is purged by dropping whole
months whose every entry is past the period (rewriting a month would make the trail editable), so
it keeps up to one month more than `audit_months`.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.clock import Clock, local_day, local_moment
from bot.config import WEEKDAYS, RetentionConfig
from bot.incidents.vocabulary import ref
from bot.records.applications import Status
from bot.records.audit import SYSTEM
from bot.records.incidents import IncidentState
from bot.records.retention import DueItems, Preview, PreviewState
from bot.roles import Permission, allows
from bot.wording import plural
from storage.applications import ApplicationRepository
from storage.consents import ConsentRepository
from storage.incidents import IncidentRepository
from storage.retention import RetentionRepository, audit_months, drop_audit_month
from storage.staff import StaffRepository

DECIDED = (Status.APPROVED, Status.REJECTED, Status.LINKED)
INCIDENT_FOLDER = re.compile(r"INC-(\d{4,9})")  # an incident's evidence folder, as bot.incidents.vocabulary.ref names it
AuditCall = Callable[..., None]


def months_before(day: date, months: int) -> date:
    """The same day `months` calendar months earlier (the month's last day when it is shorter)."""
    total = day.year * 12 + day.month - 1 - months
    year, month = divmod(total, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


class Answer(StrEnum):
    PURGED = "purged"
    CANCELLED = "cancelled"
    REFUSED = "refused"  # the person may not delete records (checked again here, from storage)
    STALE = "stale"  # a newer preview was made, or this one no longer exists
    ALREADY = "already"  # answered before (a double tap, or another Head)


@dataclass(frozen=True)
class Outcome:
    answer: Answer
    preview: Preview | None
    removed: DueItems | None = None  # what a purge deleted


class Retention:
    """Lists what is past its retention period and deletes it on the Head's confirmation."""

    def __init__(
        self,
        config: RetentionConfig,
        incidents: IncidentRepository,
        applications: ApplicationRepository,
        consents: ConsentRepository,
        audit_folder: Path,
        records: RetentionRepository,
        staff: StaffRepository,
        audit: AuditCall,
        clock: Clock,
        tz: ZoneInfo,
    ) -> None:
        self.config = config
        self.incidents = incidents
        self.applications = applications
        self.consents = consents
        self.audit_folder = audit_folder
        self.records = records
        self.staff = staff
        self.audit = audit
        self.clock = clock
        self.tz = tz

    def _cutoff(self, as_of: date, months: int) -> datetime:
        return local_moment(months_before(as_of, months), time(0, 0), self.tz)

    def due(self, as_of: date) -> DueItems:
        """Everything past its period as of `as_of` (a school-local date)."""
        c = self.config
        oldest: dict[str, datetime] = {}
        incidents = [
            i
            for i in self.incidents.all()
            if i.state == IncidentState.CLOSED and i.closed_at and i.closed_at < self._cutoff(as_of, c.closed_incident_months)
        ]
        if incidents:
            oldest["incidents"] = min(i.closed_at for i in incidents if i.closed_at)
        applications = [
            a
            for a in self.applications.with_status(*DECIDED)
            if (a.decided_at or a.created_at) < self._cutoff(as_of, c.decided_application_months)
        ]
        if applications:
            oldest["applications"] = min(a.decided_at or a.created_at for a in applications)
        audit_end = self._cutoff(as_of, c.audit_months).astimezone(UTC)
        months = [m for m in audit_months(self.audit_folder) if _month_end(m) <= audit_end]
        if months:
            oldest["audit"] = datetime.strptime(months[0], "%Y-%m").replace(tzinfo=UTC)
        # A pupil first seen as left is noted with today's date, never `as_of`: a confirmation
        # recomputing an older preview must not backdate anyone's leaving.
        today = local_day(self.clock.now(), self.tz)
        left = self.records.left_since([p.pupil_id for p in self.consents.all() if p.left], today)
        pupil_cutoff = months_before(as_of, c.left_pupil_months)
        pupils = sorted(pid for pid, since in left.items() if since <= pupil_cutoff)
        if pupils:
            oldest["pupils"] = local_moment(min(left[p] for p in pupils), time(0, 0), self.tz)
        return DueItems(
            incidents=tuple(i.number for i in incidents),
            evidence_files=sum(len(i.evidence) for i in incidents),
            applications=tuple(a.number for a in applications),
            audit_months=tuple(months),
            pupils=tuple(pupils),
            oldest=oldest,
        )

    def preview(self) -> Preview:
        """What is due today, stored so a confirmation can delete exactly that and nothing newer.

        First it finishes any purge a crash cut short (see `finish_purges`)."""
        self.finish_purges()
        now = self.clock.now()
        today = local_day(now, self.tz)
        return self.records.add_preview(Preview(0, today, now, self.due(today)))

    def answer(self, actor_id: int, preview_id: int, confirm: bool) -> Outcome:
        """The Head's Delete or Cancel on a preview: the role is checked again here, from storage, and a
        stale or answered preview changes nothing."""
        if not allows(self.staff.role_of(actor_id), Permission.PURGE_RECORDS):
            self.audit(actor_id, "retention purge", f"preview {preview_id}", outcome="refused: role")
            return Outcome(Answer.REFUSED, None)
        preview = self.records.preview(preview_id)
        latest = self.records.latest()
        if preview is None or latest is None or (latest.id != preview.id and preview.state == PreviewState.WAITING):
            return Outcome(Answer.STALE, preview)
        if preview.state == PreviewState.SUPERSEDED:
            return Outcome(Answer.STALE, preview)
        if preview.state != PreviewState.WAITING:
            return Outcome(Answer.ALREADY, preview)
        now = self.clock.now()
        if not confirm:
            self.records.answer(preview.id, PreviewState.CANCELLED, actor_id, now)
            self.audit(actor_id, "retention cancel", f"preview {preview.id}")
            return Outcome(Answer.CANCELLED, preview)
        doomed = self.due(preview.as_of).within(preview.items)
        removed = self._purge(doomed)
        self.records.answer(preview.id, PreviewState.PURGED, actor_id, now)
        self.audit(actor_id, "retention purge", f"preview {preview.id}", detail=describe(removed))
        return Outcome(Answer.PURGED, preview, removed)

    def finish_purges(self) -> int:
        """Delete the screenshots of incidents already deleted; how many files went.

        A purge deletes the records first (one write), then their files: a crash between leaves
        screenshots no record points to, which nobody could find or delete any more. Their deletion
        was confirmed by the Head with their incident's, so it is finished here without asking again,
        and audited. Only numbers already given count: a /log copies its screenshots into its new
        number's folder just before it saves the incident, and that number is not given yet.
        """
        last_given = self.incidents.next_number() - 1
        evidence = self.incidents.evidence
        try:
            names = sorted(p.name for p in evidence.root.iterdir() if p.is_dir())
        except OSError:
            return 0
        orphans = []
        for name in names:
            match = INCIDENT_FOLDER.fullmatch(name)
            number = int(match.group(1)) if match else 0
            if match and name == ref(number) and number <= last_given and self.incidents.get(number) is None:
                orphans.append(name)
        removed = sum(evidence.remove(name) for name in orphans)
        if orphans:
            self.audit(
                SYSTEM,
                "retention purge finished",
                detail=f"{plural(removed, 'screenshot')} of {plural(len(orphans), 'incident')} deleted before "
                "(the purge had stopped before their files went)",
            )
        return removed

    def _purge(self, doomed: DueItems) -> DueItems:
        """Delete the records, then their files: a crash between leaves files no record points to,
        which the next list removes (`finish_purges`)."""
        evidence = self.incidents.forget(doomed.incidents)
        self.applications.forget(doomed.applications)
        self.consents.forget(doomed.pupils)
        for month in doomed.audit_months:
            drop_audit_month(self.audit_folder, month)
        return DueItems(doomed.incidents, evidence, doomed.applications, doomed.audit_months, doomed.pupils, doomed.oldest)

    def next_check(self, now: datetime) -> datetime:
        """The next weekly check: this week's day and time if still ahead, else next week's."""
        today = local_day(now, self.tz)
        day = today + timedelta(days=(WEEKDAYS.index(self.config.weekday) - today.weekday()) % 7)
        moment = local_moment(day, self.config.time, self.tz)
        return moment if moment > now else local_moment(day + timedelta(days=7), self.config.time, self.tz)

    def check_due(self, now: datetime) -> bool:
        """The weekly check is due when its moment this week has passed and no preview was made since."""
        last = self.next_check(now) - timedelta(days=7)
        latest = self.records.latest()
        return now >= last and (latest is None or latest.made_at < last)


def _month_end(month: str) -> datetime:
    """The first instant after a month's audit file (files are named by the UTC month)."""
    year, number = map(int, month.split("-"))
    return datetime(year + number // 12, number % 12 + 1, 1, tzinfo=UTC)


def describe(items: DueItems) -> str:
    """One line of what a purge removes or removed: counts and months, never a name."""
    parts = [
        f"{plural(len(items.incidents), 'closed incident')} ({plural(items.evidence_files, 'screenshot')})",
        plural(len(items.applications), "decided application"),
        f"{plural(len(items.audit_months), 'month')} of audit log"
        + (f" ({', '.join(items.audit_months)})" if items.audit_months else ""),
        f"{plural(len(items.pupils), 'pupil')} who left",
    ]
    return "; ".join(parts)

"""CSV exports for the Head and SLT: incidents, applications, the audit log, moderation days.

Every file is UTF-8 with a byte-order mark (Excel otherwise reads "Zoë" as "ZoÃ«") and every
cell is made safe to open in a spreadsheet: a cell people typed that begins with = + - @, a tab
or a carriage return would run as a formula (CSV injection), so it gets a leading apostrophe.
The audit export is the one place raw ids and hashes appear, beside the plain-English sentence.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.audit_view import Wording, actor_words, describe
from bot.auditing import Auditor
from bot.config import Config
from bot.date_range import DateRange
from bot.incidents.export import incidents_csv
from bot.moderation import Moderation
from bot.records.applications import Status
from bot.staff import staff_name
from bot.wording import plural
from storage.applications import ApplicationRepository
from storage.audit import AuditLog
from storage.incidents import IncidentRepository
from storage.staff import StaffRepository

KINDS = ("incidents", "applications", "audit", "moderation")
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(text: object) -> str:
    """A cell a spreadsheet shows as text, never runs as a formula."""
    cell = "" if text is None else str(text)
    return "'" + cell if cell.startswith(_FORMULA_STARTS) else cell


def table(rows: Iterable[Sequence[object]]) -> bytes:
    """Rows as CSV bytes with every cell made safe, UTF-8 with a BOM for Excel."""
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
    return out.getvalue().encode("utf-8-sig")


@dataclass(frozen=True)
class Export:
    kind: str
    filename: str
    data: bytes
    rows: int


class Exports:
    """Builds each export for a date range; each one is audited with its kind, range and size."""

    def __init__(
        self,
        incidents: IncidentRepository,
        applications: ApplicationRepository,
        staff: StaffRepository,
        log: AuditLog,
        moderation: Moderation,
        audit: Auditor,
        config: Config,
        today: Callable[[], date],
    ) -> None:
        self.incidents = incidents
        self.applications = applications
        self.staff = staff
        self.log = log
        self.moderation = moderation
        self.audit = audit
        self.config = config
        self.today = today

    @property
    def tz(self) -> ZoneInfo:
        return self.config.school.timezone

    def build(self, actor_id: int, kind: str, days: DateRange) -> Export:
        """The CSV of `kind` for `days` (both ends optional); ValueError for an unknown kind."""
        if kind not in KINDS:
            raise ValueError(f"unknown export {kind!r}")
        rows, data = {
            "incidents": self._incidents,
            "applications": self._applications,
            "audit": self._audit,
            "moderation": self._moderation,
        }[kind](days)
        today = self.today().isoformat()
        span = "" if days.open else f"-{days.first or 'start'}-to-{days.last or today}"
        self.audit(actor_id, f"export {kind}", days.describe(), detail=plural(rows, "row"))
        return Export(kind, f"{kind}{span}-{today}.csv", data, rows)

    def _when(self, moment: datetime | None) -> str:
        return moment.astimezone(self.tz).strftime("%Y-%m-%d %H:%M") if moment else ""

    def _incidents(self, days: DateRange) -> tuple[int, bytes]:
        chosen = [i for i in self.incidents.all() if days.holds(i.opened_at, self.tz)]
        numbers = {i.number for i in chosen}
        actions = [a for a in self.incidents.all_actions() if a.number in numbers]
        text = incidents_csv(chosen, actions, self.tz)  # its cells are already made safe
        return len(chosen), text.encode("utf-8-sig")

    def _applications(self, days: DateRange) -> tuple[int, bytes]:
        chosen = [a for a in self.applications.with_status(*Status) if days.holds(a.created_at, self.tz)]
        chosen.sort(key=lambda a: a.number)
        name = self._name
        header = (
            "number",
            "received",
            "source",
            "status",
            "parent",
            "relationship",
            "children",
            "pupil_ids",
            "code_of_conduct_signed",
            "decided_by",
            "decided_at",
            "reason",
        )
        rows = [
            (
                a.number,
                self._when(a.created_at),
                a.source.value,
                a.status.value,
                a.parent_name,
                a.relationship,
                "; ".join(child.name for child in a.children),
                " ".join(a.pupil_ids()),
                "yes" if a.conduct_signed else "no",
                name(a.decided_by) if a.decided_by else "",
                self._when(a.decided_at),
                a.reason,
            )
            for a in chosen
        ]
        return len(rows), table([header, *rows])

    def _audit(self, days: DateRange) -> tuple[int, bytes]:
        log = self.log
        start = days.start(self.tz) or datetime.min.replace(tzinfo=self.tz)
        entries = log.between(start, days.end(self.tz))
        config = self.config
        wording = Wording(self._name, config.consent.label, self.tz)
        header = ("when", "when_utc", "who", "actor_id", "actor_role", "action", "target", "outcome", "detail", "in_words")
        rows = [
            (
                self._when(e.at),
                e.at.isoformat(),
                actor_words(e, wording),
                e.actor_id,
                e.actor_role,
                e.action,
                e.target,
                e.outcome,
                e.detail,
                describe(e, wording),
            )
            for e in entries
        ]
        return len(rows), table([header, *rows])

    def _moderation(self, days: DateRange) -> tuple[int, bytes]:
        duty = self.moderation
        tracked = duty.first_tracked_day()
        today = self.today()
        first = max(d for d in (days.first, tracked) if d is not None) if tracked or days.first else today
        last = min(days.last or today, today)
        header = ("day", "status", "on_duty", "checked_by", "checked_at", "outcome")
        rows = []
        day: date = first
        while day <= last and tracked is not None:
            result = duty.result(day)
            record = result.record
            rows.append(
                (
                    day.isoformat(),
                    result.status.value,
                    "; ".join(self._name(uid) for uid in result.on_duty),
                    self._name(record.checked_by) if record and record.checked_by else "",
                    self._when(record.checked_at) if record else "",
                    record.outcome if record else "",
                )
            )
            day += timedelta(days=1)
        return len(rows), table([header, *rows])

    def _name(self, user_id: int) -> str:
        return staff_name(self.staff, user_id)

"""What the moderation duty answers: how each day went, compliance, a check, and what is owed now.

Plain values the Moderation service derives from config and storage and handlers render;
`Due` is everything the timed work must send at one moment.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from bot.moderation.rota import Duty
from bot.records.moderation import CheckOutcome, DayRecord, Reminder

FINE = CheckOutcome.FINE
PROBLEM = CheckOutcome.PROBLEM
OUTCOMES = tuple(CheckOutcome)


def days_back(last: date, first: date) -> list[date]:
    """Days from `last` back to `first`, newest first."""
    return [last - timedelta(days=n) for n in range((last - first).days + 1)]


# ---- each day's record ---------------------------------------------------------------------


class DayStatus(StrEnum):
    ON_TIME = "on time"
    LATE = "late"
    MISSED = "missed"
    DUE = "due"  # today, before the deadline, not yet checked
    NO_DUTY = "not a moderation day"


@dataclass(frozen=True)
class DayResult:
    day: date
    status: DayStatus
    record: DayRecord | None
    on_duty: tuple[int, ...] = ()


@dataclass(frozen=True)
class Compliance:
    """On-time checks over moderation days whose deadline has passed."""

    on_time: int
    late: int
    missed: int
    streak: int  # moderation days in a row checked on time, up to now

    @property
    def due_days(self) -> int:
        return self.on_time + self.late + self.missed

    @property
    def percent(self) -> int | None:
        return round(100 * self.on_time / self.due_days) if self.due_days else None


def compliance(results: Sequence[DayResult], streak: int) -> Compliance:
    counts = Counter(r.status for r in results)
    return Compliance(counts[DayStatus.ON_TIME], counts[DayStatus.LATE], counts[DayStatus.MISSED], streak)


@dataclass(frozen=True)
class CheckResult:
    """The answer to "page checked": recorded now, or who got there first, or why not."""

    recorded: bool
    record: DayRecord | None
    late: bool = False
    refusal: str = ""


# ---- what is owed right now -----------------------------------------------------------------


@dataclass(frozen=True)
class NudgeDue:
    day: date
    duty: Duty
    late: bool  # sent after the deadline (the bot was down at nudge time)


@dataclass(frozen=True)
class EscalationDue:
    day: date
    on_duty: tuple[int, ...]
    heads: tuple[int, ...]


@dataclass(frozen=True)
class DigestDue:
    """The weekly picture for the Head, for the seven days before `day`."""

    day: date
    first: date
    last: date
    heads: tuple[int, ...]
    compliance: Compliance
    audit_counts: tuple[tuple[str, int], ...]
    incidents: tuple[int, int] | None  # (opened, closed), when the incidents feature offers it


@dataclass(frozen=True)
class Due:
    nudge: NudgeDue | None = None
    escalation: EscalationDue | None = None
    reminders: tuple[Reminder, ...] = ()
    stale_reminders: tuple[Reminder, ...] = ()  # the day was checked or is over: drop silently
    digest: DigestDue | None = None
    next_at: datetime | None = None

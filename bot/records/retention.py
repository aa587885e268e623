"""What the retention check found due for deletion, and the Head's preview of it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum


@dataclass(frozen=True)
class DueItems:
    """Records past their retention period, by id only (never a pupil's name)."""

    incidents: tuple[int, ...] = ()  # closed incidents, by number
    evidence_files: int = 0  # their screenshots
    applications: tuple[int, ...] = ()  # decided parents'-group applications, by number
    audit_months: tuple[str, ...] = ()  # whole months of the audit log, "2023-10"
    pupils: tuple[str, ...] = ()  # pupils marked as left, by pupil id
    oldest: dict[str, datetime] = field(default_factory=dict, hash=False)  # kind -> the oldest item's date

    @property
    def empty(self) -> bool:
        return not (self.incidents or self.applications or self.audit_months or self.pupils)

    def within(self, listed: DueItems) -> DueItems:
        """Only what `listed` (a preview the Head saw) also names: a purge never reaches past its preview."""
        return DueItems(
            incidents=tuple(n for n in self.incidents if n in listed.incidents),
            applications=tuple(n for n in self.applications if n in listed.applications),
            audit_months=tuple(m for m in self.audit_months if m in listed.audit_months),
            pupils=tuple(p for p in self.pupils if p in listed.pupils),
            oldest=self.oldest,
        )


class PreviewState(StrEnum):
    WAITING = "waiting"  # shown to the Head, not yet answered
    PURGED = "purged"
    CANCELLED = "cancelled"
    SUPERSEDED = "superseded"  # written by earlier versions: a newer preview was made (now the older is dropped)


@dataclass(frozen=True)
class Preview:
    """What one weekly check (or /retention) showed the Head, as of `as_of` (a school-local date)."""

    id: int
    as_of: date
    made_at: datetime
    items: DueItems
    state: PreviewState = PreviewState.WAITING
    answered_by: int = 0
    answered_at: datetime | None = None

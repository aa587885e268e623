"""The moderation duty as stored: the rota, each day's record, and "remind me in an hour"."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from bot.config import WEEKDAYS, ModerationConfig


class CheckOutcome(StrEnum):
    """What the admin who checked the page found."""

    FINE = "fine"
    PROBLEM = "problem"


class RotaKind(StrEnum):
    EVERYONE = "everyone"  # nobody named: every page administrator is nudged
    DAILY = "daily"  # take turns, one moderation day each
    WEEKLY = "weekly"  # take turns, one Monday-to-Sunday week each
    FIXED = "fixed"  # the same people on the same weekday every week


@dataclass(frozen=True)
class Rota:
    """Who the Head and SLT put on duty; `starts` anchors a rotation (the first person's turn)."""

    kind: RotaKind = RotaKind.EVERYONE
    admins: tuple[int, ...] = ()
    fixed: tuple[tuple[str, tuple[int, ...]], ...] = ()  # (weekday, ids), weekdays as in WEEKDAYS
    starts: date | None = None
    changed_by: int = 0
    changed_at: datetime | None = None

    def same_plan(self, other: Rota) -> bool:
        """True when `other` would put the same people on the same days (a double tap)."""
        return (self.kind, self.admins, self.fixed, self.starts) == (other.kind, other.admins, other.fixed, other.starts)

    def people(self) -> tuple[int, ...]:
        """Everyone the rota names, once each, in order."""
        named = list(self.admins) + [uid for _, ids in self.fixed for uid in ids]
        return tuple(dict.fromkeys(named))

    def named_for(self, day: date, moderation: ModerationConfig) -> tuple[int, ...]:
        """Who the rota names for `day`; empty means nobody (so every admin is nudged)."""
        if self.kind is RotaKind.FIXED:
            return dict(self.fixed).get(WEEKDAYS[day.weekday()], ())
        if not self.admins or self.kind is RotaKind.EVERYONE:
            return ()
        anchor = self.starts or day
        if self.kind is RotaKind.WEEKLY:
            turn = (_monday(day) - _monday(anchor)).days // 7
        else:  # a daily rotation counts moderation days only, so weekends and holidays skip nobody
            turn = _moderation_days_between(anchor, day, moderation)
        return (self.admins[turn % len(self.admins)],)


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _moderation_days_between(anchor: date, day: date, moderation: ModerationConfig) -> int:
    """How many moderation days lie in [anchor, day) (negative when day is before anchor)."""
    first, last, sign = (anchor, day, 1) if anchor <= day else (day, anchor, -1)
    count = sum(1 for n in range((last - first).days) if moderation.is_moderation_day(first + timedelta(days=n)))
    return sign * count


@dataclass(frozen=True)
class DayRecord:
    """What happened on one moderation day: who was nudged, who checked, whether the Head was told."""

    day: date
    on_duty: tuple[int, ...] = ()
    nudged_at: datetime | None = None
    checked_by: int = 0
    checked_at: datetime | None = None
    outcome: CheckOutcome | None = None  # once checked
    escalated_at: datetime | None = None

    @property
    def checked(self) -> bool:
        return self.checked_at is not None


@dataclass(frozen=True)
class Reminder:
    """ "Remind me in an hour": one stored reminder for one person and one day."""

    day: date
    user_id: int
    due_at: datetime

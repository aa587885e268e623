"""Time: stored in UTC, shown in the school's zone, and controllable in tests."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


class Clock:
    """The real time. Everything that needs "now" asks a Clock, never datetime.now()."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FakeClock(Clock):
    """A clock tests move by hand, so a week of schedules runs in seconds."""

    def __init__(self, start: datetime) -> None:
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def set(self, moment: datetime) -> None:
        self._now = moment.astimezone(UTC)

    def advance(self, **delta: float) -> datetime:
        self._now += timedelta(**delta)
        return self._now


def local_moment(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The UTC instant of a school-local wall-clock time (DST-correct; a skipped hour moves later)."""
    naive = datetime.combine(day, at)
    moment = naive.replace(tzinfo=tz)
    # A wall time inside the spring-forward gap does not exist; round-trip to find its real instant.
    return moment.astimezone(UTC).astimezone(tz).astimezone(UTC)


def local_day(moment: datetime, tz: ZoneInfo) -> date:
    return moment.astimezone(tz).date()


def show_time(moment: datetime, tz: ZoneInfo) -> str:
    """How a time reads to staff: school-local, e.g. "Wed 25 Nov 14:05"."""
    return moment.astimezone(tz).strftime("%a %-d %b %H:%M")


def show_date(day: date) -> str:
    return day.strftime("%-d %b %Y")

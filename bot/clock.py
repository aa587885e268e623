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


# Fixed English names, not strftime's %a and %b: what staff read never depends on the machine's locale.
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def show_date(day: date) -> str:
    """A date as staff read it, e.g. "1 Mar 2026"."""
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def show_day(day: date, *, year: bool = True) -> str:
    """A day with its weekday, e.g. "Wed 25 Nov 2026" (or "Wed 25 Nov" inside a range that names the year)."""
    shown = f"{_DAYS[day.weekday()]} {day.day} {_MONTHS[day.month - 1]}"
    return f"{shown} {day.year}" if year else shown


def show_clock(moment: datetime, tz: ZoneInfo) -> str:
    """The school-local time of day of a moment, e.g. "14:05"."""
    return f"{moment.astimezone(tz):%H:%M}"


def show_time(moment: datetime, tz: ZoneInfo) -> str:
    """How a moment reads to staff: school-local, e.g. "Wed 25 Nov 14:05"."""
    return f"{show_day(local_day(moment, tz), year=False)} {show_clock(moment, tz)}"

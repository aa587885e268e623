"""A range of school days typed by staff ("01/11/2026 30/11/2026"), as /audit and /export take it.

UK schools write dates day first, so `3/11/2026` is 3 November; ISO `2026-11-03` is read too.
The range is inclusive of both days and turned into UTC instants in the school's time zone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.clock import local_moment, show_date

_UK = re.compile(r"^(\d{1,2})[/.](\d{1,2})[/.](\d{2}|\d{4})$")
USAGE = "dates as 31/10/2026 or 2026-10-31"
EARLIEST, LATEST = date(2000, 1, 1), date(2099, 12, 31)  # a year outside is a slip (9999, 0001), not a school day


class BadRange(ValueError):
    """What was typed is not a date range; the message says why, in staff's words."""


def parse_day(text: str) -> date | None:
    """A day typed as 31/10/2026, 31/10/26, 31.10.2026 or 2026-10-31; None otherwise."""
    text = text.strip()
    match = _UK.match(text)
    try:
        if match:
            day, month, year = (int(part) for part in match.groups())
            found = date(year + 2000 if len(match.group(3)) == 2 else year, month, day)
        elif re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            found = date.fromisoformat(text)
        else:
            return None
    except ValueError:
        return None
    return found if EARLIEST <= found <= LATEST else None


@dataclass(frozen=True)
class DateRange:
    """Whole school days, first and last included; either end may be open."""

    first: date | None = None
    last: date | None = None

    @property
    def open(self) -> bool:
        return self.first is None and self.last is None

    def start(self, tz: ZoneInfo) -> datetime | None:
        return local_moment(self.first, time(0), tz) if self.first else None

    def end(self, tz: ZoneInfo) -> datetime | None:
        """The first instant after the range (midnight after its last day)."""
        return local_moment(self.last + timedelta(days=1), time(0), tz) if self.last else None

    def holds(self, moment: datetime, tz: ZoneInfo) -> bool:
        start, end = self.start(tz), self.end(tz)
        return (start is None or moment >= start) and (end is None or moment < end)

    def describe(self) -> str:
        if self.first and self.last:
            return show_date(self.first) if self.first == self.last else f"{show_date(self.first)} to {show_date(self.last)}"
        if self.first:
            return f"from {show_date(self.first)}"
        if self.last:
            return f"up to {show_date(self.last)}"
        return "all dates"


def parse_range(words: list[str]) -> DateRange:
    """`[FROM [TO]]` (an optional "to" between them): one day alone means that day only, but
    "from DAY" alone runs on to today and "to DAY" alone starts at the beginning, as they read."""
    alone = [w.lower() for w in words]
    words = [w for w in words if w.lower() not in ("to", "-", "from")]
    if not words:
        return DateRange()
    if len(words) == 1 and alone[:1] in (["from"], ["to"]):
        day = parse_day(words[0])
        if day is None:
            raise BadRange(f"“{words[0][:30]}” is not a date: write {USAGE}.")
        return DateRange(day, None) if alone[0] == "from" else DateRange(None, day)
    if len(words) > 2:
        raise BadRange(f"Give at most two dates (from and to), {USAGE}.")
    days = [parse_day(w) for w in words]
    for word, day in zip(words, days, strict=True):
        if day is None:
            raise BadRange(f"“{word[:30]}” is not a date: write {USAGE}.")
    first = days[0]
    last = days[1] if len(days) == 2 else first
    assert first is not None and last is not None
    if last < first:
        raise BadRange("The second date is before the first: write the earlier date first.")
    return DateRange(first, last)

"""Time travel for the demo: `/advance 30m` and `/at 08:30` move the demo's own clock.

Only the demo's clock moves (a FakeClock handed to the bot when it is built); the bot run for a
school keeps the real one. Moving it does what a day of real time would: the Ticker is asked what
is due, the clock steps to the next moment anything wants to run, and so on up to the target, so a
nudge, a re-ping or the digest each fires at its own moment and in order, never all at the end.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.clock import FakeClock, local_day, local_moment
from bot.shell.ticker import Ticker

# Never step by less than the bot's safety tick (bot.shell.app.SAFETY_TICK): work that says "again
# at once" (a failed piece is retried a minute later) cannot hold the demo at one moment forever.
SMALLEST_STEP = timedelta(seconds=30)
LONGEST_JUMP = timedelta(days=31)
_UNITS = {"m": "minutes", "min": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_SPAN = re.compile(r"(\d{1,4})\s*(min|m|h|d|w)")
_CLOCK = re.compile(r"([01]?\d|2[0-3])[:.h]([0-5]\d)")

ADVANCE_USAGE = "Usage: /advance 30m, /advance 2h or /advance 1d (m minutes, h hours, d days, w weeks; at most 31 days)."
AT_USAGE = "Usage: /at 08:30 — the next 08:30 in the school's time zone (24-hour clock)."


def parse_span(text: str) -> timedelta | None:
    """ "30m", "2h", "1d", "1h30m" as a length of time; None for anything else, zero or over 31 days."""
    words = text.strip().lower().replace(" ", "")
    if not words or _SPAN.sub("", words):
        return None
    span = sum((timedelta(**{_UNITS[unit]: int(n)}) for n, unit in _SPAN.findall(words)), timedelta())
    return span if timedelta(0) < span <= LONGEST_JUMP else None


def parse_clock(text: str) -> time | None:
    """ "08:30" or "8:30" as a time of day; None for anything else."""
    match = _CLOCK.fullmatch(text.strip().lower())
    return time(int(match.group(1)), int(match.group(2))) if match else None


def next_occurrence(now: datetime, at: time, tz: ZoneInfo) -> datetime:
    """The first moment after `now` when the school's clocks show `at` (today's, or tomorrow's)."""
    today = local_day(now, tz)
    moment = local_moment(today, at, tz)
    return moment if moment > now else local_moment(today + timedelta(days=1), at, tz)


class TimeMachine:
    """Moves the demo's clock forward, running every timed job that falls due on the way, in order."""

    def __init__(self, clock: FakeClock, ticker: Ticker, after_step: Callable[[datetime], Awaitable[None]]) -> None:
        self.clock = clock
        self.ticker = ticker
        # Called after each tick with the moment it ran at: the demo waits for the bot and prints what it sent.
        self.after_step = after_step

    async def travel_to(self, target: datetime) -> bool:
        """Step to `target` through each moment something is due; False (nothing moves) if it is not ahead."""
        if target <= self.clock.now():
            return False
        while True:
            following = await self.ticker.tick()
            await self.after_step(self.clock.now())
            if following is None:
                break
            step = max(following, self.clock.now() + SMALLEST_STEP)
            if step > target:
                break
            self.clock.set(step)
        if self.clock.now() < target:
            self.clock.set(target)
            await self.ticker.tick()
            await self.after_step(target)
        return True

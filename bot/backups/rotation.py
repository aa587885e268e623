"""Which backups are kept: the newest of each recent day, week and month (grandfather-father-son)."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo


class Dated(Protocol):
    @property
    def path(self) -> Path: ...
    @property
    def made_at(self) -> datetime: ...


def to_keep(archives: Sequence[Dated], tz: ZoneInfo, daily: int, weekly: int, monthly: int) -> set[Path]:
    """The archives to keep: the newest of each of the last `daily` days that have one, of the last
    `weekly` ISO weeks and of the last `monthly` months (school-local dates). Any other may go."""
    newest_first = sorted(archives, key=lambda a: a.made_at, reverse=True)

    def newest_of_each(period: Callable[[date], Hashable], count: int) -> set[Path]:
        chosen: dict[Hashable, Path] = {}
        for archive in newest_first:
            key = period(archive.made_at.astimezone(tz).date())
            if key not in chosen:
                if len(chosen) == count:
                    break
                chosen[key] = archive.path
        return set(chosen.values())

    return (
        newest_of_each(lambda d: d, daily)
        | newest_of_each(lambda d: d.isocalendar()[:2], weekly)
        | newest_of_each(lambda d: (d.year, d.month), monthly)
    )

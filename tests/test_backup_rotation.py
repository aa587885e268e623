"""Which backups are kept: the newest of each of the last days, weeks and months, in school time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.backups import ArchiveInfo
from bot.backups.rotation import to_keep

LONDON = ZoneInfo("Europe/London")


def nightly(first: datetime, nights: int) -> list[ArchiveInfo]:
    return [ArchiveInfo(Path(f"b{n:03d}"), first + timedelta(days=n), 1) for n in range(nights)]


def test_a_year_of_nightly_backups_keeps_7_days_5_weeks_and_12_months() -> None:
    archives = nightly(datetime(2025, 12, 1, 2, 0, tzinfo=UTC), 365)  # 1 Dec 2025 to 30 Nov 2026
    kept = {a.made_at.date() for a in archives if a.path in to_keep(archives, LONDON, 7, 5, 12)}
    last_week = {datetime(2026, 11, d).date() for d in range(24, 31)}
    # 30 Nov is a Monday: its week is the first of the 5, then the Sundays ending the 4 before it
    # (the 29th is already kept as a day).
    sundays = {datetime(2026, 11, d).date() for d in (8, 15, 22)}
    month_ends = {(datetime(2026, m + 1, 1) - timedelta(days=1)).date() for m in range(1, 11)} | {datetime(2025, 12, 31).date()}
    assert kept == last_week | sundays | month_ends
    assert len(kept) == 7 + 3 + 11  # November's newest is already kept as a day


def test_a_backup_made_just_after_midnight_in_summer_counts_for_its_school_day() -> None:
    # 23:30 UTC on 30 June is 00:30 on 1 July in London: a July backup, not June's.
    late = ArchiveInfo(Path("late"), datetime(2026, 6, 30, 23, 30, tzinfo=UTC), 1)
    june = ArchiveInfo(Path("june"), datetime(2026, 6, 30, 1, 0, tzinfo=UTC), 1)
    assert to_keep([late, june], LONDON, 1, 0, 2) == {Path("late"), Path("june")}
    assert to_keep([late, june], LONDON, 1, 0, 0) == {Path("late")}

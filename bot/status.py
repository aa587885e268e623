"""/status: how the bot is doing, in one look, for the Head and SLT.

Everything is read from storage and the disk at the moment of asking.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from pathlib import Path

from bot.backups import ArchiveInfo, Backups
from bot.backups.service import bot_version
from bot.backups.snapshot import REPLACED_PREFIX
from bot.records.moderation import CheckOutcome, DayRecord
from bot.records.retention import DueItems
from bot.retention import Retention
from storage.moderation import ModerationRepository
from storage.outbox import OutboxRepository
from storage.staff import StaffRepository

NUDGE_LOOKBACK = timedelta(days=30)


class NudgeOutcome(StrEnum):
    FINE = "checked, all fine"
    PROBLEM = "checked, a problem found"
    MISSED = "not checked by the deadline (the Head was told)"
    WAITING = "not checked yet"


@dataclass(frozen=True)
class LastNudge:
    day: date
    at: datetime
    outcome: NudgeOutcome
    checked_at: datetime | None


@dataclass(frozen=True)
class Status:
    version: str
    started_at: datetime
    now: datetime
    last_nudge: LastNudge | None
    waiting: int  # messages and alerts saved but not yet delivered
    oldest_waiting: datetime | None
    unreachable: tuple[tuple[int, datetime], ...]  # staff Telegram will not let the bot write to, since when
    data_bytes: int
    free_bytes: int
    backups_on: bool
    last_backup: ArchiveInfo | None
    backup_failure: tuple[datetime, str] | None
    next_backup: datetime | None
    next_check: datetime
    due_now: DueItems
    set_aside: tuple[str, ...] = ()  # folders of files a restore replaced, still kept in the data folder
    backups_on_data_disk: bool = False  # the backup folder is on the data's own disk (an unmounted NAS?)

    @property
    def uptime(self) -> timedelta:
        return self.now - self.started_at


def last_nudge(moderation: ModerationRepository, today: date) -> LastNudge | None:
    records = [r for r in moderation.days_since(today - NUDGE_LOOKBACK).values() if r.nudged_at]
    if not records:
        return None
    record: DayRecord = max(records, key=lambda r: r.day)
    assert record.nudged_at is not None
    if record.checked:
        outcome = NudgeOutcome.PROBLEM if record.outcome == CheckOutcome.PROBLEM else NudgeOutcome.FINE
    else:
        outcome = NudgeOutcome.MISSED if record.escalated_at else NudgeOutcome.WAITING
    return LastNudge(record.day, record.nudged_at, outcome, record.checked_at)


def folder_size(folder: Path) -> int:
    total = 0
    for root, _, files in os.walk(folder):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except FileNotFoundError:
                continue  # a temporary file renamed meanwhile
    return total


def read_status(
    *,
    started_at: datetime,
    now: datetime,
    today: date,
    data_dir: Path,
    moderation: ModerationRepository,
    outbox: OutboxRepository,
    staff: StaffRepository,
    backups: Backups,
    retention: Retention,
) -> Status:
    pending = outbox.pending()
    unreachable = tuple(
        (member.user_id, spell.since)
        for member in staff.active()
        if (spell := outbox.unreachable(member.user_id)) is not None and spell.gave_up
    )
    return Status(
        version=bot_version(),
        started_at=started_at,
        now=now,
        last_nudge=last_nudge(moderation, today),
        waiting=len(pending),
        oldest_waiting=min((item.created_at for item in pending), default=None),
        unreachable=unreachable,
        data_bytes=folder_size(data_dir),
        free_bytes=shutil.disk_usage(data_dir).free,
        backups_on=backups.configured,
        last_backup=backups.last_good(),
        backup_failure=backups.last_failure,
        next_backup=backups.due_at(now),
        next_check=retention.next_check(now),
        due_now=retention.due(today),
        set_aside=set_aside(data_dir),
        backups_on_data_disk=backups.on_the_data_disk(),
    )


def set_aside(data_dir: Path) -> tuple[str, ...]:
    """What restores replaced and nobody has deleted yet: whole copies of older records, beyond
    retention's reach, kept only until someone checks the restore went well."""
    try:
        return tuple(sorted(p.name for p in data_dir.iterdir() if p.name.startswith(REPLACED_PREFIX) and p.is_dir()))
    except OSError:
        return ()

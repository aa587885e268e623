"""Backups from the command line: make one now, put one back, make the key."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.config import load_config
from bot.wording import plural
from storage.lock import DataDirLocked


def backup_now(config_path: Path) -> int:
    """Make a backup now; it takes no lock, so it works while the bot runs (bot.backups.snapshot)."""
    from bot.backups import BackupFailed, Backups

    config = load_config(config_path)
    backups = Backups(config.backup, config.storage.data_dir, config.school.timezone, Clock())
    if not backups.configured:
        print(f"No backup folder: set backup.folder and backup.key_file in {config_path}.", file=sys.stderr)
        return 1
    if not config.storage.data_dir.is_dir():
        print(f"There is no data folder at {config.storage.data_dir} to back up.", file=sys.stderr)
        return 1
    try:
        done = backups.make()
    except BackupFailed as exc:
        print(f"Backup failed: {exc}. No backup was written.", file=sys.stderr)
        return 1
    print(f"Backup written: {done.archive.path} ({done.archive.size:,} bytes, {plural(done.files, 'file')}).")
    if done.removed:
        print(f"Older backups no longer kept, removed: {', '.join(done.removed)}.")
    return 0


def restore_backup(config_path: Path, archive: Path) -> int:
    """Put a backup back in place of the data folder, with the bot stopped; every check comes first."""
    from bot.backups import ArchiveRefused, KeyProblem, RestoreInterrupted, restore
    from bot.backups.archive import read_key

    config = load_config(config_path)
    try:
        key = read_key(config.backup.key_file)
        report = restore(archive, key, config.storage.data_dir, Clock().now())
    except KeyProblem as exc:
        print(f"{exc} Nothing was changed.", file=sys.stderr)
        return 1
    except DataDirLocked:
        print(
            f"The bot is running (it holds {config.storage.data_dir}): stop it first, then restore. Nothing was changed.",
            file=sys.stderr,
        )
        return 1
    except ArchiveRefused as exc:
        print(f"Not restored: {exc} Nothing was changed.", file=sys.stderr)
        return 1
    except RestoreInterrupted as exc:
        print(str(exc), file=sys.stderr)
        return 1
    records = ", ".join(f"{name} {count:,}" for name, count in report.records.items())
    made = _school_time(report.made_at, config.school.timezone)
    print(
        f"Restored the backup made {made} by version {report.bot_version} (data schema {report.schema_version}): "
        f"{plural(report.files, 'file')}, of them {plural(report.evidence_files, 'screenshot')} and "
        f"{plural(report.audit_months, 'month')} of audit log; "
        f"records: {records}."
    )
    if report.set_aside:
        print(f"The files it replaced are kept in {report.set_aside}: delete that folder once all is well.")
    return 0


def _school_time(made_at: str, tz: ZoneInfo) -> str:
    """The manifest's UTC ISO time as the school reads it ("Sun 29 Nov 2026 19:45"); as written if unreadable."""
    try:
        return datetime.fromisoformat(made_at).astimezone(tz).strftime("%a %-d %b %Y %H:%M")
    except ValueError:
        return made_at


def make_backup_key(config_path: Path) -> int:
    """Create the key file backup.key_file names, readable by its owner only; never overwrite one."""
    from bot.backups import KeyProblem
    from bot.backups.archive import create_key_file

    config = load_config(config_path)
    path = config.backup.key_file
    if path is None:
        print(f"Set backup.key_file in {config_path} to where the key should be kept, then run this again.", file=sys.stderr)
        return 1
    try:
        create_key_file(path)
    except KeyProblem as exc:
        print(str(exc), file=sys.stderr)
        return 1
    print(
        f"Backup key written to {path} (readable by its owner only). Keep a copy somewhere safe and apart from "
        "the backups: without it no backup can be restored, and anyone with it can read them."
    )
    return 0

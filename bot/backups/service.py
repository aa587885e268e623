"""The daily backup: what is due, making one, and which archives are kept.

What is due comes from the backup folder itself (an archive made today, by the bot or by
`python -m bot backup`, counts), so a restart neither skips nor repeats a day.
"""

from __future__ import annotations

import errno
import functools
import hashlib
import io
import os
import pwd
import re
import tarfile
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from importlib import metadata
from pathlib import Path
from zoneinfo import ZoneInfo

import orjson

from bot.backups.archive import (
    HEADER_BYTES,
    KEY_ID_BYTES,
    MAGIC,
    ArchiveRefused,
    KeyProblem,
    key_id,
    read_key,
    write_archive,
)
from bot.backups.rotation import to_keep
from bot.backups.snapshot import MarkedReader, Snapshot, SnapshotBusy, SnapshotMoved, take
from bot.clock import Clock, local_day, local_moment
from bot.config import BackupConfig
from storage.backup_status import BackupStatus, BackupStatusFile
from storage.restore_marker import unfinished

ARCHIVE_NAME = re.compile(r"^school-bot-(\d{8}-\d{6})Z\.backup$")
MANIFEST = "manifest.json"
FILES = "files/"
RETRY = timedelta(hours=1)  # after a failed daily backup (the NAS was away, the disk full)


class BackupFailed(Exception):
    """A backup could not be made; the message is a sentence for the Head."""


@dataclass(frozen=True)
class ArchiveInfo:
    path: Path
    made_at: datetime
    size: int


@dataclass(frozen=True)
class BackupDone:
    archive: ArchiveInfo
    files: int
    removed: tuple[str, ...]  # older archives no longer kept


def bot_version() -> str:
    try:
        return metadata.version("school-social-bot")
    except metadata.PackageNotFoundError:
        return "unknown"


def archive_name(moment: datetime) -> str:
    return f"school-bot-{moment.astimezone(UTC):%Y%m%d-%H%M%S}Z.backup"


def schema_of(meta_json: bytes | None) -> int:
    """The schema version a data folder's meta.json records (0: none yet)."""
    if not meta_json:
        return 0
    try:
        return int(orjson.loads(meta_json)["meta"]["1"]["schema_version"])
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        return 0


def _made_with(path: Path, ours: bytes) -> bool:
    """Whether an archive's header names this key (its integrity is checked in full by a restore)."""
    try:
        with open(path, "rb") as f:
            header = f.read(HEADER_BYTES)
    except OSError:
        return False
    return header.startswith(MAGIC) and header[len(MAGIC) + 1 : len(MAGIC) + 1 + KEY_ID_BYTES] == ours


def _within(path: Path, folder: Path) -> bool:
    """Whether `path` is `folder` or anywhere under it, links followed (either may not exist yet)."""
    return path.resolve().is_relative_to(folder.resolve())


def _owner_problem(key_file: Path, data_dir: Path) -> list[str]:
    """A key made by another user than the bot's (`backup-key` run as root): readable by its owner
    only, so check-config (as root) reads it, and every night the bot cannot. The data folder's
    owner is the bot's user."""
    try:
        bot_user = data_dir.stat().st_uid
    except OSError:
        return []  # no data folder yet: nobody to compare with
    owner = key_file.stat().st_uid
    if owner == bot_user:
        return []
    return [
        f"backup.key_file: {key_file} belongs to {_user_name(owner)}, but the bot runs as {_user_name(bot_user)} "
        f"(who owns the data folder) and cannot read it: chown {_user_name(bot_user)} {key_file}"
    ]


def _user_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def _inside_data(folder: Path) -> str:
    return (
        f"the backup folder {folder} is inside the data folder: each backup would hold all the ones before, "
        "and the disk that fails takes the data and its backups together; set backup.folder to another disk"
    )


def _failure(exc: BaseException) -> str:
    """The Head's sentence for what went wrong: plain words, no paths beyond the configured folder."""
    if isinstance(exc, KeyProblem | BackupFailed | ArchiveRefused):
        return str(exc).rstrip(".")  # it ends every sentence it is put in: "failed: ... ."
    if isinstance(exc, SnapshotBusy):
        return "the data changed during every attempt to copy it; it will be tried again"
    if isinstance(exc, OSError):
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return "the backup disk is full"
        return f"the backup folder refused the write ({os.strerror(exc.errno) if exc.errno else type(exc).__name__})"
    return type(exc).__name__


class Backups:
    """Makes and lists the encrypted backups of one data folder."""

    def __init__(self, config: BackupConfig, data_dir: Path, tz: ZoneInfo, clock: Clock) -> None:
        self.config = config
        self.data_dir = data_dir
        self.tz = tz
        self.clock = clock
        self.status_file = BackupStatusFile(data_dir)
        self._unsaved: BackupStatus | None = None  # an outcome the data disk would not take: kept here meanwhile

    @property
    def configured(self) -> bool:
        return self.config.folder is not None

    def problems(self) -> list[str]:
        """What would make tonight's backup fail, for `check-config` (none when backups are off)."""
        folder, key_file = self.config.folder, self.config.key_file
        if folder is None:
            return []
        found = []
        if _within(folder, self.data_dir):
            found.append(f"backup.folder: {_inside_data(folder)}")
        elif not folder.is_dir():
            found.append(f"backup.folder: {folder} is not there (is the NAS or USB disk connected?)")
        elif not os.access(folder, os.W_OK | os.X_OK):
            found.append(f"backup.folder: {folder} is read-only for this user; make it writable by the bot's user")
        try:
            read_key(key_file)
        except KeyProblem as exc:
            found.append(f"backup.key_file: {exc}")
        else:
            assert key_file is not None
            if key_file.stat().st_mode & 0o077:
                found.append(f"backup.key_file: {key_file} can be read by other users: chmod 600 {key_file}")
            found += _owner_problem(key_file, self.data_dir)
        if key_file is not None and _within(key_file, folder):
            found.append(
                f"backup.key_file: {key_file} is in the backup folder, so whoever can read the backups can open "
                "them: keep it beside the config instead, with a copy in the school safe"
            )
        elif key_file is not None and _within(key_file, self.data_dir):
            found.append(
                f"backup.key_file: {key_file} is in the data folder, lost with it when its disk fails (and moved "
                "aside by a restore): keep it beside the config instead, with a copy in the school safe"
            )
        return found

    def on_the_data_disk(self) -> bool:
        """Whether the backup folder is on the data folder's own disk: lost with it. Most often a NAS
        or USB mount point that is not mounted, so the backups fill the folder under it instead."""
        folder = self.config.folder
        if folder is None:
            return False
        try:
            return folder.stat().st_dev == self.data_dir.stat().st_dev
        except OSError:
            return False

    def archives(self) -> list[ArchiveInfo]:
        """The archives in the backup folder, newest first (none when it cannot be read)."""
        return self._listing() or []

    def _listing(self) -> list[ArchiveInfo] | None:
        """The archives in the backup folder made with this key, newest first; None when the folder
        cannot be read. A file under an archive's name made with another key (another school's on a
        shared NAS, or from before the key was replaced) is not one of ours: never counted as the
        last good backup, never removed by rotation. Without a readable key all are listed."""
        folder = self.config.folder
        if folder is None:
            return []
        try:
            ours = key_id(read_key(self.config.key_file))
        except KeyProblem:
            ours = None
        found = []
        try:
            for path in folder.iterdir():
                match = ARCHIVE_NAME.match(path.name)
                if match and (ours is None or _made_with(path, ours)):
                    made_at = datetime.strptime(match.group(1), "%Y%m%d-%H%M%S").replace(tzinfo=UTC)
                    found.append(ArchiveInfo(path, made_at, path.stat().st_size))
        except OSError:
            return None
        return sorted(found, key=lambda a: a.made_at, reverse=True)

    def last_good(self) -> ArchiveInfo | None:
        """The newest archive: one is only ever named as an archive once it was written and checked.
        While the backup disk cannot be read (unplugged), the last one this data folder saw written."""
        listing = self._listing()
        if listing is not None:
            return listing[0] if listing else None
        status = self.status()
        if self.config.folder is None or status.good_at is None or not ARCHIVE_NAME.match(status.good_name):
            return None
        return ArchiveInfo(self.config.folder / status.good_name, status.good_at, status.good_size)

    def status(self) -> BackupStatus:
        """How the last attempt went, as stored: it outlives a restart (storage.backup_status)."""
        return self._unsaved or self.status_file.read()

    @property
    def last_failure(self) -> tuple[datetime, str] | None:
        """When the last attempt failed and why; None when it worked (or none was made yet)."""
        status = self.status()
        return (status.failed_at, status.failure) if status.failed_at else None

    def _save(self, status: BackupStatus) -> None:
        self._unsaved = None if self.status_file.write(status) else status

    def due_at(self, now: datetime) -> datetime | None:
        """When the next daily backup is due (now or earlier: due), None when backups are off."""
        if not self.configured:
            return None
        today = local_day(now, self.tz)
        at_today = local_moment(today, self.config.time, self.tz)
        last = self.last_good()
        done_today = last is not None and local_day(last.made_at, self.tz) == today
        if done_today or now < at_today:
            following = today + timedelta(days=1) if done_today else today
            return local_moment(following, self.config.time, self.tz)
        if self.last_failure is not None and now - self.last_failure[0] < RETRY:
            return self.last_failure[0] + RETRY
        return at_today

    def make(self) -> BackupDone:
        """Take a snapshot, write it encrypted to the backup folder, check it reads back, drop old ones.

        Raises BackupFailed with a sentence for the Head; a partial archive is never left behind.
        """
        now = self.clock.now()
        try:
            done = self._make(now)
        except Exception as exc:
            reason = _failure(exc)
            self._save(replace(self.status(), failed_at=now, failure=reason))
            raise BackupFailed(reason) from exc
        self._save(BackupStatus(good_name=done.archive.path.name, good_at=now, good_size=done.archive.size))
        return done

    def _make(self, now: datetime) -> BackupDone:
        folder = self.config.folder
        if folder is None:
            raise BackupFailed("no backup folder is configured (backup.folder)")
        if _within(folder, self.data_dir):
            raise BackupFailed(_inside_data(folder))
        key = read_key(self.config.key_file)
        if not folder.is_dir():
            raise BackupFailed(f"the backup folder {folder} is not there (is the NAS or USB disk connected?)")
        dest = folder / archive_name(now)
        for _ in range(3):
            files: dict[str, dict[str, object]] = {}
            self._no_restore_under_way()
            snapshot = take(self.data_dir)
            self._no_restore_under_way()  # the note is written before a restore's first move, removed after its last
            fill = functools.partial(_fill, data_dir=self.data_dir, snapshot=snapshot, made_at=now, files=files)
            try:
                size = write_archive(dest, key, fill)
            except SnapshotMoved:
                continue  # a purge removed a file between the snapshot and its copy: take another
            break
        else:
            raise BackupFailed("files were removed while they were being copied; it will be tried again")
        return BackupDone(ArchiveInfo(dest, now, size), len(files), self._rotate())

    def _no_restore_under_way(self) -> None:
        """A restore swapping files (or stopped halfway) leaves part of the old folder and part of the
        backup's: a copy of that would be named a good backup, and rotation would drop real ones for it."""
        if unfinished(self.data_dir):
            raise BackupFailed(
                "a restore into the data folder is under way or did not finish (run it again to finish it); "
                "a backup now would hold half of each"
            )

    def _rotate(self) -> tuple[str, ...]:
        archives = self.archives()
        keep = to_keep(archives, self.tz, self.config.keep_daily, self.config.keep_weekly, self.config.keep_monthly)
        removed = []
        for archive in archives:
            if archive.path not in keep:
                archive.path.unlink(missing_ok=True)
                removed.append(archive.path.name)
        return tuple(removed)


def _fill(
    tar: tarfile.TarFile, *, data_dir: Path, snapshot: Snapshot, made_at: datetime, files: dict[str, dict[str, object]]
) -> None:
    """The archive's contents: every file under files/, then the manifest naming each with its SHA-256."""
    for name, data in snapshot.held.items():
        _add(tar, FILES + name, data, files, name)
    for name, mark in (snapshot.appended | snapshot.fixed).items():
        reader = MarkedReader(data_dir, name, mark)
        try:
            info = tarfile.TarInfo(FILES + name)
            info.size, info.mode = mark.size, 0o600
            tar.addfile(info, reader)
        finally:
            reader.close()
        files[name] = {"size": mark.size, "sha256": reader.sha256.hexdigest()}
    manifest = {
        "format": 1,
        "made_at": made_at.isoformat(),
        "bot_version": bot_version(),
        "schema_version": schema_of(snapshot.held.get("meta.json")),
        "files": files,
    }
    _add(tar, MANIFEST, orjson.dumps(manifest, option=orjson.OPT_INDENT_2), None, "")


def _add(tar: tarfile.TarFile, arcname: str, data: bytes, files: dict[str, dict[str, object]] | None, name: str) -> None:
    info = tarfile.TarInfo(arcname)
    info.size = len(data)
    info.mode = 0o600
    tar.addfile(info, io.BytesIO(data))
    if files is not None:
        files[name] = {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}

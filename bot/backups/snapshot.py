"""A consistent copy of the data folder, taken while the bot writes to it.

Every write the storage makes is one of three kinds, and each is copied the way it allows:
- a data file (staff.json, incidents.json, ...) is replaced whole by a rename (storage.atomic);
- an audit month file is only ever appended to (storage.audit);
- a screenshot is written once under its final name and never changed (storage.evidence).
So a snapshot reads every data file whole, then notes each audit file's length and each
screenshot, then checks that no data file changed meanwhile (same inode, size and time: a rename
always makes a new inode). If one did, it starts again. When it did not, every data file held at
one instant exactly what was read, so the copy is a state the folder was really in, never half of
one action; audit files are then copied up to the noted length and screenshots as they are.
It takes no lock, so `python -m bot backup` works beside the running bot as well as inside it.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from storage.backup_status import FILE as BACKUP_STATUS

LOCK_FILE = "bot.lock"
REPLACED_PREFIX = "replaced-before-restore-"
ATTEMPTS = 200  # a quiet moment of a few milliseconds comes long before this, even in a busy hour


class SnapshotBusy(Exception):
    """No quiet moment was found: the data changed during every attempt."""


class SnapshotMoved(Exception):
    """A file noted in the snapshot was gone or replaced by the time it was copied (a purge ran)."""


@dataclass(frozen=True)
class FileMark:
    inode: int
    size: int
    mtime_ns: int


@dataclass(frozen=True)
class Snapshot:
    held: dict[str, bytes]  # data files, read whole inside the quiet moment
    appended: dict[str, FileMark]  # audit files: copied up to the length they had then
    fixed: dict[str, FileMark]  # screenshots: written once, copied as they are


def kept(relative: str) -> bool:
    """Whether a path under the data folder belongs in a backup.

    Left out: the lock (it belongs to the running process), the bot's own log (not the school's
    records, and restoring it would hide what happened since), how this machine's backups went
    (restored, it would tell of another disk's), temporary files of writes in progress, and
    folders a restore set aside.
    """
    parts = relative.split("/")
    return not (
        relative in (LOCK_FILE, BACKUP_STATUS)
        or (len(parts) == 1 and parts[0].startswith("bot.log"))
        or any(p.startswith(".") for p in parts)
        or parts[0].startswith(REPLACED_PREFIX)
    )


def _kind(relative: str) -> str:
    if relative.startswith("audit/") and relative.endswith(".jsonl"):
        return "appended"
    if relative.startswith("evidence/"):
        return "fixed"
    return "held"


def _walk(data_dir: Path) -> Iterator[str]:
    for root, dirs, files in os.walk(data_dir):
        dirs.sort()
        base = Path(root).relative_to(data_dir)
        for name in sorted(files):
            relative = (base / name).as_posix()
            if kept(relative):
                yield relative


def _mark(path: Path) -> FileMark | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return FileMark(st.st_ino, st.st_size, st.st_mtime_ns)


def take(data_dir: Path, attempts: int = ATTEMPTS) -> Snapshot:
    """The data folder as it was at one instant (see the module's docstring)."""
    for attempt in range(attempts):
        snapshot = _attempt(data_dir)
        if snapshot is not None:
            return snapshot
        time.sleep(min(0.002 * (attempt + 1), 0.05))  # let the writer finish what it is doing
    raise SnapshotBusy("the data changed during every attempt to copy it")


def _attempt(data_dir: Path) -> Snapshot | None:
    names = list(_walk(data_dir))
    held_names = [n for n in names if _kind(n) == "held"]
    before: dict[str, FileMark] = {}
    held: dict[str, bytes] = {}
    for name in held_names:
        path = data_dir / name
        mark = _mark(path)
        if mark is None:
            return None
        before[name] = mark
        try:
            with open(path, "rb") as f:
                if os.fstat(f.fileno()).st_ino != mark.inode:
                    return None
                held[name] = f.read()
        except FileNotFoundError:
            return None
    appended: dict[str, FileMark] = {}
    fixed: dict[str, FileMark] = {}
    for name in names:
        kind = _kind(name)
        if kind == "held":
            continue
        mark = _mark(data_dir / name)
        if mark is not None:
            (appended if kind == "appended" else fixed)[name] = mark
    if any(_mark(data_dir / name) != mark for name, mark in before.items()):
        return None
    if set(held_names) != {n for n in _walk(data_dir) if _kind(n) == "held"}:
        return None  # a data file appeared or went meanwhile
    return Snapshot(held, appended, fixed)


class MarkedReader:
    """An audit file's first `mark.size` bytes, or a screenshot, read in blocks from the inode the
    snapshot noted (a month of a busy audit log need not fit in memory), hashed on the way."""

    def __init__(self, data_dir: Path, relative: str, mark: FileMark) -> None:
        self.relative = relative
        self.remaining = mark.size
        self.sha256 = hashlib.sha256()
        try:
            self._file = open(data_dir / relative, "rb")  # noqa: SIM115 - closed by close(), after tarfile read it
        except FileNotFoundError:
            raise SnapshotMoved(relative) from None
        if os.fstat(self._file.fileno()).st_ino != mark.inode:
            self._file.close()
            raise SnapshotMoved(relative)

    def read(self, size: int = -1) -> bytes:
        wanted = self.remaining if size < 0 else min(size, self.remaining)
        data = self._file.read(wanted)
        if wanted and not data:
            raise SnapshotMoved(self.relative)  # cut shorter than it was at the snapshot
        self.remaining -= len(data)
        self.sha256.update(data)
        return data

    def close(self) -> None:
        self._file.close()

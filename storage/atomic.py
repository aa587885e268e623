"""Crash-safe files: a write either lands whole or not at all, and is on disk when it returns.

A write that fails (a value that cannot be encoded, a full disk) changes nothing: the
file keeps its old bytes, and the in-memory copy is put back to what the file holds, so
the bot never goes on believing something the disk does not say.
"""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from tinydb.storages import Storage

FILE_MODE = 0o600
DIR_MODE = 0o700
DISK_FULL = frozenset({errno.ENOSPC, errno.EDQUOT})


class WriteFailed(Exception):
    """A change could not be saved; memory was put back to what is on disk, so none of it happened."""

    def __init__(self, path: Path, cause: BaseException) -> None:
        super().__init__(f"{path.name}: {type(cause).__name__}")
        self.path = path
        self.cause = cause


class UnstorableValue(WriteFailed):
    """The change holds a value the file format cannot hold (a number beyond 64 bits, a lone surrogate)."""


class DiskWriteFailed(WriteFailed):
    """The disk refused the write (full, read-only, failing)."""

    @property
    def disk_full(self) -> bool:
        return isinstance(self.cause, OSError) and self.cause.errno in DISK_FULL


class DamagedDataFile(Exception):
    """A data file is not what the bot wrote: start-up stops rather than run on an emptied store."""

    def __init__(self, path: Path, what: str) -> None:
        super().__init__(
            f"The data file {path} is damaged ({what}): stop the bot, restore that file from your latest "
            "backup, and start the bot again."
        )
        self.path = path


class DataDirNotWritable(Exception):
    """The data folder exists but this user cannot write to it; the bot never changes its permissions."""


@dataclass
class DiskHealth:
    """The disk's refusals of this data folder's writes: how many, and what the last one was.

    Every store of a data folder reports here, so the leaders can be told once per spell
    (and again when writes work) without anyone having to write that news to the full disk.
    """

    disk_full: bool = False
    reason: str = ""
    failures: int = 0

    def failed(self, exc: OSError) -> None:
        self.failures += 1
        self.disk_full = exc.errno in DISK_FULL
        self.reason = os.strerror(exc.errno) if exc.errno else type(exc).__name__


def unwritable_folder(path: Path) -> str | None:
    """The sentence refusing an existing data folder the bot cannot write to (None: it can).

    Start-up and `check-config` say the same thing, so the fix they name is the same.
    """
    if not path.is_dir():
        return f"{path} is a file, not a folder: give storage.data_dir a folder."
    if not (path.stat().st_mode & 0o200 and os.access(path, os.W_OK | os.X_OK)):
        return (
            f"The data folder {path} is read-only for this user, so the bot cannot save anything; "
            f"make it writable (chmod u+w {path}) or point storage.data_dir elsewhere."
        )
    return None


def ensure_private_dir(path: Path) -> Path:
    """Create a folder only the bot's user can read (it holds data about children).

    An existing folder is used as it is, never chmod-ed behind its owner's back: one the bot
    cannot write to is refused with a sentence saying what to do.
    """
    try:
        path.mkdir(parents=True, mode=DIR_MODE)
    except FileExistsError:
        refusal = unwritable_folder(path)
        if refusal:
            raise DataDirNotWritable(refusal) from None
    except OSError as exc:
        raise DataDirNotWritable(
            f"Cannot create the data folder {path} ({os.strerror(exc.errno or 0)}); "
            "create it yourself, writable by the bot's user, or point storage.data_dir elsewhere."
        ) from None
    else:
        os.chmod(path, DIR_MODE)  # mkdir's mode is cut by the umask
    return path


def fsync_dir(path: Path) -> None:
    """Make a rename or a new file in this folder survive a power cut."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_new_file(tmp: Path, payload: bytes, mode: int = FILE_MODE) -> None:
    """Write `payload` to a fresh file and fsync it; on any failure the partial file is removed.

    A half-written temporary file on a full disk would hold on to the very space that is missing.
    """
    tmp.unlink(missing_ok=True)  # a crash's leftover, possibly read-only
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        view = memoryview(payload)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        tmp.unlink(missing_ok=True)
        raise
    os.close(fd)


def atomic_write_bytes(path: Path, payload: bytes) -> None:
    """Write to a temporary file, fsync it, rename it over the target, fsync the folder.

    A crash at any moment leaves either the old file or the new one, never a mix.
    """
    tmp = path.with_name(f".{path.name}.tmp")
    write_new_file(tmp, payload)
    try:
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def load_tables(path: Path) -> dict[str, Any] | None:
    """A data file's tables as TinyDB keeps them; None when the file does not exist yet.

    Anything else than what this storage writes (an empty file, cut-short or garbled JSON,
    another shape) raises DamagedDataFile: treating it as empty would silently forget staff
    or incidents.
    """
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    if not raw.strip():
        raise DamagedDataFile(path, "it is empty")
    try:
        tables = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise DamagedDataFile(path, "it is cut short or garbled") from None
    if not isinstance(tables, dict) or not all(
        isinstance(table, dict) and all(doc_id.isdigit() and isinstance(doc, dict) for doc_id, doc in table.items())
        for table in tables.values()
    ):
        raise DamagedDataFile(path, "it does not hold the bot's tables")
    return tables


class AtomicJSONStorage(Storage):
    """A TinyDB storage that writes atomically and keeps the last state in memory.

    Only one process uses a data folder (see storage.lock), so the in-memory copy is
    authoritative and reads cost nothing. TinyDB changes that copy in place before it asks
    for a write, so a failed write reloads it from the file: memory and disk never disagree.
    """

    def __init__(self, path: str | Path, health: DiskHealth | None = None, **_: Any) -> None:
        self.path = Path(path)
        self.health = health or DiskHealth()
        self._cache: dict[str, Any] | None = None
        self._loaded = False

    def read(self) -> dict[str, Any] | None:
        if not self._loaded:
            self._cache = load_tables(self.path)
            self._loaded = True
        return self._cache

    def write(self, data: dict[str, Any]) -> None:
        try:
            # orjson: every change rewrites the file, and the stdlib encoder made that the slowest step.
            payload = orjson.dumps(data)
        except orjson.JSONEncodeError as exc:
            self._forget()
            raise UnstorableValue(self.path, exc) from exc
        try:
            atomic_write_bytes(self.path, payload)
        except OSError as exc:
            self._forget()
            self.health.failed(exc)
            raise DiskWriteFailed(self.path, exc) from exc
        except BaseException:
            self._forget()
            raise
        self._cache = data
        self._loaded = True

    def _forget(self) -> None:
        """Drop the copy TinyDB already changed; the next read takes the file's version again."""
        self._cache = None
        self._loaded = False

    def close(self) -> None:
        self._forget()

"""Crash-safe files: a write either lands whole or not at all, and is on disk when it returns."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import orjson
from tinydb.storages import Storage

FILE_MODE = 0o600
DIR_MODE = 0o700


def ensure_private_dir(path: Path) -> Path:
    """Create a folder only the bot's user can read (it holds data about children)."""
    path.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    os.chmod(path, DIR_MODE)
    return path


def fsync_dir(path: Path) -> None:
    """Make a rename or a new file in this folder survive a power cut."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_bytes(path: Path, payload: bytes) -> None:
    """Write to a temporary file, fsync it, rename it over the target, fsync the folder.

    A crash at any moment leaves either the old file or the new one, never a mix.
    """
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    try:
        view = memoryview(payload)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    fsync_dir(path.parent)


class AtomicJSONStorage(Storage):
    """A TinyDB storage that writes atomically and keeps the last state in memory.

    Only one process uses a data folder (see storage.lock), so the in-memory copy is
    authoritative and reads cost nothing. If a write fails the copy is dropped and the
    next read reloads what is really on disk.
    """

    def __init__(self, path: str | Path, **_: Any) -> None:
        self.path = Path(path)
        self._cache: dict[str, Any] | None = None

    def read(self) -> dict[str, Any] | None:
        if self._cache is None:
            try:
                raw = self.path.read_bytes()
            except FileNotFoundError:
                return None
            self._cache = orjson.loads(raw) if raw.strip() else None
        return self._cache

    def write(self, data: dict[str, Any]) -> None:
        # orjson: every change rewrites the file, and the stdlib encoder made that the slowest step.
        payload = orjson.dumps(data)
        try:
            atomic_write_bytes(self.path, payload)
        except BaseException:
            self._cache = None
            raise
        self._cache = data

    def close(self) -> None:
        self._cache = None

"""One bot process per data folder: two writers would overwrite each other's changes."""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

from storage.atomic import DataDirNotWritable


class DataDirLocked(Exception):
    """Another process holds the data folder."""


class DataDirLock:
    """An advisory lock on `<data_dir>/bot.lock`, released when the process ends, even by SIGKILL."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / "bot.lock"
        self._fd: int | None = None

    def acquire(self) -> None:
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise DataDirNotWritable(
                f"Cannot open the lock file {self.path} ({os.strerror(exc.errno or 0)}); "
                "make the data folder writable by the bot's user."
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise DataDirLocked(
                f"Another bot process (pid {holder}) is already using the data folder "
                f"{self.path.parent}. Stop it first (systemctl stop school-bot), then try again."
            ) from None
        with contextlib.suppress(OSError):  # the pid only helps the refusal above; a full disk may refuse it
            os.ftruncate(fd, 0)
            os.pwrite(fd, str(os.getpid()).encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

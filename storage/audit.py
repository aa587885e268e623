"""The append-only audit log: who did what, on what, when, and how it ended.

Entries go to one JSON-lines file per month, appended and fsynced one at a time, so
an insert costs the same with a year of history as with none, and lookups elsewhere
never read it.
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from bot.records.audit import AuditEntry
from storage.atomic import FILE_MODE, ensure_private_dir

HOLD_LIMIT = 50_000  # refused lines kept in memory (a few MB); beyond it an action's audit fails as a write
SCAN_LIMIT = 5_000  # lines a filtered page decodes at most (~0.1 s) before it says how far back it looked
SCAN_SKIPPED = 20  # ...and lines it skips undecoded (a byte search each), per line it may decode


@dataclass(frozen=True, order=True)
class Cursor:
    """A place in the log: a month's file and a byte offset in it (entries before it are older)."""

    month: str  # "202611"
    offset: int

    def pack(self) -> str:
        return f"{self.month}.{self.offset}"

    @classmethod
    def parse(cls, text: str) -> Cursor | None:
        month, _, offset = text.partition(".")
        if len(month) != 6 or not month.isdigit() or not offset.isdigit() or len(offset) > 15:
            return None
        return cls(month, int(offset))


@dataclass(frozen=True)
class Found:
    """A filtered page: its entries, where the next older page starts (None: nothing older), and,
    when it stopped at the scan limit, the time of the oldest entry it looked at."""

    entries: list[AuditEntry]
    older: Cursor | None
    searched_to: datetime | None


class AuditLog:
    """Appends entries durably; reads them newest first, month file by month file."""

    def __init__(self, folder: Path) -> None:
        self.folder = ensure_private_dir(folder)
        self._month: str | None = None
        self._fd: int | None = None
        # Lines the disk refused after their action was saved: (month, line), oldest first.
        self._held: deque[tuple[str, bytes]] = deque()

    def append(self, entry: AuditEntry) -> None:
        """Write any held lines, oldest first, then `entry`; OSError when the disk refuses.

        Encoding happens first, so a value the line cannot hold raises before anything is written.
        """
        line = _line(entry)
        self.write_held()
        self._write(*line)

    def hold(self, entry: AuditEntry) -> bool:
        """Keep an entry the disk refused after its action was saved, to be written (with its own
        time, after those held before it) at the next append or `write_held`; False when full."""
        if len(self._held) >= HOLD_LIMIT:
            return False
        self._held.append(_line(entry))
        return True

    @property
    def held(self) -> int:
        """How many refused lines wait in memory for the disk."""
        return len(self._held)

    def write_held(self) -> None:
        """Write the held lines, oldest first; OSError (the rest still held) when the disk refuses."""
        while self._held:
            self._write(*self._held[0])
            self._held.popleft()

    def _write(self, month: str, line: bytes) -> None:
        if month != self._month:
            self.close()
            fd = os.open(self.folder / f"audit-{month}.jsonl", os.O_RDWR | os.O_APPEND | os.O_CREAT, FILE_MODE)
            try:
                _end_torn_line(fd)
            except OSError:
                os.close(fd)
                raise
            self._fd, self._month = fd, month
        assert self._fd is not None
        end = os.lseek(self._fd, 0, os.SEEK_END)
        try:
            # One write call per entry: a crash cannot interleave two entries.
            if os.write(self._fd, line) != len(line):
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            os.fsync(self._fd)
        except OSError:
            # A full disk can take half a line; left there it would swallow the next entry.
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, end)
            raise

    # ---- reading: from the end of the newest file, a block at a time ------------------------
    # A page or a week reads only the bytes it shows (plus one block), never a whole month:
    # with a million entries /audit costs the same as with a hundred.

    def walk_back(self, before: Cursor | None = None, needle: bytes = b"") -> Iterator[tuple[Cursor, AuditEntry]]:
        """Entries older than `before` (default: all), newest first, each with its own cursor.

        An entry's cursor is where it starts: reading again "before" it continues with the
        next older entry, so paging is stable while new entries are appended. With `needle`,
        lines without those bytes are skipped undecoded (a search for one pupil stays cheap).
        """
        for cursor, raw in self._lines_before(before):
            entry = None if needle and needle not in raw else _decode(raw)
            if entry is not None:
                yield cursor, entry

    def _lines_before(self, before: Cursor | None) -> Iterator[tuple[Cursor, bytes]]:
        for month in self._months(before.month if before else None):
            stop = before.offset if before and before.month == month else None
            for offset, raw in _lines_backwards(self._path(month), stop):
                yield Cursor(month, offset), raw

    def newest_first(self) -> Iterator[AuditEntry]:
        """Every entry, newest first."""
        return (entry for _, entry in self.walk_back())

    def newest(self) -> Cursor:
        """The end of the log now: the anchor of a first page."""
        months = self._months(None)
        if not months:
            return Cursor("000000", 0)
        return Cursor(months[0], self._path(months[0]).stat().st_size)

    def page_before(self, before: Cursor, size: int) -> tuple[list[AuditEntry], Cursor | None]:
        """Up to `size` entries older than `before`, newest first, and the cursor of the next
        older page (None when there is none)."""
        wanted: list[AuditEntry] = []
        last: Cursor | None = None
        for cursor, entry in self.walk_back(before):
            if len(wanted) == size:
                return wanted, last
            wanted.append(entry)
            last = cursor
        return wanted, None

    def find_before(
        self,
        before: Cursor,
        size: int,
        keep: Callable[[AuditEntry], bool],
        *,
        since: datetime | None = None,
        needle: bytes = b"",
        limit: int = SCAN_LIMIT,
    ) -> Found:
        """Up to `size` entries older than `before` that `keep` accepts, newest first, none before
        `since`. At most `limit` lines are decoded (and 20 times as many skipped): a rare filter over a year of log answers in the
        same time, with `searched_to` saying how far back it looked and `older` where to go on."""
        found: list[AuditEntry] = []
        last: Cursor | None = None
        decoded = 0
        for scanned, (cursor, raw) in enumerate(self._lines_before(before), start=1):
            entry = None if needle and needle not in raw else _decode(raw)
            if entry is not None:
                decoded += 1
                if since is not None and entry.at < since:
                    return Found(found, None, None)
                if keep(entry):
                    if len(found) == size:
                        return Found(found, last, None)
                    found.append(entry)
            last = cursor
            if (decoded >= limit or scanned >= limit * SCAN_SKIPPED) and len(found) < size:
                reached = entry or _decode(raw)
                if reached is not None:  # stop at a whole line, so the page can say how far back it looked
                    return Found(found, cursor, reached.at)
        return Found(found, None, None)

    def position_of(self, moment: datetime) -> Cursor:
        """Where entries at or after `moment` begin: the start of a page that ends a date range."""
        return self._position_of(moment)

    def page(self, number: int, size: int) -> tuple[list[AuditEntry], bool]:
        """Entries of page `number` (0 = newest), and whether an older page exists."""
        cursor: Cursor | None = self.newest()
        entries: list[AuditEntry] = []
        for _ in range(number + 1):
            if cursor is None:
                return [], False
            entries, cursor = self.page_before(cursor, size)
        return entries, cursor is not None

    def since(self, start: datetime) -> list[AuditEntry]:
        """Entries at or after `start`, oldest first: read back from the end, stopping at `start`."""
        return self.between(start, None)

    def between(self, start: datetime, end: datetime | None) -> list[AuditEntry]:
        """Entries with start <= at < end, oldest first (the weekly digest reads only its week).

        Entries are appended in time order, so the end of the range is found by bisecting the
        month file, and reading goes back from there only as far as `start`.
        """
        before = self._position_of(end) if end is not None else None
        found: list[AuditEntry] = []
        for _, entry in self.walk_back(before):
            if entry.at < start:
                break
            if end is None or entry.at < end:
                found.append(entry)
        return list(reversed(found))

    def _position_of(self, moment: datetime) -> Cursor:
        """The cursor just before the first entry at or after `moment` (by bisecting its month's file)."""
        month = moment.astimezone(UTC).strftime("%Y%m")  # files are named by the UTC month
        months = self._months(None)
        if not months:
            return Cursor("000000", 0)
        if month > months[0]:
            return self.newest()
        path = self._path(month)
        if not path.exists():
            return Cursor(month, 0)  # nothing in that month: everything older is before `moment`
        with open(path, "rb") as f:
            low, high = 0, path.stat().st_size
            while low < high:  # find the first line starting at or after `low` whose time >= moment
                middle = (low + high) // 2
                line_start, at = _line_at_or_after(f, middle)
                if at is None or at >= moment:
                    high = middle
                else:
                    low = line_start + 1
            line_start, _ = _line_at_or_after(f, low)
            return Cursor(month, line_start)

    def _months(self, newest: str | None) -> list[str]:
        """Month keys ("202611") with a file, newest first, none newer than `newest`."""
        months = sorted((p.stem[len("audit-") :].replace("-", "") for p in self.folder.glob("audit-*.jsonl")), reverse=True)
        return [m for m in months if newest is None or m <= newest]

    def _path(self, month: str) -> Path:
        return self.folder / f"audit-{month[:4]}-{month[4:]}.jsonl"

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
            self._month = None


def _decode(raw: bytes) -> AuditEntry | None:
    """One line back as an entry; None for a line cut short by a power cut or damaged (skipped, never fatal)."""
    try:
        return AuditEntry.from_json(raw.decode("utf-8"))
    except (ValueError, TypeError, KeyError):
        return None


def _line(entry: AuditEntry) -> tuple[str, bytes]:
    """The month file an entry goes to, and its line: a lone surrogate (a Telegram display name can
    carry one) becomes "?", so no text a user types can make an action's audit line unstorable."""
    return entry.at.strftime("%Y-%m"), (entry.to_json() + "\n").encode("utf-8", "replace")


def _end_torn_line(fd: int) -> None:
    """A power cut can leave half a line at the end: ended here, it is skipped on reading instead
    of swallowing the first entry written after the restart."""
    end = os.lseek(fd, 0, os.SEEK_END)
    if end and os.pread(fd, 1, end - 1) != b"\n":
        os.write(fd, b"\n")
        os.fsync(fd)


BLOCK = 64 * 1024


def _lines_backwards(path: Path, stop: int | None) -> Iterator[tuple[int, bytes]]:
    """(offset, line) for each line ending at or before `stop` (default: the end), last first."""
    try:
        f = open(path, "rb")  # noqa: SIM115 - `with` below: a missing file is told apart from errors while reading
    except FileNotFoundError:
        return
    with f:
        size_now = f.seek(0, os.SEEK_END)
        position = size_now if stop is None else min(stop, size_now)
        tail = b""
        while position > 0:
            size = min(BLOCK, position)
            position -= size
            f.seek(position)
            block = f.read(size) + tail
            parts = block.split(b"\n")
            tail = parts[0]  # may begin in the block before: kept for the next round
            end = position + len(block)
            for part in reversed(parts[1:]):
                start = end - len(part)
                if part:
                    yield start, part
                end = start - 1
        if tail:
            yield 0, tail


def _line_at_or_after(f: BinaryIO, offset: int) -> tuple[int, datetime | None]:
    """The start of the first whole line at or after `offset`, and its time (None at the end)."""
    if offset > 0:
        f.seek(offset - 1)
        f.readline()  # finish the line `offset` falls in (a no-op when offset starts a line)
    else:
        f.seek(0)
    while True:
        start = f.tell()
        raw = f.readline()
        if not raw:
            return start, None
        try:
            return start, AuditEntry.from_json(raw.decode("utf-8")).at
        except (ValueError, TypeError, KeyError):
            continue

"""The append-only audit log: who did what, on what, when, and how it ended.

Entries go to one JSON-lines file per month, appended and fsynced one at a time, so
an insert costs the same with a year of history as with none, and lookups elsewhere
never read it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from storage.atomic import FILE_MODE, ensure_private_dir


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    actor_id: int
    actor_role: str
    action: str
    target: str = ""
    outcome: str = "ok"
    detail: str = ""

    def to_json(self) -> str:
        record = asdict(self)
        record["at"] = self.at.isoformat()
        return json.dumps(record, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, line: str) -> AuditEntry:
        record = json.loads(line)
        record["at"] = datetime.fromisoformat(record["at"])
        return cls(**record)


class AuditLog:
    """Appends entries durably; reads them newest first, month file by month file."""

    def __init__(self, folder: Path) -> None:
        self.folder = ensure_private_dir(folder)
        self._month: str | None = None
        self._fd: int | None = None

    def append(self, entry: AuditEntry) -> None:
        month = entry.at.strftime("%Y-%m")
        if month != self._month:
            self.close()
            self._fd = os.open(self.folder / f"audit-{month}.jsonl", os.O_WRONLY | os.O_APPEND | os.O_CREAT, FILE_MODE)
            self._month = month
        assert self._fd is not None
        # One write call per entry: a crash cannot interleave two entries.
        os.write(self._fd, (entry.to_json() + "\n").encode("utf-8"))
        os.fsync(self._fd)

    def newest_first(self) -> Iterator[AuditEntry]:
        for path in sorted(self.folder.glob("audit-*.jsonl"), reverse=True):
            lines = path.read_text(encoding="utf-8").splitlines()
            for line in reversed(lines):
                try:
                    yield AuditEntry.from_json(line)
                except (ValueError, TypeError, KeyError):
                    continue  # a line cut short by a power cut; the rest of the file is intact

    def page(self, number: int, size: int) -> tuple[list[AuditEntry], bool]:
        """Entries of page `number` (0 = newest), and whether an older page exists."""
        wanted: list[AuditEntry] = []
        skip = number * size
        for index, entry in enumerate(self.newest_first()):
            if index < skip:
                continue
            if len(wanted) == size:
                return wanted, True
            wanted.append(entry)
        return wanted, False

    def since(self, start: datetime) -> list[AuditEntry]:
        """Entries at or after `start`, oldest first (for the weekly digest)."""
        found: list[AuditEntry] = []
        for entry in self.newest_first():
            if entry.at < start:
                break
            found.append(entry)
        return list(reversed(found))

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
            self._month = None

"""How the last backup went, in `backup-status.json` in the data folder: so /status still shows last
night's failure after a restart, and names the last good backup while the backup disk is unplugged.

It is written by the running bot and by `python -m bot backup` beside it, each time whole by a
rename (storage.atomic), so the last attempt's outcome wins and a crash leaves one or the other.
It describes this machine's backup disk, not the school's records: backups leave it out, and a
restore leaves it where it is (bot.backups.snapshot.kept).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import orjson

from storage.atomic import atomic_write_bytes

FILE = "backup-status.json"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BackupStatus:
    failed_at: datetime | None = None  # the last attempt failed (None: it worked, or none yet)
    failure: str = ""  # why, in a sentence for the Head
    good_name: str = ""  # the last archive written and checked, its file name in backup.folder
    good_at: datetime | None = None
    good_size: int = 0


class BackupStatusFile:
    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / FILE

    def read(self) -> BackupStatus:
        """The stored outcome; a missing or damaged file reads as "nothing known" (it is only a report)."""
        try:
            doc = orjson.loads(self.path.read_bytes())
            return BackupStatus(
                failed_at=datetime.fromisoformat(doc["failed_at"]) if doc.get("failed_at") else None,
                failure=str(doc.get("failure") or ""),
                good_name=str(doc.get("good_name") or ""),
                good_at=datetime.fromisoformat(doc["good_at"]) if doc.get("good_at") else None,
                good_size=int(doc.get("good_size") or 0),
            )
        except FileNotFoundError:
            return BackupStatus()
        except (OSError, orjson.JSONDecodeError, AttributeError, KeyError, TypeError, ValueError):
            log.warning("%s could not be read; the last backup's outcome is taken as unknown", FILE)
            return BackupStatus()

    def write(self, status: BackupStatus) -> bool:
        """Save the outcome; False when the data disk refused it (its own alarm tells the leaders)."""
        doc = {
            "failed_at": status.failed_at.isoformat() if status.failed_at else None,
            "failure": status.failure,
            "good_name": status.good_name,
            "good_at": status.good_at.isoformat() if status.good_at else None,
            "good_size": status.good_size,
        }
        try:
            atomic_write_bytes(self.path, orjson.dumps(doc))
        except OSError as exc:
            log.warning("%s could not be saved (%s)", FILE, type(exc).__name__)
            return False
        return True

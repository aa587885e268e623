"""The note a restore leaves in the data folder while it swaps files: the bot will not start on a
folder holding it, and the next restore reads it to finish the swap (bot.backups.restore).

A restore moves the files in use aside one by one, then the restored ones in. Stopped between (a
kill, a power cut), the folder holds part of each: a bot started on it would find the staff list
or the consent register missing and start afresh without them.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import orjson

from storage.atomic import DamagedDataFile, atomic_write_bytes, fsync_dir

FILE = ".restore-unfinished.json"  # hidden: never backed up, never moved aside
STAGING = ".restore-staging"  # where a restore unpacks and checks an archive before the swap


class RestoreUnfinished(DamagedDataFile):
    """A restore stopped halfway through its swap: start-up stops, the message says what to do."""

    def __init__(self, path: Path) -> None:
        Exception.__init__(
            self,
            f"A restore into {path.parent} did not finish: the folder holds part of the old files and "
            "part of the backup's. Run the same python -m bot restore again (it finishes the job, and keeps "
            "the files it replaced), then start the bot.",
        )
        self.path = path


@dataclass(frozen=True)
class SwapPlan:
    aside: str  # the folder (in the data folder) the files in use go to
    in_use: tuple[str, ...]  # the names that were in use when the swap began


def unfinished(data_dir: Path) -> Path | None:
    path = data_dir / FILE
    return path if path.exists() else None


def read_plan(data_dir: Path) -> SwapPlan | None:
    """The unfinished swap's plan; None when there is none (or it cannot be read: nothing was moved yet)."""
    try:
        doc = orjson.loads((data_dir / FILE).read_bytes())
        aside, in_use = doc["aside"], doc["in_use"]
    except (OSError, orjson.JSONDecodeError, KeyError, TypeError):
        return None
    if not isinstance(aside, str) or not _plain(aside) or not isinstance(in_use, list):
        return None
    return SwapPlan(aside, tuple(name for name in in_use if isinstance(name, str) and _plain(name)))


def _plain(name: str) -> bool:
    """A name directly inside the data folder: a damaged note must never make the swap move the folder itself."""
    return name not in ("", ".", "..") and "/" not in name and "\0" not in name


def write_plan(data_dir: Path, plan: SwapPlan) -> None:
    atomic_write_bytes(data_dir / FILE, orjson.dumps({"aside": plan.aside, "in_use": list(plan.in_use)}))


def clear(data_dir: Path) -> None:
    (data_dir / FILE).unlink(missing_ok=True)
    fsync_dir(data_dir)


def drop_leftover_staging(data_dir: Path) -> None:
    """Remove what a restore killed while unpacking left: a decrypted copy of a whole backup, with
    records retention may since have deleted, that nothing else would ever remove."""
    shutil.rmtree(data_dir / STAGING, ignore_errors=True)

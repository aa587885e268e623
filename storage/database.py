"""Opens the data folder: the lock, one TinyDB file per capability, the audit log, migrations.

Each capability has its own file so a write rewrites only that capability's data, and
the audit log is append-only beside them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from tinydb import TinyDB

from storage.applications import move_questions_onto_applications
from storage.atomic import (
    AtomicJSONStorage,
    DamagedDataFile,
    DiskHealth,
    ensure_private_dir,
    load_tables,
    unwritable_folder,
)
from storage.audit import AuditLog
from storage.consents import ConsentRepository
from storage.lock import DataDirLock
from storage.restore_marker import RestoreUnfinished, drop_leftover_staging, unfinished

SCHEMA_VERSION = 3

# Migration N upgrades a data folder from schema N to N + 1. Add one per schema change.
MIGRATIONS: dict[int, Callable[[Database], None]] = {
    1: lambda db: move_questions_onto_applications(db.file("applications")),
    # Pupils already on the register get one "on the register when the history began" entry.
    2: lambda db: ConsentRepository(db.file("consents")).begin_history(datetime.now(UTC)),
}


class SchemaTooNew(Exception):
    """The data folder was written by a newer version of the bot."""


def data_folder_problems(data_dir: Path) -> list[str]:
    """What would stop the bot starting on this folder, read without taking its lock (the bot may run)."""
    if not data_dir.exists():
        return []
    folders = [data_dir, *(p for p in sorted(data_dir.iterdir()) if p.is_dir())] if data_dir.is_dir() else [data_dir]
    refusals = [refusal for refusal in map(unwritable_folder, folders) if refusal]
    if refusals:
        return refusals
    marker = unfinished(data_dir)
    if marker:
        return [str(RestoreUnfinished(marker))]
    problems = []
    for name in Database.FILES:
        try:
            load_tables(data_dir / f"{name}.json")
        except DamagedDataFile as exc:
            problems.append(str(exc))
    return problems


class Database:
    """Every store of one data folder, held under its lock for the life of the process."""

    FILES = ("meta", "staff", "consents", "incidents", "outbox", "moderation", "applications")

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = ensure_private_dir(data_dir)
        self._lock = DataDirLock(self.data_dir)
        self._lock.acquire()
        self._files: dict[str, TinyDB] = {}
        self.health = DiskHealth()  # every store reports here whether the disk takes writes
        try:
            if marker := unfinished(self.data_dir):  # a restore stopped halfway: half of each
                raise RestoreUnfinished(marker)
            drop_leftover_staging(self.data_dir)
            for name in self.FILES:
                db = TinyDB(self.data_dir / f"{name}.json", storage=AtomicJSONStorage, health=self.health)
                db.storage.read()  # a damaged file stops start-up here, before anything runs on it
                self._files[name] = db
            self.audit = AuditLog(self.data_dir / "audit")
            self.evidence_dir = ensure_private_dir(self.data_dir / "evidence")
            self._migrate()
        except BaseException:
            self.close()
            raise

    def file(self, name: str) -> TinyDB:
        return self._files[name]

    @property
    def schema_version(self) -> int:
        doc = self.file("meta").table("meta").get(doc_id=1)
        try:
            return int(doc["schema_version"]) if doc else 0
        except (KeyError, TypeError, ValueError):
            raise DamagedDataFile(self.data_dir / "meta.json", "it holds no schema version") from None

    def _migrate(self) -> None:
        meta = self.file("meta").table("meta")
        version = self.schema_version
        if version == 0:
            meta.insert({"schema_version": SCHEMA_VERSION})
            return
        if version > SCHEMA_VERSION:
            raise SchemaTooNew(
                f"The data folder {self.data_dir} uses schema {version}, newer than this bot "
                f"understands ({SCHEMA_VERSION}). Upgrade the bot."
            )
        while version < SCHEMA_VERSION:
            MIGRATIONS[version](self)
            version += 1
            meta.update({"schema_version": version}, doc_ids=[1])

    def close(self) -> None:
        for db in self._files.values():
            db.close()
        self._files.clear()
        if hasattr(self, "audit"):
            self.audit.close()
        self._lock.release()

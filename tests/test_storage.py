"""Storage: atomic writes, owner-only files, one process per data folder, an append-only audit."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from tinydb import TinyDB

from bot.records.audit import AuditEntry
from storage.atomic import AtomicJSONStorage, DiskWriteFailed
from storage.audit import AuditLog
from storage.database import SCHEMA_VERSION, Database, SchemaTooNew
from storage.lock import DataDirLocked

ROOT = Path(__file__).resolve().parents[1]


def test_writes_land_whole_and_are_owner_only(tmp_path: Path) -> None:
    db = TinyDB(tmp_path / "x.json", storage=AtomicJSONStorage)
    db.insert({"pupil": "Zoë <b>&"})
    mode = stat.S_IMODE(os.stat(tmp_path / "x.json").st_mode)
    assert mode == 0o600
    assert not list(tmp_path.glob(".*.tmp"))
    again = TinyDB(tmp_path / "x.json", storage=AtomicJSONStorage)
    assert again.all() == [{"pupil": "Zoë <b>&"}]


def test_a_failed_write_leaves_the_old_file_and_memory_in_step(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = TinyDB(tmp_path / "x.json", storage=AtomicJSONStorage)
    db.insert({"n": 1})

    def disk_full(*_: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("storage.atomic.os.replace", disk_full)
    with pytest.raises(DiskWriteFailed):
        db.insert({"n": 2})
    monkeypatch.undo()
    assert db.all() == [{"n": 1}]  # what is in memory is what is on disk


def test_second_process_on_the_same_data_folder_is_refused(tmp_path: Path) -> None:
    first = Database(tmp_path / "data")
    try:
        with pytest.raises(DataDirLocked, match="already using the data folder"):
            Database(tmp_path / "data")
        code = (
            "import sys; from storage.database import Database; from storage.lock import DataDirLocked\n"
            f"try:\n    Database(__import__('pathlib').Path({str(tmp_path / 'data')!r}))\n"
            "except DataDirLocked as e:\n    print(e); sys.exit(3)\n"
        )
        other = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=30)
        assert other.returncode == 3 and f"pid {os.getpid()}" in other.stdout
    finally:
        first.close()
    Database(tmp_path / "data").close()  # released on close


def test_data_folder_is_private_and_versioned(tmp_path: Path) -> None:
    db = Database(tmp_path / "data")
    assert stat.S_IMODE(os.stat(tmp_path / "data").st_mode) == 0o700
    assert db.schema_version == SCHEMA_VERSION
    db.close()


def test_a_newer_schema_is_refused_and_migrations_run_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = Database(tmp_path / "data")
    db.file("meta").table("meta").update({"schema_version": SCHEMA_VERSION + 1}, doc_ids=[1])
    db.close()
    with pytest.raises(SchemaTooNew):
        Database(tmp_path / "data")

    Database(tmp_path / "old").close()  # written by this version
    import storage.database as database

    ran: list[int] = []
    monkeypatch.setattr(database, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    monkeypatch.setitem(database.MIGRATIONS, SCHEMA_VERSION, lambda d: ran.append(d.schema_version))
    db = Database(tmp_path / "old")
    assert ran == [SCHEMA_VERSION] and db.schema_version == SCHEMA_VERSION + 1
    db.close()


def entry(at: datetime, n: int) -> AuditEntry:
    return AuditEntry(at=at, actor_id=n, actor_role="admin", action="consent lookup", target=f"pupil {n}")


def test_audit_log_is_append_only_across_months_and_pages_newest_first(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit")
    start = datetime(2026, 10, 30, tzinfo=UTC)
    for n in range(30):
        log.append(entry(start + timedelta(hours=6 * n), n))
    log.close()
    assert sorted(p.name for p in (tmp_path / "audit").iterdir()) == ["audit-2026-10.jsonl", "audit-2026-11.jsonl"]
    reopened = AuditLog(tmp_path / "audit")
    page, more = reopened.page(0, 10)
    assert [e.actor_id for e in page] == list(range(29, 19, -1)) and more
    last, more = reopened.page(2, 10)
    assert [e.actor_id for e in last] == list(range(9, -1, -1)) and not more
    assert [e.actor_id for e in reopened.since(start + timedelta(hours=6 * 27))] == [27, 28, 29]


def test_audit_log_survives_a_line_cut_short(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit")
    log.append(entry(datetime(2026, 11, 1, tzinfo=UTC), 1))
    log.close()
    with open(tmp_path / "audit" / "audit-2026-11.jsonl", "a") as f:
        f.write('{"at": "2026-11-0')
    assert [e.actor_id for e in AuditLog(tmp_path / "audit").newest_first()] == [1]

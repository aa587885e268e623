"""What the retention check keeps between weeks, in meta.json: when each pupil was first seen marked
as left (the register records no leaving date), and the Head's previews (what each listed, how it
was answered). Also the audit log's months, which retention drops whole (see bot.retention)."""

from __future__ import annotations

import re
from collections.abc import Collection
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from tinydb import TinyDB
from tinydb.table import Document

from bot.records.retention import DueItems, Preview, PreviewState
from storage.atomic import fsync_dir

AUDIT_FILE = re.compile(r"^audit-(\d{4}-\d{2})\.jsonl$")
ID_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


class RetentionRepository:
    def __init__(self, db: TinyDB) -> None:
        self._left = db.table("left_pupils")
        self._previews = db.table("retention_previews")

    def left_since(self, left_now: Collection[str], today: date) -> dict[str, date]:
        """Each pupil now marked as left with the day they were first seen so; one back on roll is forgotten."""
        known = {doc["pupil_id"]: date.fromisoformat(doc["since"]) for doc in self._left.all()}
        current = set(left_now)
        if set(known) - current or current - set(known):
            kept = {pid: since for pid, since in known.items() if pid in current}
            kept |= {pid: today for pid in current - set(known)}
            tables = dict(self._left.storage.read() or {})
            tables[self._left.name] = {
                str(n): {"pupil_id": pid, "since": since.isoformat()} for n, (pid, since) in enumerate(sorted(kept.items()), 1)
            }
            self._left.storage.write(tables)  # one write: a crash keeps the old list or the new one
            self._left.clear_cache()
            known = kept
        return known

    def add_preview(self, preview: Preview) -> Preview:
        """Store a new preview under the next id, in place of every older one (one write).

        Only the newest preview can still be answered, so the older ones are dropped rather than kept
        a year of weeks in meta.json; their buttons find nothing and delete nothing. The newest is
        always kept, answered or not: it carries the highest id, so an id is never given twice and
        an old button can never act on a newer list. Nor after a restore brings back an older
        meta.json: an id is at least the seconds since ID_EPOCH, above any given before (up to one
        list a second), and stays within a button's nine digits until 2057.
        """
        newest = max((doc.doc_id for doc in self._previews.all()), default=0)
        number = max(newest + 1, int((preview.made_at - ID_EPOCH).total_seconds()))
        stored = Preview(number, preview.as_of, preview.made_at, preview.items)
        tables = dict(self._previews.storage.read() or {})
        tables[self._previews.name] = {str(number): _preview_doc(stored)}
        self._previews.storage.write(tables)
        self._previews.clear_cache()
        return stored

    def preview(self, number: int) -> Preview | None:
        doc = self._previews.get(doc_id=number)
        return _preview_from(doc) if isinstance(doc, Document) else None

    def latest(self) -> Preview | None:
        docs = self._previews.all()
        return _preview_from(max(docs, key=lambda d: d.doc_id)) if docs else None

    def answer(self, number: int, state: PreviewState, by: int, at: datetime) -> None:
        self._previews.update({"state": state.value, "answered_by": by, "answered_at": at.isoformat()}, doc_ids=[number])


def audit_months(folder: Path) -> list[str]:
    """The months the audit log has a file for, oldest first ("2023-10")."""
    return sorted(m.group(1) for p in folder.glob("audit-*.jsonl") if (m := AUDIT_FILE.match(p.name)))


def drop_audit_month(folder: Path, month: str) -> None:
    """Delete one whole month of the audit log (append-only: a month is never rewritten, only dropped)."""
    (folder / f"audit-{month}.jsonl").unlink(missing_ok=True)
    fsync_dir(folder)


def _preview_doc(p: Preview) -> dict[str, Any]:
    items = p.items
    return {
        "as_of": p.as_of.isoformat(),
        "made_at": p.made_at.isoformat(),
        "state": p.state.value,
        "answered_by": p.answered_by,
        "answered_at": p.answered_at.isoformat() if p.answered_at else None,
        "incidents": list(items.incidents),
        "evidence_files": items.evidence_files,
        "applications": list(items.applications),
        "audit_months": list(items.audit_months),
        "pupils": list(items.pupils),
        "oldest": {kind: at.isoformat() for kind, at in items.oldest.items()},
    }


def _preview_from(d: Document) -> Preview:
    items = DueItems(
        incidents=tuple(d["incidents"]),
        evidence_files=d["evidence_files"],
        applications=tuple(d["applications"]),
        audit_months=tuple(d["audit_months"]),
        pupils=tuple(d["pupils"]),
        oldest={kind: datetime.fromisoformat(at) for kind, at in d["oldest"].items()},
    )
    return Preview(
        id=d.doc_id,
        as_of=date.fromisoformat(d["as_of"]),
        made_at=datetime.fromisoformat(d["made_at"]),
        items=items,
        state=PreviewState(d["state"]),
        answered_by=d["answered_by"],
        answered_at=datetime.fromisoformat(d["answered_at"]) if d["answered_at"] else None,
    )

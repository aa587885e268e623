"""The consent register on disk: one document per pupil in the table "pupils", and their history.

The history sits in the same file (table "history", one document per pupil holding only the
changes to their record), so an import writes the register and the history in one atomic write:
never the one without the other. A pupil's history is one list, read in O(their changes).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import fields, replace
from datetime import date, datetime
from typing import Any

from tinydb import TinyDB

from bot.names import PupilIndex
from bot.records.audit import SYSTEM
from bot.records.consent import BEGAN, GIVEN, REFUSED, ConsentChange, ConsentEvent, Pupil, as_recorded

TABLE = "pupils"
HISTORY = "history"


class ConsentRepository:
    """The register the bot answers from; an import replaces it in one write.

    Pupils and their name index are kept in memory and rebuilt only when this
    repository writes, so a lookup never re-reads or re-indexes the file.
    """

    def __init__(self, db: TinyDB) -> None:
        self._db = db
        self._pupils: dict[str, Pupil] | None = None
        self._index: PupilIndex | None = None
        self._history: dict[str, list[dict[str, Any]]] | None = None  # as stored; decoded per pupil when read

    def all(self) -> list[Pupil]:
        """Every pupil in the register, including those who have left."""
        return list(self._by_id().values())

    def get(self, pupil_id: str) -> Pupil | None:
        return self._by_id().get(pupil_id)

    def index(self) -> PupilIndex:
        """The name index of pupils still at the school, built once per register."""
        if self._index is None:
            self._index = PupilIndex(self._by_id().values())
        return self._index

    def history(self, pupil_id: str) -> tuple[ConsentEvent, ...]:
        """The changes to one pupil's consent record, oldest first."""
        return tuple(map(_event_from_doc, self._events().get(pupil_id, ())))

    def replace_register(
        self, pupils: Sequence[Pupil], leaving_ids: Collection[str], events: Mapping[str, ConsentEvent] | None = None
    ) -> None:
        """Apply a confirmed import: the file's pupils, those missing from it marked as left, and
        `events` (what it changed, by pupil id) added to their histories.

        The whole table and the history are written with a single storage write, so a crash
        mid-import leaves the old register or the new one, never half of each.
        """
        register = {pupil.pupil_id: pupil for pupil in self._by_id().values()}
        for pupil_id in leaving_ids:
            if pupil_id in register:
                register[pupil_id] = replace(register[pupil_id], left=True)
        register.update((pupil.pupil_id, pupil) for pupil in pupils)
        history = dict(self._events())
        for pupil_id, event in (events or {}).items():
            history[pupil_id] = [*history.get(pupil_id, ()), _event_to_doc(event)]
        self._write(register, history)

    def forget(self, pupil_ids: Collection[str]) -> None:
        """Delete pupils' records and their histories (the retention purge of pupils who left), in one write."""
        gone = set(pupil_ids)
        register = {pid: pupil for pid, pupil in self._by_id().items() if pid not in gone}
        history = {pid: events for pid, events in self._events().items() if pid not in gone}
        if len(register) == len(self._by_id()) and len(history) == len(self._events()):
            return
        self._write(register, history)

    def begin_history(self, at: datetime) -> None:
        """Start the history of a register kept before it: each pupil gets one "on the register
        when the history began" entry holding their record as it stood (the upgrade does this once)."""
        began = {
            pid: ConsentEvent(at, SYSTEM, "upgrade", (ConsentChange(BEGAN), *as_recorded(pupil)))
            for pid, pupil in self._by_id().items()
            if pid not in self._events()
        }
        if began:
            self.replace_register((), (), began)

    def _write(self, register: dict[str, Pupil], history: dict[str, list[dict[str, Any]]]) -> None:
        tables = dict(self._db.storage.read() or {})
        tables[TABLE] = {str(doc_id): _to_doc(pupil) for doc_id, pupil in enumerate(register.values(), start=1)}
        tables[HISTORY] = {
            str(doc_id): {"pupil_id": pid, "events": events} for doc_id, (pid, events) in enumerate(history.items(), start=1)
        }
        self._db.storage.write(tables)
        self._db.table(TABLE).clear_cache()
        self._db.table(HISTORY).clear_cache()
        self._pupils = register
        self._history = history
        self._index = None

    def _events(self) -> dict[str, list[dict[str, Any]]]:
        if self._history is None:
            self._history = {doc["pupil_id"]: list(doc["events"]) for doc in self._db.table(HISTORY).all()}
        return self._history

    def _by_id(self) -> dict[str, Pupil]:
        if self._pupils is None:
            self._pupils = {pupil.pupil_id: pupil for pupil in map(_from_doc, self._db.table(TABLE).all())}
        return self._pupils


def _to_doc(pupil: Pupil) -> dict[str, Any]:
    doc = {field.name: getattr(pupil, field.name) for field in fields(pupil)}
    doc["consents"] = dict(pupil.consents)
    for name in ("form_date", "expires", "withdrawn"):
        doc[name] = _iso(doc[name])
    return doc


def _from_doc(doc: Mapping[str, Any]) -> Pupil:
    return Pupil(
        pupil_id=doc["pupil_id"],
        first_name=doc["first_name"],
        last_name=doc["last_name"],
        preferred_name=doc.get("preferred_name", ""),
        class_name=doc.get("class_name", ""),
        consents=doc.get("consents", {}),
        form_date=_date(doc.get("form_date")),
        expires=_date(doc.get("expires")),
        withdrawn=_date(doc.get("withdrawn")),
        left=doc.get("left", False),
    )


def _event_to_doc(event: ConsentEvent) -> dict[str, Any]:
    """Compact: {"at", "by", "via", "do": ["given:page", "expires:2027-07-31", "left", ...]}."""
    changes = []
    for change in event.changes:
        value = change.purpose or _iso(change.day)
        changes.append(f"{change.kind}:{value}" if value else change.kind)
    return {"at": event.at.isoformat(), "by": event.actor_id, "via": event.via, "do": changes}


def _event_from_doc(doc: Mapping[str, Any]) -> ConsentEvent:
    changes = []
    for text in doc["do"]:
        kind, _, value = text.partition(":")
        purposed = kind in (GIVEN, REFUSED)
        changes.append(ConsentChange(kind, value if purposed else "", None if purposed else _date(value)))
    return ConsentEvent(datetime.fromisoformat(doc["at"]), int(doc["by"]), doc["via"], tuple(changes))


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None

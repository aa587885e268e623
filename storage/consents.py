"""The consent register on disk: one document per pupil in the table "pupils"."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import fields, replace
from datetime import date
from typing import Any

from tinydb import TinyDB

from bot.names import PupilIndex
from bot.records.consent import Pupil

TABLE = "pupils"


class ConsentRepository:
    """The register the bot answers from; an import replaces it in one write.

    Pupils and their name index are kept in memory and rebuilt only when this
    repository writes, so a lookup never re-reads or re-indexes the file.
    """

    def __init__(self, db: TinyDB) -> None:
        self._db = db
        self._pupils: dict[str, Pupil] | None = None
        self._index: PupilIndex | None = None

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

    def replace_register(self, pupils: Sequence[Pupil], leaving_ids: Collection[str]) -> None:
        """Apply a confirmed import: the file's pupils, and those missing from it marked as left.

        The whole table is written with a single storage write, so a crash mid-import
        leaves the old register or the new one, never half of each.
        """
        register = {pupil.pupil_id: pupil for pupil in self._by_id().values()}
        for pupil_id in leaving_ids:
            if pupil_id in register:
                register[pupil_id] = replace(register[pupil_id], left=True)
        register.update((pupil.pupil_id, pupil) for pupil in pupils)
        tables = dict(self._db.storage.read() or {})
        tables[TABLE] = {str(doc_id): _to_doc(pupil) for doc_id, pupil in enumerate(register.values(), start=1)}
        self._db.storage.write(tables)
        self._db.table(TABLE).clear_cache()
        self._pupils = register
        self._index = None

    def forget(self, pupil_ids: Collection[str]) -> None:
        """Delete pupils' records (the retention purge of pupils who left), in one storage write."""
        gone = set(pupil_ids)
        register = {pid: pupil for pid, pupil in self._by_id().items() if pid not in gone}
        if len(register) == len(self._by_id()):
            return
        tables = dict(self._db.storage.read() or {})
        tables[TABLE] = {str(doc_id): _to_doc(pupil) for doc_id, pupil in enumerate(register.values(), start=1)}
        self._db.storage.write(tables)
        self._db.table(TABLE).clear_cache()
        self._pupils = register
        self._index = None

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


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None

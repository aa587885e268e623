"""Incidents, their actions and the ban register; their evidence files are storage.evidence.

An incident document stays small: its evidence list is capped by the logging flow, and
actions and bans live in their own tables (one row each, at most one per kind), so a
busy term does not grow one document without bound.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from tinydb import Query, TinyDB

from bot.records.incidents import Action, Ban, Evidence, EvidenceKind, Incident, IncidentState
from storage.atomic import DiskHealth
from storage.evidence import EvidenceStore

log = logging.getLogger(__name__)


class IncidentRepository:
    """Verbs the incident log speaks. Each check-and-write runs without an await: first wins."""

    def __init__(self, db: TinyDB, evidence_dir: Path, health: DiskHealth | None = None) -> None:
        self._incidents = db.table("incidents")
        self._actions = db.table("actions")
        self._bans = db.table("bans")
        self.evidence = EvidenceStore(evidence_dir, health)
        # number -> doc id and draft id -> number, so a lookup never scans a year of incidents
        self._doc_ids: dict[int, int] | None = None
        self._drafts: dict[str, int] = {}
        self._counters = db.table("counters")  # the highest number ever given: a purge never frees one

    def _index(self) -> dict[int, int]:
        if self._doc_ids is None:
            self._doc_ids = {}
            for doc in self._incidents.all():
                self._doc_ids[doc["number"]] = doc.doc_id
                if doc.get("draft_id"):
                    self._drafts[doc["draft_id"]] = doc["number"]
        return self._doc_ids

    # ---- incidents ----------------------------------------------------------------------
    def next_number(self) -> int:
        given = self._counters.get(doc_id=1)
        return max(max(self._index(), default=0), given["last"] if isinstance(given, dict) else 0) + 1

    def insert(self, incident: Incident) -> Incident:
        index = self._index()
        index[incident.number] = self._incidents.insert(_incident_doc(incident))
        if incident.draft_id:
            self._drafts[incident.draft_id] = incident.number
        return incident

    def get(self, number: int) -> Incident | None:
        doc_id = self._index().get(number)
        doc = self._incidents.get(doc_id=doc_id) if doc_id is not None else None
        return _incident_from(doc) if doc else None

    def by_draft(self, draft_id: str) -> Incident | None:
        self._index()
        number = self._drafts.get(draft_id)
        return self.get(number) if number is not None else None

    def all(self) -> list[Incident]:
        return sorted((_incident_from(d) for d in self._incidents.all()), key=lambda i: i.number)

    def unalerted(self) -> list[Incident]:
        return [_incident_from(d) for d in self._incidents.search(Query().alert_posted == False)]  # noqa: E712

    def unacknowledged(self) -> list[Incident]:
        return [_incident_from(d) for d in self._incidents.search(Query().state == IncidentState.OPEN)]

    def count(self) -> int:
        return len(self._incidents)

    def acknowledge(self, number: int, by: int, name: str, at: datetime) -> Incident | None:
        """Acknowledge an open incident; None when it was already acknowledged or closed."""
        incident = self.get(number)
        if incident is None or incident.state != IncidentState.OPEN:
            return None
        return self._save(
            replace(
                incident,
                state=IncidentState.ACKNOWLEDGED,
                acknowledged_by=by,
                acknowledged_name=name,
                acknowledged_at=at,
                next_ping_at=None,
            )
        )

    def close(self, number: int, at: datetime, outcome: str) -> Incident | None:
        """Close an incident that is not closed yet; None when it already was."""
        incident = self.get(number)
        if incident is None or incident.state == IncidentState.CLOSED:
            return None
        return self._save(replace(incident, state=IncidentState.CLOSED, closed_at=at, outcome=outcome, next_ping_at=None))

    def record_ping(self, number: int, pings: int, next_at: datetime, fallback_alerted: bool) -> Incident:
        incident = self._need(number)
        return self._save(replace(incident, pings=pings, next_ping_at=next_at, fallback_alerted=fallback_alerted))

    def mark_alert_posted(self, number: int) -> Incident:
        return self._save(replace(self._need(number), alert_posted=True))

    def mark_unreachable_told(self, number: int) -> bool:
        """True the first time only: the reporter and SLT hear about an unreachable Head once."""
        incident = self._need(number)
        if incident.unreachable_told:
            return False
        self._save(replace(incident, unreachable_told=True))
        return True

    def _need(self, number: int) -> Incident:
        incident = self.get(number)
        if incident is None:
            raise KeyError(number)
        return incident

    def _save(self, incident: Incident) -> Incident:
        self._incidents.update(_incident_doc(incident), doc_ids=[self._index()[incident.number]])
        return incident

    # ---- actions ------------------------------------------------------------------------
    def add_action(self, action: Action) -> Action | None:
        """Record an action once; a second one of the same kind returns None (a double tap)."""
        q = Query()
        if self._actions.get((q.number == action.number) & (q.kind == action.kind)):
            return None
        self._actions.insert(_action_doc(action))
        return action

    def action(self, number: int, kind: str) -> Action | None:
        q = Query()
        doc = self._actions.get((q.number == number) & (q.kind == kind))
        return _action_from(doc) if doc else None

    def actions(self, number: int) -> list[Action]:
        return sorted((_action_from(d) for d in self._actions.search(Query().number == number)), key=lambda a: a.at)

    def all_actions(self) -> list[Action]:
        return sorted((_action_from(d) for d in self._actions.all()), key=lambda a: (a.number, a.at))

    # ---- the ban register ---------------------------------------------------------------
    def add_ban(self, ban: Ban) -> Ban | None:
        """Add a ban for an incident once; None when that incident's ban is already recorded."""
        if self._bans.get(Query().number == ban.number):
            return None
        self._bans.insert(_ban_doc(ban))
        return ban

    def forget(self, numbers: Collection[int]) -> int:
        """Delete incidents with their actions, bans and evidence files (the retention purge); how many
        files went. One write for the records (a crash keeps all of them or none), then the files; the
        highest number stays given, so a reference is never reused."""
        gone = set(numbers) & set(self._index())
        if not gone:
            return 0
        storage = self._incidents.storage
        tables = dict(storage.read() or {})
        for table in (self._incidents, self._actions, self._bans):
            tables[table.name] = {k: d for k, d in tables.get(table.name, {}).items() if d.get("number") not in gone}
        tables[self._counters.name] = {"1": {"last": self.next_number() - 1}}
        storage.write(tables)
        for table in (self._incidents, self._actions, self._bans, self._counters):
            table.clear_cache()
        self._doc_ids = None
        self._drafts = {}
        return sum(self.evidence.remove(f"INC-{n:04d}") for n in sorted(gone))

    def ban_for(self, number: int) -> Ban | None:
        doc = self._bans.get(Query().number == number)
        return _ban_from(doc) if doc else None

    def bans(self) -> list[Ban]:
        """Newest first."""
        return sorted((_ban_from(d) for d in self._bans.all()), key=lambda b: (b.at, b.number), reverse=True)


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _moment(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _evidence_doc(e: Evidence) -> dict[str, Any]:
    return {
        "path": e.path,
        "sha256": e.sha256,
        "size": e.size,
        "file_id": e.file_id,
        "file_unique_id": e.file_unique_id,
        "kind": e.kind.value,
        "mime_type": e.mime_type,
        "uploader_id": e.uploader_id,
        "received_at": e.received_at.isoformat(),
        "origin": e.origin,
        "origin_type": e.origin_type,
        "origin_date": _when(e.origin_date),
    }


def _evidence_from(d: dict[str, Any]) -> Evidence:
    return Evidence(
        path=d["path"],
        sha256=d["sha256"],
        size=d["size"],
        file_id=d["file_id"],
        file_unique_id=d["file_unique_id"],
        kind=EvidenceKind(d["kind"]),
        mime_type=d["mime_type"],
        uploader_id=d["uploader_id"],
        received_at=datetime.fromisoformat(d["received_at"]),
        origin=d["origin"],
        origin_type=d["origin_type"],
        origin_date=_moment(d["origin_date"]),
    )


def _incident_doc(i: Incident) -> dict[str, Any]:
    return {
        "number": i.number,
        "draft_id": i.draft_id,
        "category": i.category,
        "urgent": i.urgent,
        "reporter_id": i.reporter_id,
        "reporter_name": i.reporter_name,
        "note": i.note,
        "opened_at": i.opened_at.isoformat(),
        "evidence": [_evidence_doc(e) for e in i.evidence],
        "state": i.state,
        "acknowledged_by": i.acknowledged_by,
        "acknowledged_name": i.acknowledged_name,
        "acknowledged_at": _when(i.acknowledged_at),
        "closed_at": _when(i.closed_at),
        "outcome": i.outcome,
        "alert_posted": i.alert_posted,
        "pings": i.pings,
        "next_ping_at": _when(i.next_ping_at),
        "leaders_alerted": i.fallback_alerted,  # stored under the name it was first given
        "unreachable_told": i.unreachable_told,
    }


def _incident_from(d: dict[str, Any]) -> Incident:
    return Incident(
        number=d["number"],
        draft_id=d["draft_id"],
        category=d["category"],
        urgent=d["urgent"],
        reporter_id=d["reporter_id"],
        reporter_name=d["reporter_name"],
        note=d["note"],
        opened_at=datetime.fromisoformat(d["opened_at"]),
        evidence=tuple(_evidence_from(e) for e in d["evidence"]),
        state=IncidentState(d["state"]),
        acknowledged_by=d["acknowledged_by"],
        acknowledged_name=d["acknowledged_name"],
        acknowledged_at=_moment(d["acknowledged_at"]),
        closed_at=_moment(d["closed_at"]),
        outcome=d["outcome"],
        alert_posted=d["alert_posted"],
        pings=d["pings"],
        next_ping_at=_moment(d["next_ping_at"]),
        fallback_alerted=d["leaders_alerted"],
        unreachable_told=d["unreachable_told"],
    )


def _action_doc(a: Action) -> dict[str, Any]:
    return {"number": a.number, "kind": a.kind, "by": a.by, "by_name": a.by_name, "at": a.at.isoformat(), "detail": a.detail}


def _action_from(d: dict[str, Any]) -> Action:
    return Action(d["number"], d["kind"], d["by"], d["by_name"], datetime.fromisoformat(d["at"]), d["detail"])


def _ban_doc(b: Ban) -> dict[str, Any]:
    return {
        "number": b.number,
        "platform_name": b.platform_name,
        "reason": b.reason,
        "by": b.by,
        "by_name": b.by_name,
        "at": b.at.isoformat(),
    }


def _ban_from(d: dict[str, Any]) -> Ban:
    return Ban(d["number"], d["platform_name"], d["reason"], d["by"], d["by_name"], datetime.fromisoformat(d["at"]))

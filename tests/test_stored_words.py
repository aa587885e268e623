"""Words the records keep (how a picture went out, how a screenshot came, a stranger's group, a check's outcome,
Telegram's side of a decision) are plain strings in the data files, as earlier versions wrote them, and come back
as their enums."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from tinydb import TinyDB

from bot.records.applications import GroupApplication, JoinAction, Source, Status
from bot.records.incidents import Evidence, EvidenceKind, Incident
from bot.records.moderation import CheckOutcome
from bot.records.outbox import DeliveredAs, OutboxItem
from bot.records.staff import AccessRequest, InGroup
from storage.applications import ApplicationRepository
from storage.atomic import AtomicJSONStorage
from storage.incidents import IncidentRepository
from storage.moderation import ModerationRepository
from storage.outbox import OutboxRepository
from storage.staff import StaffRepository

AT = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def _db(tmp_path: Path, name: str) -> TinyDB:
    return TinyDB(tmp_path / f"{name}.json", storage=AtomicJSONStorage)


def _stored(tmp_path: Path, name: str, table: str, key: str) -> Any:
    """The value as it stands in the data file, as a person (or an earlier version) reads it."""
    [doc] = json.loads((tmp_path / f"{name}.json").read_text(encoding="utf-8"))[table].values()
    return doc[key]


def test_each_word_is_a_plain_string_on_disk_and_its_enum_when_read_back(tmp_path: Path) -> None:
    outbox = OutboxRepository(_db(tmp_path, "outbox"))
    item = outbox.enqueue(OutboxItem("k", 1, "hi", AT, AT, photo="f", delivered_as=DeliveredAs.DOCUMENT))
    staff = StaffRepository(_db(tmp_path, "staff"))
    staff.add_request(AccessRequest(9, "Sam", "", AT, in_group=InGroup.NO_GROUP))
    moderation = ModerationRepository(_db(tmp_path, "moderation"))
    moderation.record_check(date(2026, 11, 25), 7, AT, CheckOutcome.PROBLEM, (7,))
    incidents = IncidentRepository(_db(tmp_path, "incidents"), tmp_path / "evidence")
    shot = Evidence("evidence/INC-0001/a.png", "0" * 64, 1, "f", "u", EvidenceKind.DOCUMENT, "image/png", 7, AT)
    incidents.insert(Incident(1, "d", "pupil", False, 7, "Ada", "", AT, (shot,)))
    applications = ApplicationRepository(_db(tmp_path, "applications"))
    applications.add(GroupApplication(0, Source.TELEGRAM, Status.APPROVED, "Pat", AT, join_action=JoinAction.DECLINE))

    assert _stored(tmp_path, "outbox", "outbox", "delivered_as") == "document"
    assert _stored(tmp_path, "staff", "access_requests", "in_group") == "none"
    assert _stored(tmp_path, "moderation", "days", "outcome") == "problem"
    assert _stored(tmp_path, "incidents", "incidents", "evidence")[0]["kind"] == "document"
    assert _stored(tmp_path, "applications", "applications", "join_action") == "decline"

    again = OutboxRepository(_db(tmp_path, "outbox")).get(item.id)
    assert again is not None and again.delivered_as is DeliveredAs.DOCUMENT
    request = StaffRepository(_db(tmp_path, "staff")).last_request(9)
    assert request is not None and request.in_group is InGroup.NO_GROUP
    day = ModerationRepository(_db(tmp_path, "moderation")).day(date(2026, 11, 25))
    assert day is not None and day.outcome is CheckOutcome.PROBLEM
    incident = IncidentRepository(_db(tmp_path, "incidents"), tmp_path / "evidence").get(1)
    assert incident is not None and incident.evidence[0].kind is EvidenceKind.DOCUMENT
    application = ApplicationRepository(_db(tmp_path, "applications")).get(1)
    assert application is not None and application.join_action is JoinAction.DECLINE

"""Parents' group applications on disk: one small document per application, its history apart.

Tables in the "applications" file: "applications" (doc id = application number), "events"
(one document per history line, so a busy application never grows one big document).
A leader's typed reason or question is not kept here but with their conversation (bot.shell.persistence).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from tinydb import Query, TinyDB
from tinydb.table import Document

from bot.records.applications import Child, Event, GroupApplication, JoinAction, Source, Status


class ApplicationRepository:
    def __init__(self, db: TinyDB) -> None:
        self._applications = db.table("applications")
        self._events = db.table("events")
        self._counters = db.table("counters")  # the highest number ever given: a purge never frees one

    # ---- applications -------------------------------------------------------------------
    def forget(self, numbers: Collection[int]) -> None:
        """Delete decided applications with their history (the retention purge), in one write; the
        highest number stays given, so an application's number is never reused."""
        gone = {n for n in numbers if self._applications.contains(doc_id=n)}
        if not gone:
            return
        highest = max((doc.doc_id for doc in self._applications.all()), default=0)
        given = self._counters.get(doc_id=1)
        storage = self._applications.storage
        tables = dict(storage.read() or {})
        tables[self._applications.name] = {k: d for k, d in tables.get(self._applications.name, {}).items() if int(k) not in gone}
        tables[self._events.name] = {k: d for k, d in tables.get(self._events.name, {}).items() if d.get("number") not in gone}
        tables[self._counters.name] = {"1": {"last": max(highest, given["last"] if isinstance(given, Document) else 0)}}
        storage.write(tables)
        for table in (self._applications, self._events, self._counters):
            table.clear_cache()

    def add(self, application: GroupApplication) -> GroupApplication:
        """Store a new application under the next number."""
        given = self._counters.get(doc_id=1)
        highest = max((doc.doc_id for doc in self._applications.all()), default=0)
        number = max(highest, given["last"] if isinstance(given, Document) else 0) + 1
        stored = replace(application, number=number)
        self._applications.insert(Document(_to_doc(stored), doc_id=number))
        return stored

    def get(self, number: int) -> GroupApplication | None:
        doc = self._applications.get(doc_id=number)
        return _from_doc(doc) if isinstance(doc, Document) else None

    def save(self, application: GroupApplication) -> None:
        self._applications.update(_to_doc(application), doc_ids=[application.number])

    def with_status(self, *statuses: Status) -> list[GroupApplication]:
        wanted = [status.value for status in statuses]
        docs = self._applications.search(Query().status.one_of(wanted))
        return sorted((_from_doc(d) for d in docs), key=lambda a: a.number)

    def open_for_applicant(self, user_id: int) -> GroupApplication | None:
        q = Query()
        doc = self._applications.get(
            (q.applicant_id == user_id) & q.status.one_of([Status.COLLECTING.value, Status.PENDING.value])
        )
        return _from_doc(doc) if isinstance(doc, Document) else None

    def needing_attention(self) -> list[GroupApplication]:
        """Open applications and decided ones whose outcome has not been announced yet."""
        q = Query()
        docs = self._applications.search(
            q.status.one_of([Status.COLLECTING.value, Status.PENDING.value])
            | ((q.outcome_told == False) & q.status.one_of([Status.APPROVED.value, Status.REJECTED.value]))  # noqa: E712
        )
        return sorted((_from_doc(d) for d in docs), key=lambda a: a.number)

    def join_actions(self) -> list[GroupApplication]:
        """Decisions still to be sent to Telegram (approve or decline a join request)."""
        docs = self._applications.search(Query().join_action != "")
        return sorted((_from_doc(d) for d in docs), key=lambda a: a.number)

    # ---- history ------------------------------------------------------------------------
    def add_event(self, event: Event) -> None:
        self._events.insert({"number": event.number, "at": event.at.isoformat(), "actor_id": event.actor_id, "text": event.text})

    def last_event(self, number: int) -> Event | None:
        docs = self._events.search(Query().number == number)
        if not docs:
            return None
        d = max(docs, key=lambda d: d.doc_id)
        return Event(d["number"], datetime.fromisoformat(d["at"]), d["actor_id"], d["text"])

    def events(self, number: int) -> list[Event]:
        docs = self._events.search(Query().number == number)
        return [
            Event(d["number"], datetime.fromisoformat(d["at"]), d["actor_id"], d["text"])
            for d in sorted(docs, key=lambda d: d.doc_id)
        ]


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _moment(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _to_doc(a: GroupApplication) -> dict[str, Any]:
    return {
        "number": a.number,
        "source": a.source.value,
        "status": a.status.value,
        "parent_name": a.parent_name,
        "created_at": a.created_at.isoformat(),
        "relationship": a.relationship,
        "children": [{"name": c.name, "pupil_id": c.pupil_id} for c in a.children],
        "conduct_signed": a.conduct_signed,
        "form_ref": a.form_ref,
        "contact": a.contact,
        "phone": a.phone,
        "recorded_by": list(a.recorded_by),
        "applicant_id": a.applicant_id,
        "applicant_username": a.applicant_username,
        "join_chat_id": a.join_chat_id,
        "submitted_at": _iso(a.submitted_at),
        "decided_by": a.decided_by,
        "decided_at": _iso(a.decided_at),
        "reason": a.reason,
        "outcome_told": a.outcome_told,
        "previous": a.previous,
        "linked_to": a.linked_to,
        "reminders_sent": a.reminders_sent,
        "head_told": a.head_told,
        "applicant_nudged": a.applicant_nudged,
        "join_action": a.join_action.value if a.join_action else "",
        "join_queued": a.join_queued,
        "join_result": a.join_result,
        "same_name_as": a.same_name_as,
        "conduct_refused": a.conduct_refused,
        "question_by": a.question_by,
        "recorder_question_by": a.recorder_question_by,
    }


def _from_doc(d: Mapping[str, Any]) -> GroupApplication:
    return GroupApplication(
        number=d["number"],
        source=Source(d["source"]),
        status=Status(d["status"]),
        parent_name=d["parent_name"],
        created_at=datetime.fromisoformat(d["created_at"]),
        relationship=d.get("relationship", ""),
        children=tuple(Child(c["name"], c.get("pupil_id", "")) for c in d.get("children", [])),
        conduct_signed=d.get("conduct_signed", False),
        form_ref=d.get("form_ref", ""),
        contact=d.get("contact", ""),
        phone=d.get("phone", ""),
        recorded_by=tuple(d.get("recorded_by", [])),
        applicant_id=d.get("applicant_id", 0),
        applicant_username=d.get("applicant_username", ""),
        join_chat_id=d.get("join_chat_id", 0),
        submitted_at=_moment(d.get("submitted_at")),
        decided_by=d.get("decided_by", 0),
        decided_at=_moment(d.get("decided_at")),
        reason=d.get("reason", ""),
        outcome_told=d.get("outcome_told", False),
        previous=d.get("previous", 0),
        linked_to=d.get("linked_to", 0),
        reminders_sent=d.get("reminders_sent", 0),
        head_told=d.get("head_told", False),
        applicant_nudged=d.get("applicant_nudged", False),
        join_action=JoinAction(d["join_action"]) if d.get("join_action") else None,
        join_queued=d.get("join_queued", False),
        join_result=d.get("join_result", ""),
        same_name_as=d.get("same_name_as", 0),
        conduct_refused=d.get("conduct_refused", False),
        question_by=d.get("question_by", 0),
        recorder_question_by=d.get("recorder_question_by", 0),
    )


def move_questions_onto_applications(db: TinyDB) -> None:
    """Schema 1 to 2: the "prompts" table goes; a question waiting for an applicant's answer moves onto its application.

    A leader's reason or question under way (waited for five minutes at most) is now kept with their
    conversation, so one pending across the upgrade is not carried over: the leader taps again.
    """
    applications = db.table("applications")
    prompts = db.table("prompts")
    for prompt in prompts.all():
        number, asked_by = prompt.get("number"), prompt.get("asked_by")
        if prompt.get("kind") != "answer" or not isinstance(number, int) or not isinstance(asked_by, int):
            continue
        application = applications.get(doc_id=number)
        if isinstance(application, Document) and application.get("status") == Status.PENDING.value:
            applications.update({"question_by": asked_by}, doc_ids=[number])
    db.drop_table("prompts")

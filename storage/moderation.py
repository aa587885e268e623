"""The moderation duty on disk: the rota, one small document per day, reminders, digests sent.

One document per day keeps each write small; the days table grows by one short document a
day, which is the compliance record the Head reads. Reminders are deleted once handled.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from tinydb import Query, TinyDB

from bot.records.moderation import CheckOutcome, DayRecord, Reminder, Rota, RotaKind


class ModerationRepository:
    def __init__(self, db: TinyDB) -> None:
        self._meta = db.table("moderation_meta")
        self._rota = db.table("rota")
        self._days = db.table("days")
        self._reminders = db.table("reminders")
        self._digests = db.table("digests")

    # ---- since when the bot has kept the duty
    def start_tracking(self, now: datetime) -> None:
        """Set once, at the first start: days before it were never owed a nudge."""
        if self._meta.get(doc_id=1) is None:
            self._meta.insert({"tracking_since": now.isoformat()})

    def tracking_since(self) -> datetime | None:
        doc = self._meta.get(doc_id=1)
        return datetime.fromisoformat(doc["tracking_since"]) if doc else None

    # ---- the rota
    def rota(self) -> Rota:
        doc = self._rota.get(doc_id=1)
        return _rota_from_doc(doc) if doc else Rota()

    def set_rota(self, rota: Rota) -> None:
        if self._rota.get(doc_id=1) is None:
            self._rota.insert(_rota_doc(rota))
        else:
            self._rota.update(_rota_doc(rota), doc_ids=[1])

    # ---- days
    def day(self, day: date) -> DayRecord | None:
        doc = self._days.get(Query().day == day.isoformat())
        return _day_from_doc(doc) if doc else None

    def days_since(self, first: date) -> dict[date, DayRecord]:
        docs = self._days.search(Query().day >= first.isoformat())
        return {record.day: record for record in map(_day_from_doc, docs)}

    def record_nudge(self, day: date, on_duty: tuple[int, ...], at: datetime) -> None:
        self._upsert(day, {"on_duty": list(on_duty), "nudged_at": at.isoformat()})

    def record_check(self, day: date, by: int, at: datetime, outcome: CheckOutcome, on_duty: tuple[int, ...]) -> DayRecord:
        """Record the first answer of the day; a later one returns the first unchanged."""
        existing = self.day(day)
        if existing and existing.checked:
            return existing
        changes: dict[str, Any] = {"checked_by": by, "checked_at": at.isoformat(), "outcome": outcome.value}
        if not (existing and existing.on_duty):
            changes["on_duty"] = list(on_duty)
        self._upsert(day, changes)
        record = self.day(day)
        assert record is not None
        return record

    def record_escalation(self, day: date, at: datetime) -> None:
        self._upsert(day, {"escalated_at": at.isoformat()})

    def _upsert(self, day: date, changes: dict[str, Any]) -> None:
        q = Query().day == day.isoformat()
        if self._days.get(q) is None:
            self._days.insert({"day": day.isoformat()} | changes)
        else:
            self._days.update(changes, q)

    # ---- "remind me in an hour"
    def add_reminder(self, reminder: Reminder) -> Reminder:
        """Store a reminder; if this person already has one waiting for the day, that one stands."""
        q = Query()
        waiting = self._reminders.get((q.day == reminder.day.isoformat()) & (q.user_id == reminder.user_id))
        if waiting:
            return _reminder_from_doc(waiting)
        self._reminders.insert(
            {"day": reminder.day.isoformat(), "user_id": reminder.user_id, "due_at": reminder.due_at.isoformat()}
        )
        return reminder

    def reminders_due(self, now: datetime) -> list[Reminder]:
        docs = self._reminders.search(Query().due_at <= now.isoformat())
        return sorted(map(_reminder_from_doc, docs), key=lambda r: (r.due_at, r.user_id))

    def next_reminder(self) -> datetime | None:
        return min((datetime.fromisoformat(d["due_at"]) for d in self._reminders.all()), default=None)

    def drop_reminder(self, reminder: Reminder) -> None:
        q = Query()
        self._reminders.remove((q.day == reminder.day.isoformat()) & (q.user_id == reminder.user_id))

    # ---- weekly digests
    def digest_sent(self, day: date) -> bool:
        return self._digests.contains(Query().day == day.isoformat())

    def record_digest(self, day: date, at: datetime) -> None:
        if not self.digest_sent(day):
            self._digests.insert({"day": day.isoformat(), "sent_at": at.isoformat()})


def _rota_doc(rota: Rota) -> dict[str, Any]:
    return {
        "kind": rota.kind.value,
        "admins": list(rota.admins),
        "fixed": [[weekday, list(ids)] for weekday, ids in rota.fixed],
        "starts": rota.starts.isoformat() if rota.starts else None,
        "changed_by": rota.changed_by,
        "changed_at": rota.changed_at.isoformat() if rota.changed_at else None,
    }


def _rota_from_doc(d: dict[str, Any]) -> Rota:
    return Rota(
        kind=RotaKind(d["kind"]),
        admins=tuple(d["admins"]),
        fixed=tuple((weekday, tuple(ids)) for weekday, ids in d["fixed"]),
        starts=date.fromisoformat(d["starts"]) if d["starts"] else None,
        changed_by=d["changed_by"],
        changed_at=datetime.fromisoformat(d["changed_at"]) if d["changed_at"] else None,
    )


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _day_from_doc(d: dict[str, Any]) -> DayRecord:
    return DayRecord(
        day=date.fromisoformat(d["day"]),
        on_duty=tuple(d.get("on_duty", ())),
        nudged_at=_when(d.get("nudged_at")),
        checked_by=d.get("checked_by", 0),
        checked_at=_when(d.get("checked_at")),
        outcome=CheckOutcome(d["outcome"]) if d.get("outcome") else None,  # none until the day is checked
        escalated_at=_when(d.get("escalated_at")),
    )


def _reminder_from_doc(d: dict[str, Any]) -> Reminder:
    return Reminder(date.fromisoformat(d["day"]), d["user_id"], datetime.fromisoformat(d["due_at"]))

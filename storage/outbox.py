"""Messages (and join-request decisions) waiting to reach Telegram: saved before they are sent, so none is lost."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from typing import Any

from tinydb import Query, TinyDB

from bot.records.outbox import DeliveredAs, ItemKind, OutboxItem, OutboxState, Unreachable
from storage.atomic import WriteFailed

log = logging.getLogger(__name__)

# What a full or failing disk raises: the storage layer's own error, or the OS's.
DISK_REFUSED = (WriteFailed, OSError)


class OutboxRepository:
    """The outbox file, with in-memory indexes (key, pending, thread) so that no lookup scans a
    year of delivered messages. This process is the only writer, so the indexes stay true.

    A change the disk refuses (full) is kept in memory and written with the next write that
    works: a message Telegram took is never believed unsent, so it is never sent twice.
    """

    def __init__(self, db: TinyDB) -> None:
        self._table = db.table("outbox")
        self._people = db.table("unreachable")
        self._ids: dict[str, int] = {}
        self._pending: set[int] = set()
        self._threads: dict[str, list[int]] = {}
        self._unsaved: dict[int, dict[str, Any]] = {}
        self._unreachable: dict[int, Unreachable] | None = None
        self._indexed = False

    def _index(self) -> None:
        if self._indexed:
            return
        self._ids, self._pending, self._threads = {}, set(), {}
        for doc in self._table.all():
            self._note(self._unsaved.get(doc.doc_id, doc), doc.doc_id)
        self._indexed = True

    def _note(self, doc: dict[str, Any], doc_id: int) -> None:
        self._ids[doc["key"]] = doc_id
        if doc["state"] == OutboxState.PENDING:
            self._pending.add(doc_id)
        else:
            self._pending.discard(doc_id)
        if doc["thread"] and not doc["edit_of"]:
            copies = self._threads.setdefault(doc["thread"], [])
            if doc_id not in copies:
                copies.append(doc_id)

    def _items(self, doc_ids: Iterable[int]) -> list[OutboxItem]:
        found = []
        for doc_id in doc_ids:
            doc = self._unsaved.get(doc_id) or self._table.get(doc_id=doc_id)
            if doc is not None:
                found.append(_from_doc(doc, doc_id))
        return found

    def enqueue(self, item: OutboxItem) -> OutboxItem:
        """Save a new message; a disk that refuses it raises (the action that asked for it fails)."""
        self._index()
        existing = self._ids.get(item.key)
        if existing is not None:
            return self._items([existing])[0]
        doc = _to_doc(item)
        doc_id = self._table.insert(doc)
        self._note(doc, doc_id)
        self.save_unsaved()
        return replace(item, id=doc_id)

    def due(self, now: datetime) -> list[OutboxItem]:
        self._index()
        due = [i for i in self._items(self._pending) if i.next_attempt_at <= now]
        return sorted(due, key=lambda i: (i.next_attempt_at, i.id))

    def pending(self) -> list[OutboxItem]:
        self._index()
        return self._items(sorted(self._pending))

    def next_attempt(self) -> datetime | None:
        self._index()
        return min((i.next_attempt_at for i in self._items(self._pending)), default=None)

    def get(self, item_id: int) -> OutboxItem | None:
        found = self._items([item_id])
        return found[0] if found else None

    def by_key(self, key: str) -> OutboxItem | None:
        self._index()
        doc_id = self._ids.get(key)
        return self.get(doc_id) if doc_id is not None else None

    def in_thread(self, thread: str) -> list[OutboxItem]:
        """Every original copy of a thread (not the edits)."""
        self._index()
        return self._items(sorted(self._threads.get(thread, ())))

    def pending_edit(self, chat_id: int, message_id: int) -> OutboxItem | None:
        self._index()
        return next((i for i in self._items(self._pending) if i.chat_id == chat_id and i.edit_of == message_id), None)

    def prune(self, before: datetime) -> int:
        """Forget delivered (or abandoned) messages created before `before`, keeping the file small."""
        self.save_unsaved()
        if self._unsaved:
            return 0  # the disk still refuses writes: nothing is forgotten that is not yet saved
        q = Query()
        removed = self._table.remove((q.state != OutboxState.PENDING) & (q.created_at < before.isoformat()))
        self._indexed = False
        return len(removed)

    def pending_count(self) -> int:
        self._index()
        return len(self._pending)

    def save(self, item: OutboxItem) -> bool:
        """Record what happened to a message; False when the disk refused (kept in memory meanwhile)."""
        self._index()
        doc = _to_doc(item)
        self._unsaved[item.id] = doc
        self._note(doc, item.id)
        return self.save_unsaved()

    def save_unsaved(self) -> bool:
        """Write what memory knows and the disk does not; True when nothing is left unsaved."""
        for doc_id, doc in list(self._unsaved.items()):
            try:
                self._table.update(doc, doc_ids=[doc_id])
            except DISK_REFUSED as exc:
                log.warning("Outbox change for item %s not saved yet (%s); kept in memory", doc_id, type(exc).__name__)
                return False
            del self._unsaved[doc_id]
        return True

    @property
    def unsaved(self) -> int:
        return len(self._unsaved)

    # ---- people the bot cannot reach --------------------------------------------------
    def _people_index(self) -> dict[int, Unreachable]:
        if self._unreachable is None:
            self._unreachable = {
                d["chat_id"]: Unreachable(d["chat_id"], datetime.fromisoformat(d["since"]), d["gave_up"])
                for d in self._people.all()
            }
        return self._unreachable

    def unreachable(self, chat_id: int) -> Unreachable | None:
        return self._people_index().get(chat_id)

    def note_refused(self, chat_id: int, now: datetime) -> Unreachable:
        """Telegram refused a message to this chat; the spell starts at the first refusal."""
        known = self._people_index().get(chat_id)
        if known is not None:
            return known
        return self._set_unreachable(Unreachable(chat_id, now))

    def give_up_on(self, chat_id: int, now: datetime) -> bool:
        """Stop retrying this person; True the first time in a spell (the leaders are told then)."""
        known = self._people_index().get(chat_id) or Unreachable(chat_id, now)
        if known.gave_up:
            return False
        self._set_unreachable(replace(known, gave_up=True))
        return True

    def reachable(self, chat_id: int) -> bool:
        """They wrote to the bot, or a message got through: the spell is over. True if there was one."""
        if self._people_index().pop(chat_id, None) is None:
            return False
        try:
            self._people.remove(Query().chat_id == chat_id)
        except DISK_REFUSED as exc:
            log.warning("The end of chat %s's unreachable spell is not saved yet (%s)", chat_id, type(exc).__name__)
        return True

    def _set_unreachable(self, record: Unreachable) -> Unreachable:
        self._people_index()[record.chat_id] = record
        doc = {"chat_id": record.chat_id, "since": record.since.isoformat(), "gave_up": record.gave_up}
        try:
            self._people.upsert(doc, Query().chat_id == record.chat_id)
        except DISK_REFUSED as exc:
            log.warning("Chat %s's unreachable spell is not saved yet (%s)", record.chat_id, type(exc).__name__)
        return record

    def retry_now(self, chat_id: int, now: datetime) -> None:
        """Whatever waits for this chat goes out at the next send round."""
        for item in self.pending():
            if item.chat_id == chat_id and item.next_attempt_at > now:
                self.save(replace(item, next_attempt_at=now))


def _to_doc(i: OutboxItem) -> dict[str, Any]:
    return {
        "key": i.key,
        "chat_id": i.chat_id,
        "text": i.text,
        "created_at": i.created_at.isoformat(),
        "next_attempt_at": i.next_attempt_at.isoformat(),
        "buttons": [[list(b) for b in row] for row in i.buttons],
        "photo": i.photo,
        "thread": i.thread,
        "edit_of": i.edit_of,
        "state": i.state,
        "attempts": i.attempts,
        "message_id": i.message_id,
        "sent_at": i.sent_at.isoformat() if i.sent_at else None,
        "last_error": i.last_error,
        "give_up_at": i.give_up_at.isoformat() if i.give_up_at else None,
        "audience": i.audience,
        "photo_note": i.photo_note,
        "delivered_as": i.delivered_as.value if i.delivered_as else "",
        "kind": i.kind.value,
        "user_id": i.user_id,
    }


def _from_doc(d: dict[str, Any], doc_id: int) -> OutboxItem:
    return OutboxItem(
        key=d["key"],
        chat_id=d["chat_id"],
        text=d["text"],
        created_at=datetime.fromisoformat(d["created_at"]),
        next_attempt_at=datetime.fromisoformat(d["next_attempt_at"]),
        buttons=tuple(tuple((b[0], b[1]) for b in row) for row in d["buttons"]),
        photo=d["photo"],
        thread=d["thread"],
        edit_of=d["edit_of"],
        state=OutboxState(d["state"]),
        attempts=d["attempts"],
        message_id=d["message_id"],
        sent_at=datetime.fromisoformat(d["sent_at"]) if d["sent_at"] else None,
        last_error=d["last_error"],
        give_up_at=datetime.fromisoformat(d["give_up_at"]) if d.get("give_up_at") else None,
        audience=d.get("audience", ""),
        photo_note=d.get("photo_note", ""),
        delivered_as=DeliveredAs(d["delivered_as"]) if d.get("delivered_as") else None,
        kind=ItemKind(d.get("kind", ItemKind.MESSAGE.value)),
        user_id=d.get("user_id", 0),
        id=doc_id,
    )

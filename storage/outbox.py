"""Messages waiting to reach someone: saved before they are sent, so none is lost."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime

from tinydb import Query, TinyDB

Buttons = tuple[tuple[tuple[str, str], ...], ...]  # rows of (label, callback data)


@dataclass(frozen=True)
class OutboxItem:
    """One message (or edit of a sent message) for one chat.

    `key` makes enqueueing idempotent: a retried handler or a restarted job that asks
    for the same message again gets the existing item. `thread` groups every copy of
    one alert so all of them can be edited together.
    """

    key: str
    chat_id: int
    text: str
    created_at: datetime
    next_attempt_at: datetime
    buttons: Buttons = ()
    photo: str = ""  # Telegram file id or a path under the data folder; the text is its caption
    thread: str = ""
    edit_of: int = 0  # message id to edit instead of sending a new message
    state: str = "pending"  # pending, sent, failed
    attempts: int = 0
    message_id: int = 0
    sent_at: datetime | None = None
    last_error: str = ""
    give_up_at: datetime | None = None  # for messages that only matter for a while; None: retry until sent
    id: int = field(default=0, compare=False)

    @property
    def is_caption(self) -> bool:
        return bool(self.photo)


class OutboxRepository:
    """The outbox file, with in-memory indexes (key, pending, thread) so that no lookup scans a
    year of delivered messages. This process is the only writer, so the indexes stay true."""

    def __init__(self, db: TinyDB) -> None:
        self._table = db.table("outbox")
        self._ids: dict[str, int] = {}
        self._pending: set[int] = set()
        self._threads: dict[str, list[int]] = {}
        self._indexed = False

    def _index(self) -> None:
        if self._indexed:
            return
        self._ids, self._pending, self._threads = {}, set(), {}
        for doc in self._table.all():
            self._note(doc, doc.doc_id)
        self._indexed = True

    def _note(self, doc: dict, doc_id: int) -> None:
        self._ids[doc["key"]] = doc_id
        if doc["state"] == "pending":
            self._pending.add(doc_id)
        else:
            self._pending.discard(doc_id)
        if doc["thread"] and not doc["edit_of"]:
            copies = self._threads.setdefault(doc["thread"], [])
            if doc_id not in copies:
                copies.append(doc_id)

    def _items(self, doc_ids: Iterable[int]) -> list[OutboxItem]:
        docs = (self._table.get(doc_id=doc_id) for doc_id in doc_ids)
        return [_from_doc(doc) for doc in docs if doc is not None]

    def enqueue(self, item: OutboxItem) -> OutboxItem:
        self._index()
        existing = self._ids.get(item.key)
        if existing is not None:
            return self._items([existing])[0]
        doc = _to_doc(item)
        doc_id = self._table.insert(doc)
        self._note(doc, doc_id)
        return replace(item, id=doc_id)

    def due(self, now: datetime) -> list[OutboxItem]:
        self._index()
        due = [i for i in self._items(self._pending) if i.next_attempt_at <= now]
        return sorted(due, key=lambda i: (i.next_attempt_at, i.id))

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
        return next(
            (i for i in self._items(self._pending) if i.chat_id == chat_id and i.edit_of == message_id), None
        )

    def prune(self, before: datetime) -> int:
        """Forget delivered (or abandoned) messages created before `before`, keeping the file small."""
        q = Query()
        removed = self._table.remove((q.state != "pending") & (q.created_at < before.isoformat()))
        self._indexed = False
        return len(removed)

    def pending_count(self) -> int:
        self._index()
        return len(self._pending)

    def save(self, item: OutboxItem) -> None:
        self._index()
        doc = _to_doc(item)
        self._table.update(doc, doc_ids=[item.id])
        self._note(doc, item.id)


def _to_doc(i: OutboxItem) -> dict:
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
    }


def _from_doc(d: dict) -> OutboxItem:
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
        state=d["state"],
        attempts=d["attempts"],
        message_id=d["message_id"],
        sent_at=datetime.fromisoformat(d["sent_at"]) if d["sent_at"] else None,
        last_error=d["last_error"],
        give_up_at=datetime.fromisoformat(d["give_up_at"]) if d.get("give_up_at") else None,
        id=d.doc_id,
    )

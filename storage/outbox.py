"""Messages waiting to reach someone: saved before they are sent, so none is lost."""

from __future__ import annotations

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
    def __init__(self, db: TinyDB) -> None:
        self._table = db.table("outbox")
        self._ids: dict[str, int] | None = None  # key -> doc id; enqueue is on every alert's path

    def _id_of(self, key: str) -> int | None:
        if self._ids is None:
            self._ids = {doc["key"]: doc.doc_id for doc in self._table.all()}
        return self._ids.get(key)

    def enqueue(self, item: OutboxItem) -> OutboxItem:
        existing = self._id_of(item.key)
        if existing is not None:
            return _from_doc(self._table.get(doc_id=existing))
        doc_id = self._table.insert(_to_doc(item))
        assert self._ids is not None
        self._ids[item.key] = doc_id
        return replace(item, id=doc_id)

    def due(self, now: datetime) -> list[OutboxItem]:
        now_text = now.isoformat()
        q = Query()
        docs = self._table.search((q.state == "pending") & (q.next_attempt_at <= now_text))
        return sorted((_from_doc(d) for d in docs), key=lambda i: (i.next_attempt_at, i.id))

    def next_attempt(self) -> datetime | None:
        docs = self._table.search(Query().state == "pending")
        return min((datetime.fromisoformat(d["next_attempt_at"]) for d in docs), default=None)

    def get(self, item_id: int) -> OutboxItem | None:
        doc = self._table.get(doc_id=item_id)
        return _from_doc(doc) if doc else None

    def by_key(self, key: str) -> OutboxItem | None:
        doc_id = self._id_of(key)
        return _from_doc(self._table.get(doc_id=doc_id)) if doc_id is not None else None

    def in_thread(self, thread: str) -> list[OutboxItem]:
        """Every original copy of a thread (not the edits)."""
        q = Query()
        docs = self._table.search((q.thread == thread) & (q.edit_of == 0))
        return sorted((_from_doc(d) for d in docs), key=lambda i: i.id)

    def pending_edit(self, chat_id: int, message_id: int) -> OutboxItem | None:
        q = Query()
        doc = self._table.get((q.state == "pending") & (q.chat_id == chat_id) & (q.edit_of == message_id))
        return _from_doc(doc) if doc else None

    def prune(self, before: datetime) -> int:
        """Forget delivered (or abandoned) messages created before `before`, keeping the file small."""
        q = Query()
        before_text = before.isoformat()
        self._ids = None
        return len(self._table.remove((q.state != "pending") & (q.created_at < before_text)))

    def pending_count(self) -> int:
        return self._table.count(Query().state == "pending")

    def save(self, item: OutboxItem) -> None:
        self._table.update(_to_doc(item), doc_ids=[item.id])


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

"""A call waiting to reach Telegram (a message, an edit, a join-request decision), and someone
Telegram will not let the bot reach."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

Buttons = tuple[tuple[tuple[str, str], ...], ...]  # rows of (label, callback data)


class ItemKind(StrEnum):
    """Which Bot API call an outbox item makes."""

    MESSAGE = "message"  # send a message, or edit one (edit_of)
    APPROVE_JOIN = "approve_join"  # let user_id into the group chat_id (answering their join request)
    DECLINE_JOIN = "decline_join"


class JoinAnswer(StrEnum):
    """What became of a join-request decision sent to Telegram."""

    DONE = "done"
    ALREADY_HANDLED = "already handled on Telegram"  # decided by hand, withdrawn, or already a member
    RETRYING = "retrying"  # rate limited, a 5xx or no connection: sent again later
    REFUSED = "refused"  # a 400 or 403 (the bot is no longer an admin there, say): a person must do it


class DeliveredAs(StrEnum):
    """How a message with a picture went out: Telegram may refuse it as a photo, then as a file."""

    PHOTO = "photo"
    DOCUMENT = "document"
    TEXT = "text"  # the picture could not be attached: the text went with a note


class OutboxState(StrEnum):
    PENDING = "pending"  # waiting for its (next) attempt
    SENT = "sent"
    FAILED = "failed"  # given up on
    CANCELLED = "cancelled"  # the recipient may no longer see it


@dataclass(frozen=True)
class OutboxItem:
    """One message (or edit of a sent message) for one chat.

    `key` makes enqueueing idempotent: a retried handler or a restarted job that asks
    for the same message again gets the existing item. `thread` groups every copy of
    one alert so all of them can be edited together. `audience` is what the recipient
    must still be allowed when it is sent or edited (see bot.shell.delivery.recipients.audience_for).
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
    state: OutboxState = OutboxState.PENDING
    attempts: int = 0
    message_id: int = 0
    sent_at: datetime | None = None
    last_error: str = ""
    give_up_at: datetime | None = None  # for messages that only matter for a while; None: retry until sent
    audience: str = ""  # "": anyone (not staff when queued); "role:slt", "perm:ACT_ON_ALERTS": staff only
    photo_note: str = ""  # added to the text when the picture cannot be attached
    delivered_as: DeliveredAs | None = None  # None: not sent yet, or no picture
    kind: ItemKind = ItemKind.MESSAGE
    user_id: int = 0  # for a join-request decision: the requester (chat_id is the group)
    id: int = field(default=0, compare=False)

    @property
    def is_caption(self) -> bool:
        return bool(self.photo) and self.delivered_as is not DeliveredAs.TEXT


@dataclass(frozen=True)
class Unreachable:
    """Someone Telegram will not let the bot write to (never opened the bot, or blocked it)."""

    chat_id: int
    since: datetime  # the first refusal of this spell
    gave_up: bool = False  # messages to them are no longer retried; the leaders were told

"""Records of what happened: messages the bot sent, calls refused, faults injected.

Tests read these to assert what a user would see; ``FaultPlan`` is how a test asks the
emulator to misbehave.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

Params = dict[str, Any]
FAULT_KINDS = frozenset({"429", "500", "drop", "slow"})


@dataclass(frozen=True)
class Upload:
    """A file part the bot uploaded in a multipart request."""

    filename: str
    content_type: str
    data: bytes = field(repr=False)


@dataclass
class SentMessage:
    """A message the bot sent, as it stands now (earlier versions in ``history``)."""

    chat_id: int
    message_id: int
    date: int
    text: str | None = None
    caption: str | None = None
    parse_mode: str | None = None
    reply_markup: dict[str, Any] | None = None
    photo: str | None = None
    document: dict[str, Any] | None = None
    plain: str = ""
    entities: list[dict[str, Any]] = field(default_factory=list)
    history: list[SentMessage] = field(default_factory=list, repr=False)
    deleted: bool = False
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def buttons(self) -> list[tuple[str, str | None]]:
        """Inline buttons flattened row by row: (text, callback_data or url)."""
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        flat = [button for row in rows for button in row]
        return [(b.get("text", ""), b.get("callback_data", b.get("url"))) for b in flat]


@dataclass(frozen=True)
class Refusal:
    """A call Telegram would have refused; ``expected`` for 403s and photo refusals the bot must live with."""

    method: str
    params: Params
    error_code: int
    description: str
    expected: bool


@dataclass(frozen=True)
class InjectedFault:
    """A failure the emulator caused on purpose (FaultPlan or fail_next)."""

    method: str
    kind: str
    params: Params


@dataclass
class FaultPlan:
    """Random faults on bot calls: ``rate`` of matching calls fail with one of ``kinds``.

    "drop" closes the connection without an answer; with ``drop_after_action`` the call
    took effect first (the nasty case: the message went out but the bot never learnt it).
    "slow" waits ``slow_seconds`` before acting, so a client that gives up earlier sees a
    timeout and the call never happens.
    """

    rate: float = 0.2
    kinds: tuple[str, ...] = ("429", "500", "drop", "slow")
    seed: int | None = None
    methods: set[str] | None = None
    slow_seconds: float = 2.0
    drop_after_action: bool = True
    include_get_updates: bool = False
    retry_after: int = 1
    _rng: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        unknown = set(self.kinds) - FAULT_KINDS
        if unknown:
            raise ValueError(f"unknown fault kinds: {sorted(unknown)}")
        self._rng = random.Random(self.seed)

    def pick(self, method: str) -> str | None:
        """The fault for this call, if the dice say so."""
        if method == "getUpdates" and not self.include_get_updates:
            return None
        if self.methods is not None and method not in self.methods:
            return None
        if self._rng.random() >= self.rate:
            return None
        return self._rng.choice(self.kinds)


# --- what the emulator keeps for itself -----------------------------------------------


@dataclass
class TargetedFailure:
    """The next ``remaining`` calls of ``method`` fail with this error (``fail_next``)."""

    method: str
    error_code: int
    description: str
    remaining: int
    retry_after: int | None


@dataclass
class QueuedUpdate:
    """An update waiting for getUpdates; ``returned`` once a getUpdates answer carried it."""

    update_id: int
    kind: str
    payload: dict[str, Any]
    returned: bool = False


@dataclass(frozen=True)
class FileMeta:
    """What getFile says about a stored file."""

    kind: str  # "photo" or "document"
    unique_id: str
    path: str
    file_name: str | None = None
    mime_type: str | None = None


@dataclass
class Group:
    """A group the bot is in, and who has joined it."""

    chat: dict[str, Any]
    bot_is_admin: bool
    members: set[int] = field(default_factory=set)

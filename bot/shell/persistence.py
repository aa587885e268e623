"""Conversations survive a restart: PTB's persistence interface over the data folder's atomic storage.

A /log with three screenshots, an /apply half filled in, a /check waiting for names, a ban
question, a leader's typed reason: their conversation states and each person's flow state are written to
`conversations.json` (owner-only, fsynced, renamed into place) after every update that
changed them, so a restart or a deploy carries on where each person was.

Only what a flow needs is kept: conversation states and per-user state (user_data). Not
bot_data (the runtime is rebuilt at start-up), not chat_data, not callback data. Values are
written as JSON with a small whitelist codec (bot.shell.codec): records (dataclasses) and enums
are read back only if their type was registered, so the file can never make the bot build anything else.
Screenshots are files from the moment they arrive; the state holds only their references.

A damaged file does not stop the bot: a school would rather have the bot answer, with every
unfinished flow ended, than have it refuse to start over half-typed answers. The file is kept
beside as `conversations.json.damaged` for inspection, and one log line names it.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import os
from collections.abc import Callable, Coroutine, Iterable, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from telegram import Update
from telegram.ext import BasePersistence, ConversationHandler, PersistenceInput

from bot.clock import Clock
from bot.shell.codec import Codec
from storage.atomic import DiskHealth, atomic_write_bytes

log = logging.getLogger(__name__)

FILE_NAME = "conversations.json"
VERSION = 1
ConversationKey = tuple[int | str, ...]
ConversationDict = dict[ConversationKey, object]
Step = Callable[[Update, Any], Coroutine[Any, Any, object]]
TOO_LATE = "Too late: the time ran out, and this has ended."  # a press on a step whose flow timed out
CDCData = tuple[list[tuple[str, float, dict[str, Any]]], dict[str, str]]  # PTB's callback-data cache, unused


class FlowStore(BasePersistence[Any, dict[Any, Any], dict[Any, Any]]):
    """Conversation states and per-user flow state in `conversations.json`.

    PTB hands every change to the update_* methods; they only change the copy in memory, and
    `save()` writes the whole file once (DurableApplication calls it after each update), so a
    /log step costs one atomic write, not one per piece of state. A conversation left longer
    than its flow's timeout while the bot was down is ended at start-up as its lost timer would
    have ended it (DurableApplication.end_lapsed_flows). `transient` names per-user values that are not worth a write (an import's
    parsed register: the file is simply sent again).
    """

    def __init__(
        self,
        data_dir: Path,
        clock: Clock,
        codec: Codec,
        user_state: type[dict[str, Any]] = dict,
        timeouts: Mapping[str, timedelta] | None = None,
        transient: Iterable[str] = (),
        health: DiskHealth | None = None,
    ) -> None:
        super().__init__(
            store_data=PersistenceInput(bot_data=False, chat_data=False, user_data=True, callback_data=False),
            update_interval=5,
        )
        self.path = data_dir / FILE_NAME
        self.clock = clock
        self.codec = codec
        self.user_state = user_state
        self.timeouts: dict[str, timedelta] = dict(timeouts or {})
        self.transient = frozenset(transient)
        self.health = health or DiskHealth()
        self._conversations: dict[str, dict[ConversationKey, tuple[object, datetime]]] = {}
        self._users: dict[int, Any] = {}
        self.flows: dict[str, tuple[ConversationHandler[Any], list[Step]]] = {}  # by name, with their timeout steps
        # Conversations read from the file with no step since: the only ones without PTB's own timer.
        self._restored: set[tuple[str, ConversationKey]] = set()
        self._dirty = False
        self._load()

    # ---- reading the file once, at start-up ------------------------------------------------------

    def _load(self) -> None:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return
        except OSError as exc:  # a folder in its place, unreadable: set aside like a damaged file
            self._set_aside(exc)
            return
        try:
            document = orjson.loads(raw)
            if not isinstance(document, dict) or document.get("version") != VERSION:
                raise ValueError("not in the shape the bot writes")
            conversations = {
                str(name): dict(self._conversation(entry) for entry in entries)
                for name, entries in document["conversations"].items()
            }
            users, unread = self._users_in(document["users"])
        except Exception as exc:  # any damage at all: start with the flows ended, never refuse to start
            self._set_aside(exc)
            return
        if unread:  # only their flows end; the file as it was is kept for inspection
            with contextlib.suppress(OSError):
                atomic_write_bytes(self.path.with_name(self.path.name + ".damaged"), raw)
            for kept in conversations.values():
                for key in [key for key in kept if key[-1] in unread]:
                    del kept[key]
            self._dirty = True
        self._conversations = conversations
        self._users = users
        self._restored = {(name, key) for name, kept in conversations.items() for key in kept}

    def _conversation(self, entry: dict[str, Any]) -> tuple[ConversationKey, tuple[object, datetime]]:
        """One kept conversation, checked as PTB will use it: a key of ids, a state name, a time with its zone.

        Anything else would fail later, where it cannot be set aside: a zoneless time stops the
        start-up (it cannot be compared with now), a list as a state fails every message of its person.
        """
        key = tuple(entry["key"])
        state = self.codec.decode(entry["state"])
        at = datetime.fromisoformat(entry["at"])
        if not key or not all(type(part) is int for part in key):
            raise ValueError("a conversation's key is not chat and user ids")
        if not isinstance(state, str | int):
            raise ValueError(f"a conversation's state is a {type(state).__name__}")
        if at.utcoffset() is None:
            raise ValueError("a conversation's time has no zone")
        return key, (state, at)

    def _users_in(self, kept: dict[str, Any]) -> tuple[dict[int, Any], set[int]]:
        """Each person's state, read on its own: one that no longer reads (a record changed by a deploy,
        a hand-edited line) ends that person's unfinished flows, not everyone's."""
        users: dict[int, Any] = {}
        unread: set[int] = set()
        for user_id, state in kept.items():
            try:
                users[int(user_id)] = self._user(self.codec.decode(state))
            except Exception as exc:
                unread.add(int(user_id))
                log.warning(  # the type alone: the message could quote the person's state
                    "The unfinished flows of user %s in %s no longer read (%s); they were ended",
                    user_id,
                    self.path.name,
                    type(exc).__name__,
                )
        return users, unread

    def _user(self, state: object) -> Any:
        if not isinstance(state, dict):
            raise ValueError(f"a person's state is a {type(state).__name__}")
        return self.user_state(state)

    def _set_aside(self, exc: Exception) -> None:
        aside = self.path.with_name(self.path.name + ".damaged")
        try:
            os.replace(self.path, aside)
        except OSError:
            aside = self.path
        log.warning(
            "%s is damaged (%s): unfinished flows were ended; the file is kept as %s",
            self.path,
            type(exc).__name__,
            aside,
        )

    # ---- what PTB asks for at initialize() -------------------------------------------------------

    async def get_conversations(self, name: str) -> ConversationDict:
        """Every kept conversation, overdue ones too: DurableApplication.start() ends those as their
        timeout would have (the person is told, a draft's screenshots go), rather than forgetting them."""
        return {key: state for key, (state, _) in self._conversations.setdefault(name, {}).items()}

    def lapsed(self) -> list[tuple[str, ConversationKey, datetime]]:
        """Conversations read from the file, untouched since, whose flow's timeout has passed."""
        return [
            (name, key, self._conversations[name][key][1])
            for name, key in sorted(self._restored, key=repr)
            if self.overdue(name, key)
        ]

    def next_deadline(self) -> datetime | None:
        """When the first of them not overdue yet will be (a step since gave it PTB's own timer)."""
        now = self.clock.now()
        deadlines = [
            self._conversations[name][key][1] + self.timeouts[name]
            for name, key in self._restored
            if name in self.timeouts and key in self._conversations.get(name, {})
        ]
        return min((d for d in deadlines if d >= now), default=None)

    def forget_unknown_states(self, name: str, states: Iterable[object]) -> None:
        """Drop the kept conversations of `name` at a state the flow no longer has (renamed by a deploy).

        PTB would keep such a conversation for ever: no step of it matches, so it never ends.
        """
        known = set(states)
        kept = self._conversations.get(name, {})
        for key in [key for key, (state, _) in kept.items() if state not in known]:
            del kept[key]
            self._dirty = True
            log.warning("A kept %s conversation was at a step the bot no longer has; it was ended", name)

    def overdue(self, name: str, key: ConversationKey) -> bool:
        """Whether a conversation's last step is older than its flow's timeout.

        PTB's timeout timer lives in the JobQueue and dies with the process, so a conversation
        resumed after a restart has none: its next step is where the timeout is noticed.
        """
        timeout = self.timeouts.get(name)
        kept = self._conversations.get(name, {}).get(key)
        return timeout is not None and kept is not None and self.clock.now() - kept[1] > timeout

    def touch(self, name: str, key: ConversationKey) -> None:
        """A step was taken (even one that stays on the same state): the timeout counts from now."""
        kept = self._conversations.get(name, {})
        self._restored.discard((name, key))
        if key in kept:
            kept[key] = (kept[key][0], self.clock.now())
            self._dirty = True

    async def get_user_data(self) -> dict[int, Any]:
        return copy.deepcopy(self._users)

    async def get_chat_data(self) -> dict[int, dict[Any, Any]]:
        return {}

    async def get_bot_data(self) -> dict[Any, Any]:
        return {}

    async def get_callback_data(self) -> CDCData | None:
        return None

    # ---- what PTB hands over after updates -------------------------------------------------------

    async def update_conversation(self, name: str, key: ConversationKey, new_state: object | None) -> None:
        kept = self._conversations.setdefault(name, {})
        self._restored.discard((name, key))  # a step was taken: PTB's own timer runs for it again
        if new_state is None:
            if kept.pop(key, None) is not None:
                self._dirty = True
            return
        kept[key] = (new_state, self.clock.now())
        self._dirty = True

    async def update_user_data(self, user_id: int, data: Any) -> None:
        if self._users.get(user_id) != data:
            self._users[user_id] = data
            self._dirty = True

    async def drop_user_data(self, user_id: int) -> None:
        if self._users.pop(user_id, None) is not None:
            self._dirty = True

    async def refresh_user_data(self, user_id: int, user_data: Any) -> None:
        """Memory is the truth (one process per data folder): nothing to read back."""

    async def update_chat_data(self, chat_id: int, data: dict[Any, Any]) -> None:
        """chat_data is not kept."""

    async def drop_chat_data(self, chat_id: int) -> None:
        """chat_data is not kept."""

    async def refresh_chat_data(self, chat_id: int, chat_data: dict[Any, Any]) -> None:
        """chat_data is not kept."""

    async def update_bot_data(self, data: dict[Any, Any]) -> None:
        """bot_data holds the runtime, rebuilt at every start: not kept."""

    async def refresh_bot_data(self, bot_data: dict[Any, Any]) -> None:
        """bot_data is not kept."""

    async def update_callback_data(self, data: CDCData) -> None:
        """Callback data is versioned text (bot.shell.callbacks), not PTB's cache: not kept."""

    async def flush(self) -> None:
        self.save()

    # ---- writing ------------------------------------------------------------------------------

    def save(self) -> None:
        """Write the file if anything changed; a disk that refuses keeps it waiting for the next update.

        A refusal is counted in the data folder's DiskHealth, so the leaders' disk alarm rings
        for it as for any other write the disk refuses.
        """
        if not self._dirty:
            return
        try:
            payload = orjson.dumps(self._document())
            atomic_write_bytes(self.path, payload)
        except OSError as exc:
            self.health.failed(exc)
            log.warning("Could not save %s (%s); unfinished flows are kept in memory", self.path, exc.strerror)
            return
        except (TypeError, ValueError) as exc:  # a conversation's state itself (not a person's): nothing written
            log.error("Could not save %s: %s", self.path, exc)
            return
        self._dirty = False

    def _kept(self, state: dict[str, Any]) -> dict[str, Any]:
        return {key: value for key, value in state.items() if key not in self.transient}

    def _document(self) -> dict[str, Any]:
        """The file's content. A person whose state holds a value the codec cannot keep loses only
        their own unfinished flows at a restart (their line and conversations are left out, and one
        error names the value's key and type): everyone else's are still written."""
        users: dict[str, Any] = {}
        unkept: set[int] = set()
        for user_id, state in self._users.items():
            kept = self._kept(state)
            if not kept:  # a person with nothing under way needs no line
                continue
            try:
                users[str(user_id)] = orjson.Fragment(orjson.dumps(self.codec.encode(kept)))
            except (TypeError, ValueError) as exc:
                unkept.add(user_id)
                log.error("A flow's state of user %s cannot be kept on disk (%s): %s", user_id, self._culprit(kept), exc)
        return {
            "version": VERSION,
            "conversations": {
                name: [
                    {"key": list(key), "state": self.codec.encode(state), "at": at.isoformat()}
                    for key, (state, at) in kept.items()
                    if not unkept.intersection(key[-1:])
                ]
                for name, kept in self._conversations.items()
                if kept
            },
            "users": users,
        }

    def _culprit(self, state: dict[str, Any]) -> str:
        """Which key of a person's state the codec refuses, and its type (never the value: it may name a pupil)."""
        for key, value in state.items():
            try:
                orjson.dumps(self.codec.encode(value))
            except (TypeError, ValueError):
                return f"{key!r}: {type(value).__name__}"
        return "a key"

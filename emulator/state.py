"""The emulator's state: who exists, the update queue, chats, messages and files.

Every other part of the emulator (the HTTP server, the users, the Bot API methods) works
on this one state, as Telegram's servers and its users' phones share one world.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from emulator.records import (
    FaultPlan,
    FileMeta,
    Group,
    InjectedFault,
    Params,
    QueuedUpdate,
    Refusal,
    SentMessage,
    TargetedFailure,
)
from emulator.validation import Refused, bad, load_spec

if TYPE_CHECKING:
    from aiohttp import web


class EmulatorState:
    """What Telegram knows: users, groups, messages, files and updates not yet fetched."""

    def __init__(
        self,
        token: str = "123456789:TEST-token-for-the-emulator",
        *,
        bot_username: str = "school_assistant_bot",
        bot_name: str = "School Assistant",
        api_spec: Path | None = None,
        port: int = 0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.token = token
        self.bot_user: dict[str, Any] = {
            "id": int(token.split(":", 1)[0]),
            "is_bot": True,
            "first_name": bot_name,
            "username": bot_username,
        }
        self.clock = clock
        self.port = port
        self.calls: list[tuple[str, Params]] = []
        self.refusals: list[Refusal] = []
        self.injected: list[InjectedFault] = []
        self.all_messages: list[SentMessage] = []
        self.files: dict[str, bytes] = {}
        self.downloaded: list[str] = []
        self.join_requests: dict[tuple[int, int], str] = {}
        self.faults: FaultPlan | None = None
        self.on_call: list[Callable[[str], None]] = []
        self._spec = load_spec(api_spec)
        self._users: dict[int, dict[str, Any]] = {}
        self._started: set[int] = set()
        self._blocked: set[int] = set()
        self._groups: dict[int, Group] = {}
        self._messages: dict[tuple[int, int], dict[str, Any]] = {}
        self._deleted: set[tuple[int, int]] = set()
        self._sent: dict[tuple[int, int], SentMessage] = {}
        self._last_message_id: dict[int, int] = {}
        self._file_meta: dict[str, FileMeta] = {}
        self._file_paths: dict[str, str] = {}
        self._file_counter = 0
        self._queries: dict[str, dict[str, Any]] = {}
        self._answers: dict[str, dict[str, Any]] = {}
        self._commands: dict[tuple[str, int | None, int | None, str], list[dict[str, str]]] = {}
        self._targeted: list[TargetedFailure] = []
        self._queue: list[QueuedUpdate] = []
        self._next_update_id = 100_000
        self._allowed: frozenset[str] | None = None
        self._poll_generation = 0
        self._busy = 0
        self._last_activity = 0.0
        self._changed = asyncio.Event()
        self._stopping = False
        self._runner: web.AppRunner | None = None
        # The Bot API method table, from every part mixed in (BotApiMethods names them).
        self._methods = self.bot_api_methods()
        self._canonical = {name.lower(): name for name in [*self._methods, *(self._spec or {})]}

    def bot_api_methods(self) -> dict[str, Callable[[Params], Any]]:
        """Bot API method name -> the handler that answers it: none in the bare state."""
        return {}

    # --- who exists -----------------------------------------------------------------------

    def add_user(
        self,
        user_id: int,
        first_name: str,
        last_name: str | None = None,
        username: str | None = None,
        started: bool = True,
    ) -> dict[str, Any]:
        """Register a Telegram user; ``started`` means they have opened a chat with the bot."""
        user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
        if last_name:
            user["last_name"] = last_name
        if username:
            user["username"] = username
        user["language_code"] = "en"
        self._users[user_id] = user
        if started:
            self._started.add(user_id)
        return user

    def add_group(self, chat_id: int, title: str, bot_is_admin: bool = True) -> dict[str, Any]:
        """Register a group the bot is in (ids below -10**12 are supergroups, as on Telegram)."""
        kind = "supergroup" if chat_id < -(10**12) else "group"
        chat = {"id": chat_id, "type": kind, "title": title}
        self._groups[chat_id] = Group(chat, bot_is_admin)
        return chat

    def user(self, user_id: int) -> dict[str, Any]:
        """The user's Telegram record, registering unknown ids with a generated name."""
        return self._users.get(user_id) or self.add_user(user_id, f"User{user_id}", started=False)

    # --- update queue -----------------------------------------------------------------------

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def _wait_change(self, timeout: float) -> None:
        event = self._changed
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout)

    def _touch(self) -> None:
        self._last_activity = asyncio.get_running_loop().time()
        self._notify()

    def _enqueue(self, kind: str, payload: dict[str, Any]) -> None:
        self._next_update_id += 1
        self._queue.append(QueuedUpdate(self._next_update_id, kind, payload))
        self._notify()

    def _note_returned(self, updates: list[dict[str, Any]]) -> None:
        ids = {update["update_id"] for update in updates}
        for queued in self._queue:
            queued.returned = queued.returned or queued.update_id in ids
        self._touch()

    async def wait_fetched(self, timeout: float = 5.0) -> None:
        """Wait until getUpdates has returned every update enqueued so far."""
        await self._wait_until(lambda: all(update.returned for update in self._queue), timeout, "fetch its updates")

    async def wait_confirmed(self, timeout: float = 5.0) -> None:
        """Wait until a later getUpdates offset confirmed every update enqueued so far:
        PTB has then put them in its update queue (fetched alone does not promise that)."""
        last = self._next_update_id
        await self._wait_until(
            lambda: all(update.update_id > last for update in self._queue),
            timeout,
            "confirm its updates",
        )

    async def _wait_until(self, done: Callable[[], bool], timeout: float, what: str) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not done():
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"the bot did not {what} within {timeout}s")
            await self._wait_change(remaining)

    async def wait_quiet(self, ms: float = 30, timeout: float = 5.0) -> None:
        """Wait until every update is fetched, no call is in flight and none came for ``ms``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            now = loop.time()
            wait: float | None = None
            if self._busy == 0 and all(update.returned for update in self._queue):
                wait = ms / 1000 - (now - self._last_activity)
                if wait <= 0:
                    return
            if now >= deadline:
                raise TimeoutError(f"the bot did not go quiet within {timeout}s")
            await self._wait_change(deadline - now if wait is None else min(wait, deadline - now))

    # --- chats and files ----------------------------------------------------------------------

    def _private_chat(self, user_id: int) -> dict[str, Any]:
        user = self.user(user_id)
        return {"id": user_id, "type": "private"} | {
            key: user[key] for key in ("first_name", "last_name", "username") if key in user
        }

    def _chat(self, value: Any) -> dict[str, Any]:
        """The chat a call names, refused like Telegram when the bot cannot reach it."""
        try:
            chat_id = int(value)
        except (TypeError, ValueError):
            raise bad("chat not found") from None
        if chat_id > 0:
            if chat_id in self._blocked:
                raise Refused(403, "Forbidden: bot was blocked by the user")
            if chat_id not in self._started:
                raise Refused(403, "Forbidden: bot can't initiate conversation with a user")
            return self._private_chat(chat_id)
        if chat_id not in self._groups:
            raise bad("chat not found")
        return self._groups[chat_id].chat

    def _next_message_id(self, chat_id: int) -> int:
        self._last_message_id[chat_id] = self._last_message_id.get(chat_id, 0) + 1
        return self._last_message_id[chat_id]

    def _membership_change(self, user_id: int, old: str, new: str) -> dict[str, Any]:
        def member(status: str) -> dict[str, Any]:
            return {"user": self.bot_user, "status": status} | ({"until_date": 0} if status == "kicked" else {})

        return {
            "chat": self._private_chat(user_id),
            "from": self.user(user_id),
            "date": int(self.clock()),
            "old_chat_member": member(old),
            "new_chat_member": member(new),
        }

    def _store_file(self, data: bytes, kind: str, extension: str, **meta: str) -> dict[str, Any]:
        self._file_counter += 1
        prefix = "AgACAgQAAxkBAAI" if kind == "photo" else "BQACAgQAAxkBAAI"
        file_id = f"{prefix}{self._file_counter:06d}"
        folder = "photos" if kind == "photo" else "documents"
        info = FileMeta(kind, f"AQAD{self._file_counter:06d}", f"{folder}/file_{self._file_counter}{extension}", **meta)
        self.files[file_id] = data
        self._file_meta[file_id] = info
        self._file_paths[info.path] = file_id
        return {"file_id": file_id, "file_unique_id": info.unique_id, "file_size": len(data)}

    def _photo_sizes(self, data: bytes) -> list[dict[str, Any]]:
        """Telegram keeps several sizes of a photo; all download the same bytes here."""
        return [self._store_file(data, "photo", ".jpg") | {"width": width, "height": width * 3 // 4} for width in (90, 320, 1280)]

    def _document(self, data: bytes, file_name: str, mime_type: str) -> dict[str, Any]:
        extension = Path(file_name).suffix
        stored = self._store_file(data, "document", extension, file_name=file_name, mime_type=mime_type)
        return stored | {"file_name": file_name, "mime_type": mime_type}

"""Acting as users: what a person does on their phone, turned into updates for the bot.

Tests and the demo call these as plain Python (``send_text``, ``press``,
``join_request``...); the bot then fetches the updates with getUpdates as from Telegram.
"""

from __future__ import annotations

import re
from typing import Any

from emulator.limits import utf16_len
from emulator.records import SentMessage
from emulator.state import EmulatorState

_BOT_COMMAND = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?")


def _command_entities(text: str | None) -> list[dict[str, Any]]:
    match = _BOT_COMMAND.match(text or "")
    if match is None:
        return []
    return [{"type": "bot_command", "offset": 0, "length": utf16_len(match.group())}]


def _caption(caption: str | None) -> dict[str, Any]:
    """A user's caption as Telegram delivers it, a leading /command marked as one."""
    if caption is None:
        return {}
    entities = _command_entities(caption)
    return {"caption": caption} | ({"caption_entities": entities} if entities else {})


class ActingAsUsers(EmulatorState):
    """The users' side: messages, photos, files, button presses, join requests, blocking."""

    def block(self, user_id: int) -> None:
        """The user blocks the bot: sends are refused and the bot hears my_chat_member."""
        self._blocked.add(user_id)
        self._enqueue("my_chat_member", self._membership_change(user_id, "member", "kicked"))

    def send_text(
        self,
        user_id: int,
        text: str,
        chat_id: int | None = None,
        reply_to: int | SentMessage | None = None,
        forward_origin: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The user sends text (a leading /command gets its bot_command entity)."""
        content: dict[str, Any] = {"text": text}
        if entities := _command_entities(text):
            content["entities"] = entities
        if reply_to is not None:
            reply_id = reply_to.message_id if isinstance(reply_to, SentMessage) else reply_to
            content["reply_to_message"] = self._messages[(chat_id or user_id, reply_id)]
        return self._user_message(user_id, chat_id, content, forward_origin)

    def send_photo(
        self,
        user_id: int,
        data: bytes | None = None,
        caption: str | None = None,
        chat_id: int | None = None,
        forward_origin: dict[str, Any] | None = None,
        media_group_id: str | None = None,
    ) -> dict[str, Any]:
        """The user sends a photo (downloadable via getFile); ``forward_origin`` makes it a
        forward, e.g. {"type": "hidden_user", "sender_user_name": "Mum of X"} or
        {"type": "user", "sender_user": 42} (date defaults to a minute ago)."""
        self._file_counter += 1
        data = data if data is not None else b"\xff\xd8\xff\xe0photo%d\xff\xd9" % self._file_counter
        content: dict[str, Any] = {"photo": self._photo_sizes(data)} | _caption(caption)
        if media_group_id is not None:
            content["media_group_id"] = media_group_id
        return self._user_message(user_id, chat_id, content, forward_origin)

    def send_document(
        self,
        user_id: int,
        data: bytes,
        file_name: str,
        mime_type: str,
        caption: str | None = None,
        chat_id: int | None = None,
    ) -> dict[str, Any]:
        """The user sends a file (a CSV export, a PDF form...)."""
        document = self._document(data, file_name, mime_type)
        return self._user_message(user_id, chat_id, {"document": document} | _caption(caption), None)

    def press(
        self,
        user_id: int,
        message: SentMessage,
        button: str | int | None = None,
        data: str | None = None,
    ) -> str:
        """The user taps an inline button (by text or flattened index), or sends forged
        ``data`` for the message; returns the callback query id."""
        if message.deleted:
            raise ValueError(f"message {message.message_id} was deleted")
        if data is None:
            rows = (message.reply_markup or {}).get("inline_keyboard", [])
            flat = [b for row in rows for b in row]
            if isinstance(button, int):
                chosen = flat[button]
            else:
                chosen = next((b for b in flat if b["text"] == button), None)
                if chosen is None:
                    raise LookupError(f"no button {button!r} in {[b['text'] for b in flat]}")
            if "callback_data" not in chosen:
                raise ValueError(f"button {chosen['text']!r} has no callback data")
            data = chosen["callback_data"]
        query_id = str(4_000_000_000_000_000_000 + len(self._queries) + 1)
        query = {
            "id": query_id,
            "from": self.user(user_id),
            "message": message.raw,
            "chat_instance": str(abs(message.chat_id) * 7919 + 1),
            "data": data,
        }
        self._queries[query_id] = query
        if message.chat_id == user_id:
            self._started.add(user_id)
        self._enqueue("callback_query", query)
        return query_id

    def join_request(self, user_id: int, chat_id: int) -> dict[str, Any]:
        """The user asks to join a group; Telegram lets the bot message them after this."""
        group = self._groups[chat_id]
        request = {
            "chat": group.chat,
            "from": self.user(user_id),
            "user_chat_id": user_id,
            "date": int(self.clock()),
        }
        self.join_requests[(chat_id, user_id)] = "pending"
        self._started.add(user_id)
        self._enqueue("chat_join_request", request)
        return request

    def callback_answer(self, query_id: str) -> dict[str, Any] | None:
        """What the bot answered to a button press (text, show_alert...), if it did."""
        return self._answers.get(query_id)

    def _user_message(
        self,
        user_id: int,
        chat_id: int | None,
        content: dict[str, Any],
        forward_origin: dict[str, Any] | None,
    ) -> dict[str, Any]:
        user = self.user(user_id)
        if chat_id is None or chat_id == user_id:
            chat = self._private_chat(user_id)
            if user_id in self._blocked:  # writing to the bot again unblocks it
                self._blocked.discard(user_id)
                unblocked = self._membership_change(user_id, "kicked", "member")
                self._enqueue("my_chat_member", unblocked)
            self._started.add(user_id)
        else:
            group = self._groups[chat_id]
            group.members.add(user_id)
            chat = group.chat
        message: dict[str, Any] = {
            "message_id": self._next_message_id(chat["id"]),
            "from": user,
            "chat": chat,
            "date": int(self.clock()),
        }
        if forward_origin is not None:
            origin = {"date": int(self.clock()) - 60} | forward_origin
            if isinstance(origin.get("sender_user"), int):
                origin["sender_user"] = self.user(origin["sender_user"])
            message["forward_origin"] = origin
        message |= content
        self._messages[(chat["id"], message["message_id"])] = message
        self._enqueue("message", message)
        return message

"""The emulator itself: the HTTP server, the users and the Bot API methods over one state."""

from __future__ import annotations

from typing import Any

from emulator.methods import BotApiMethods
from emulator.records import Refusal, SentMessage, TargetedFailure
from emulator.server import HttpServer
from emulator.users import ActingAsUsers


class BotApiEmulator(HttpServer, ActingAsUsers, BotApiMethods):
    """A Telegram Bot API server on 127.0.0.1 plus the users who talk to the bot."""

    # --- reading what the bot did -----------------------------------------------------------

    def messages_to(self, chat_id: int) -> list[SentMessage]:
        return [m for m in self.all_messages if m.chat_id == chat_id]

    def last_to(self, chat_id: int) -> SentMessage | None:
        sent = self.messages_to(chat_id)
        return sent[-1] if sent else None

    def take_updates(self) -> list[dict[str, Any]]:
        """Hand over the queued updates directly (no getUpdates), for driving an Application in-process."""
        taken = [{"update_id": u.update_id, u.kind: u.payload} for u in self._queue]
        self._queue = []
        return taken

    def mark(self) -> int:
        """A point in the bot's output; ``since(mark)`` returns what it sent after it."""
        return len(self.all_messages)

    def since(self, mark: int, chat_id: int | None = None) -> list[SentMessage]:
        return [m for m in self.all_messages[mark:] if chat_id is None or m.chat_id == chat_id]

    def commands_for(self, chat_id: int) -> list[dict[str, str]]:
        """The command menu the chat sees: its own scope, else the chat-type scope, else default."""
        chat_type = "all_private_chats" if chat_id > 0 else "all_group_chats"
        for key in (("chat", chat_id, None, ""), (chat_type, None, None, ""), ("default", None, None, "")):
            if key in self._commands:
                return self._commands[key]
        return []

    def unexpected_refusals(self) -> list[Refusal]:
        """Refusals the bot should never have provoked (not 403s; injected faults are apart)."""
        return [r for r in self.refusals if not r.expected]

    def fail_next(
        self,
        method: str,
        error_code: int,
        description: str,
        count: int = 1,
        retry_after: int | None = None,
    ) -> None:
        """Make the next ``count`` calls of ``method`` fail with this error before acting."""
        self._targeted.append(TargetedFailure(method, error_code, description, count, retry_after))

"""The other Bot API methods: updates, commands, callback answers, files, chats, join requests.

``BotApiMethods.bot_api_methods`` is the table of every method the emulator answers;
any other method is refused as Telegram refuses an unknown one.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from typing import Any

from emulator.limits import QUERY_TOO_OLD
from emulator.messages import MessageMethods
from emulator.records import Params
from emulator.validation import Refused, as_int, bad, need

# Telegram's default when allowed_updates was never set: everything but these.
_OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_COMMAND_SCOPES = frozenset(
    {
        "default",
        "all_private_chats",
        "all_group_chats",
        "all_chat_administrators",
        "chat",
        "chat_administrators",
        "chat_member",
    }
)
_COMMAND_NAME = re.compile(r"[a-z0-9_]{1,32}")


class BotApiMethods(MessageMethods):
    """Every Bot API method the emulator answers, by name."""

    def bot_api_methods(self) -> dict[str, Callable[[Params], Any]]:
        """Bot API method name -> the handler that answers it."""
        return {
            "getMe": lambda p: (
                self.bot_user | {"can_join_groups": True, "can_read_all_group_messages": False, "supports_inline_queries": False}
            ),
            "getUpdates": self._get_updates,
            "deleteWebhook": self._delete_webhook,
            "close": lambda p: True,
            "logOut": lambda p: True,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": lambda p: self._commands.get(self._scope_key(p), []),
            "deleteMyCommands": self._delete_my_commands,
            "sendMessage": self._send_message,
            "sendPhoto": lambda p: self._send_media(p, "photo"),
            "sendDocument": lambda p: self._send_media(p, "document"),
            "editMessageText": self._edit_text,
            "editMessageCaption": self._edit_caption,
            "editMessageReplyMarkup": self._edit_reply_markup,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_callback_query,
            "getFile": self._get_file,
            "approveChatJoinRequest": lambda p: self._decide_join_request(p, "approved"),
            "declineChatJoinRequest": lambda p: self._decide_join_request(p, "declined"),
            "getChat": self._get_chat,
            "getChatMember": self._get_chat_member,
            "sendChatAction": self._send_chat_action,
        }

    async def _get_updates(self, params: Params) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        timeout = max(float(params.get("timeout") or 0), 0.0)
        if "allowed_updates" in params:
            self._allowed = frozenset(params["allowed_updates"] or ()) or None
        if offset > 0:
            self._queue = [u for u in self._queue if u.update_id >= offset]
        elif offset < 0:
            self._queue = self._queue[offset:]
        self._poll_generation += 1
        generation = self._poll_generation
        self._notify()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if generation != self._poll_generation:
                raise Refused(
                    409, "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
                )
            # Telegram never stores updates the bot did not ask for.
            self._queue = [u for u in self._queue if self._is_allowed(u.kind)]
            batch = self._queue[:limit]
            remaining = deadline - loop.time()
            if batch or self._stopping or remaining <= 0:
                return [{"update_id": u.update_id, u.kind: u.payload} for u in batch]
            await self._wait_change(remaining)

    def _is_allowed(self, kind: str) -> bool:
        return kind in self._allowed if self._allowed else kind not in _OPT_IN_UPDATES

    def _delete_webhook(self, params: Params) -> bool:
        if params.get("drop_pending_updates"):
            self._queue.clear()
            self._notify()
        return True

    def _scope_key(self, params: Params) -> tuple[str, int | None, int | None, str]:
        scope = params.get("scope") or {"type": "default"}
        kind = scope.get("type") if isinstance(scope, dict) else None
        if kind not in _COMMAND_SCOPES:
            raise bad("can't parse BotCommandScope JSON object")
        chat_id = scope.get("chat_id")
        if chat_id is not None and int(chat_id) not in self._users | self._groups:
            raise bad("chat not found")
        return (kind, None if chat_id is None else int(chat_id), scope.get("user_id"), str(params.get("language_code") or ""))

    def _set_my_commands(self, params: Params) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise bad("can't parse commands JSON object")
        if len(commands) > 100:
            raise bad("BOT_COMMANDS_TOO_MUCH")
        for command in commands:
            if not _COMMAND_NAME.fullmatch(str(command.get("command", ""))):
                raise bad("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise bad("BOT_COMMAND_DESCRIPTION_INVALID")
        key = self._scope_key(params)
        if commands:
            self._commands[key] = [{"command": c["command"], "description": c["description"]} for c in commands]
        else:
            self._commands.pop(key, None)
        return True

    def _delete_my_commands(self, params: Params) -> bool:
        self._commands.pop(self._scope_key(params), None)
        return True

    def _answer_callback_query(self, params: Params) -> bool:
        query_id = str(params.get("callback_query_id", ""))
        if query_id not in self._queries or query_id in self._answers:
            raise bad(QUERY_TOO_OLD)
        text = params.get("text")
        if text is not None and len(str(text)) > 200:
            raise bad("MESSAGE_TOO_LONG")
        self._answers[query_id] = {
            "text": text,
            "show_alert": bool(params.get("show_alert")),
            "url": params.get("url"),
            "cache_time": params.get("cache_time"),
        }
        return True

    def _get_file(self, params: Params) -> dict[str, Any]:
        file_id = str(need(params, "file_id"))
        meta = self._file_meta.get(file_id)
        if meta is None:
            raise bad("wrong file_id or the file is temporarily unavailable")
        if len(self.files[file_id]) > 20 * 1024 * 1024:
            raise bad("file is too big")
        return {
            "file_id": file_id,
            "file_unique_id": meta.unique_id,
            "file_size": len(self.files[file_id]),
            "file_path": meta.path,
        }

    def _decide_join_request(self, params: Params, decision: str) -> bool:
        chat_id, user_id = as_int(params, "chat_id"), as_int(params, "user_id")
        group = self._groups.get(chat_id)
        if group is None:
            raise bad("chat not found")
        if not group.bot_is_admin:
            raise bad("CHAT_ADMIN_REQUIRED")
        if self.join_requests.get((chat_id, user_id)) != "pending":
            raise bad("HIDE_REQUESTER_MISSING")
        self.join_requests[(chat_id, user_id)] = decision
        if decision == "approved":
            group.members.add(user_id)
        return True

    def _get_chat(self, params: Params) -> dict[str, Any]:
        chat_id = as_int(params, "chat_id")
        if chat_id in self._groups:
            chat = self._groups[chat_id].chat
        elif chat_id in self._users:
            chat = self._private_chat(chat_id)
        else:
            raise bad("chat not found")
        gifts = dict.fromkeys(
            ("unlimited_gifts", "limited_gifts", "unique_gifts", "premium_subscription", "gifts_from_channels"), False
        )
        return chat | {"accent_color_id": 0, "max_reaction_count": 11, "accepted_gift_types": gifts}

    def _get_chat_member(self, params: Params) -> dict[str, Any]:
        chat_id, user_id = as_int(params, "chat_id"), as_int(params, "user_id")
        if user_id == self.bot_user["id"]:
            user = self.bot_user
        elif user_id in self._users:
            user = self._users[user_id]
        else:
            raise bad("user not found")
        group = self._groups.get(chat_id)
        if group is None:
            if chat_id != user_id or chat_id not in self._users:
                raise bad("chat not found")
            return {"user": user, "status": "member"}
        if user_id == self.bot_user["id"] and group.bot_is_admin:
            rights = dict.fromkeys(
                (
                    "can_manage_chat",
                    "can_delete_messages",
                    "can_manage_video_chats",
                    "can_restrict_members",
                    "can_change_info",
                    "can_invite_users",
                    "can_post_stories",
                    "can_edit_stories",
                    "can_delete_stories",
                ),
                True,
            )
            return {
                "user": user,
                "status": "administrator",
                "can_be_edited": False,
                "is_anonymous": False,
                "can_promote_members": False,
            } | rights
        status = "member" if user_id in group.members or user_id == self.bot_user["id"] else "left"
        return {"user": user, "status": status}

    def _send_chat_action(self, params: Params) -> bool:
        self._chat(need(params, "chat_id"))
        if params.get("action") not in _CHAT_ACTIONS:
            raise bad("wrong parameter action in request")
        return True

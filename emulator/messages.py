"""The Bot API methods that send, edit and delete messages.

Each checks what Telegram checks before anything is stored (the chat can be reached,
the text parses and fits, the keyboard is valid, the replied-to message exists), so a
refused call leaves no trace but the refusal.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from emulator.limits import NOT_MODIFIED
from emulator.records import Params, SentMessage, Upload
from emulator.state import EmulatorState
from emulator.validation import as_int, bad, check_inline_keyboard, formatted, need, photo_refusal


class MessageMethods(EmulatorState):
    """sendMessage, sendPhoto, sendDocument, editMessage*, deleteMessage."""

    def _reply_target(self, chat_id: int, params: Params) -> dict[str, Any] | None:
        reply = params.get("reply_parameters") or {}
        message_id = reply.get("message_id", params.get("reply_to_message_id"))
        if message_id is None:
            return None
        key = (chat_id, int(message_id))
        if key in self._messages and key not in self._deleted:
            return self._messages[key]
        if reply.get("allow_sending_without_reply") or params.get("allow_sending_without_reply"):
            return None
        raise bad("message to be replied not found")

    def _delivery(self, chat: dict[str, Any], params: Params) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """Markup and replied-to message of a send, checked before anything is stored."""
        markup = check_inline_keyboard(params.get("reply_markup"))
        return markup, self._reply_target(chat["id"], params)

    def _record_bot_message(
        self,
        chat: dict[str, Any],
        delivery: tuple[dict[str, Any] | None, dict[str, Any] | None],
        content: dict[str, Any],
        **fields: Any,
    ) -> dict[str, Any]:
        markup, reply_to = delivery
        message: dict[str, Any] = {
            "message_id": self._next_message_id(chat["id"]),
            "from": self.bot_user,
            "chat": chat,
            "date": int(self.clock()),
        } | content
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        if markup and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        self._messages[(chat["id"], message["message_id"])] = message
        sent = SentMessage(
            chat_id=chat["id"],
            message_id=message["message_id"],
            date=message["date"],
            reply_markup=markup,
            raw=message,
            **fields,
        )
        self._sent[(sent.chat_id, sent.message_id)] = sent
        self.all_messages.append(sent)
        return message

    def _send_message(self, params: Params) -> dict[str, Any]:
        chat = self._chat(need(params, "chat_id"))
        text = params.get("text")
        plain, entities = formatted(text, params.get("parse_mode"), params.get("entities"), caption=False)
        delivery = self._delivery(chat, params)
        content = {"text": plain} | ({"entities": entities} if entities else {})
        return self._record_bot_message(
            chat, delivery, content, text=text, plain=plain, entities=entities, parse_mode=params.get("parse_mode")
        )

    def _send_media(self, params: Params, kind: str) -> dict[str, Any]:
        chat = self._chat(need(params, "chat_id"))
        caption = params.get("caption")
        plain, entities = formatted(caption, params.get("parse_mode"), params.get("caption_entities"), caption=True)
        delivery = self._delivery(chat, params)
        value = params.get(kind)
        file_name: str | None
        mime_type: str | None
        if isinstance(value, Upload):
            if not value.data:
                raise bad("file must be non-empty")
            data, file_name, mime_type = value.data, value.filename, value.content_type
        elif isinstance(value, str) and value:
            meta = self._file_meta.get(value)
            if meta is None:
                raise bad("wrong file identifier/HTTP URL specified")
            if meta.kind != kind:
                raise bad(f"can't use file of type {meta.kind.title()} as {kind.title()}")
            data, file_name, mime_type = self.files[value], meta.file_name, meta.mime_type
        else:
            raise bad(f"there is no {kind} in the request")
        if kind == "photo":
            if (refusal := photo_refusal(data)) is not None:
                raise refusal
            sizes = self._photo_sizes(data)
            content: dict[str, Any] = {"photo": sizes}
            fields: dict[str, Any] = {"photo": sizes[-1]["file_id"]}
        else:
            document = self._document(data, file_name or "document", mime_type or "application/octet-stream")
            content, fields = {"document": document}, {"document": document}
        if caption:
            content["caption"] = plain
            if entities:
                content["caption_entities"] = entities
        return self._record_bot_message(
            chat,
            delivery,
            content,
            caption=caption or None,
            plain=plain if caption else "",
            entities=entities,
            parse_mode=params.get("parse_mode"),
            **fields,
        )

    def _editable(self, params: Params) -> SentMessage:
        if "inline_message_id" in params:
            raise bad("MESSAGE_ID_INVALID")
        chat = self._chat(need(params, "chat_id"))
        key = (chat["id"], as_int(params, "message_id"))
        sent = self._sent.get(key)
        if sent is None or sent.deleted:
            if key in self._messages and key not in self._deleted:
                raise bad("message can't be edited")
            raise bad("message to edit not found")
        return sent

    def _apply_edit(
        self, sent: SentMessage, markup: dict[str, Any] | None, content: dict[str, Any], **fields: Any
    ) -> dict[str, Any]:
        sent.history.append(replace(sent, history=[]))
        raw = {k: v for k, v in sent.raw.items() if k not in ("text", "entities", "caption", "caption_entities", "reply_markup")}
        raw |= content | {"edit_date": int(self.clock())}
        if markup and "inline_keyboard" in markup:
            raw["reply_markup"] = markup
        sent.raw = raw
        sent.reply_markup = markup
        for name, value in fields.items():
            setattr(sent, name, value)
        self._messages[(sent.chat_id, sent.message_id)] = raw
        return raw

    def _edit_text(self, params: Params) -> dict[str, Any]:
        sent = self._editable(params)
        if sent.text is None:
            raise bad("there is no text in the message to edit")
        text = params.get("text")
        plain, entities = formatted(text, params.get("parse_mode"), params.get("entities"), caption=False)
        # Leaving reply_markup out of an edit removes the keyboard, as on Telegram.
        markup = check_inline_keyboard(params.get("reply_markup"))
        if (plain, entities, markup) == (sent.plain, sent.entities, sent.reply_markup):
            raise bad(NOT_MODIFIED)
        content = {"text": plain} | ({"entities": entities} if entities else {})
        return self._apply_edit(
            sent, markup, content, text=text, plain=plain, entities=entities, parse_mode=params.get("parse_mode")
        )

    def _edit_caption(self, params: Params) -> dict[str, Any]:
        sent = self._editable(params)
        if sent.photo is None and sent.document is None:
            raise bad("there is no caption in the message to edit")
        caption = params.get("caption")
        plain, entities = formatted(caption, params.get("parse_mode"), params.get("caption_entities"), caption=True)
        markup = check_inline_keyboard(params.get("reply_markup"))
        if (plain, entities, markup) == (sent.plain, sent.entities, sent.reply_markup):
            raise bad(NOT_MODIFIED)
        content: dict[str, Any] = {"caption": plain} if plain else {}
        if entities:
            content["caption_entities"] = entities
        return self._apply_edit(
            sent, markup, content, caption=caption or None, plain=plain, entities=entities, parse_mode=params.get("parse_mode")
        )

    def _edit_reply_markup(self, params: Params) -> dict[str, Any]:
        sent = self._editable(params)
        markup = check_inline_keyboard(params.get("reply_markup"))
        if markup == sent.reply_markup:
            raise bad(NOT_MODIFIED)
        content = {k: v for k, v in sent.raw.items() if k in ("text", "entities", "caption", "caption_entities")}
        return self._apply_edit(sent, markup, content)

    def _delete_message(self, params: Params) -> bool:
        chat = self._chat(need(params, "chat_id"))
        key = (chat["id"], as_int(params, "message_id"))
        message = self._messages.get(key)
        if message is None or key in self._deleted:
            raise bad("message to delete not found")
        group = self._groups.get(chat["id"])
        if key not in self._sent and group is not None and not group.bot_is_admin:
            raise bad("message can't be deleted")
        self._deleted.add(key)
        if key in self._sent:
            self._sent[key].deleted = True
        return True

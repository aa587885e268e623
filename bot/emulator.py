"""A local Telegram Bot API emulator: the real bot talks HTTP to it instead of Telegram.

End-to-end tests and the terminal demo run the unmodified PTB ``Application`` against
this server (``base_url=emu.base_url``, ``base_file_url=emu.base_file_url``) and act as
users through plain Python calls (``send_text``, ``press``, ``join_request``...).

It refuses what Telegram refuses (bad HTML, over-long text, 65-byte callback data,
"message is not modified", users who never started the bot...), with Telegram's
wording, and records every refusal so a test can assert the bot never provoked one.
It can also misbehave on purpose (429, 500, dropped connections, slow answers) so
fault-tolerance tests see what a flaky network does to the bot.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import logging
import random
import re
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import unquote
from typing import Any

from aiohttp import web
from aiohttp.web_request import FileField
from telegram.request import BaseRequest, RequestData

log = logging.getLogger(__name__)

Params = dict[str, Any]

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64
# sendPhoto: at most 10 MB, width + height at most 10,000, ratio at most 20 (Bot API docs).
PHOTO_MAX_BYTES = 10 * 1024 * 1024
PHOTO_MAX_SIDES = 10_000
PHOTO_MAX_RATIO = 20
# Refusals of a picture as a photo: like a 403, the bot learns them only by trying.
PHOTO_REFUSALS = ("PHOTO_INVALID_DIMENSIONS", "PHOTO_SAVE_FILE_INVALID")
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup"
    " are exactly the same as a current content and reply markup of the message"
)
QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"

# PTB sends form fields with non-string values JSON-encoded and strings as they are;
# these fields are strings by definition and must never be JSON-decoded ("123" stays text).
_STRING_FIELDS = frozenset({
    "text", "caption", "parse_mode", "callback_query_id", "inline_message_id", "file_id",
    "photo", "document", "url", "action", "language_code", "business_connection_id",
    "message_effect_id", "title", "description", "short_description", "name", "emoji",
    "first_name", "last_name", "custom_title", "secret_token",
})
# Telegram's default when allowed_updates was never set: everything but these.
_OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
_CHAT_ACTIONS = frozenset({
    "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
    "upload_document", "choose_sticker", "find_location", "record_video_note",
    "upload_video_note",
})
_BUTTON_ACTIONS = frozenset({
    "callback_data", "url", "web_app", "login_url", "switch_inline_query",
    "switch_inline_query_current_chat", "switch_inline_query_chosen_chat", "copy_text",
    "callback_game", "pay",
})
_COMMAND_SCOPES = frozenset({
    "default", "all_private_chats", "all_group_chats", "all_chat_administrators", "chat",
    "chat_administrators", "chat_member",
})
_BOT_COMMAND = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?")
_COMMAND_NAME = re.compile(r"[a-z0-9_]{1,32}")
_FAULT_KINDS = frozenset({"429", "500", "drop", "slow"})


def default_api_spec() -> Path | None:
    """The shared api.json beside the project, when this checkout has it."""
    path = Path(__file__).resolve().parents[2] / "shared/telegram-bot-api/api.json"
    return path if path.exists() else None


def utf16_len(text: str) -> int:
    """Telegram measures text in UTF-16 code units (an emoji counts 2)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


# --- HTML parse mode, as Telegram (tdlib) parses it ----------------------------------

_HTML_TAGS = frozenset({
    "a", "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler",
    "tg-emoji", "code", "pre", "blockquote",
})
_ENTITY_TYPES = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline",
    "ins": "underline", "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough",
    "span": "spoiler", "tg-spoiler": "spoiler", "code": "code", "pre": "pre",
    "a": "text_link", "tg-emoji": "custom_emoji", "blockquote": "blockquote",
}
_NAMED_REFS = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_CHAR_REF = re.compile(
    r"&(?:#x(?P<hex>[0-9a-fA-F]{1,8})|#(?P<dec>[0-9]{1,8})|(?P<name>[A-Za-z]+));"
)
_HTML_SPECIAL = re.compile(r"[<&]")
_SPACES = " \t\r\n\v"


class HtmlError(ValueError):
    """The text is not valid Telegram HTML; the message is Telegram's own wording."""


@dataclass
class _OpenTag:
    tag: str
    argument: str | None
    expandable: bool
    offset: int


def _char_ref(text: str, i: int) -> tuple[str, int] | None:
    """Decode the character reference at text[i] ('&'); None when it is not one."""
    match = _CHAR_REF.match(text, i)
    if match is None:
        return None
    if match["name"] is not None:
        char = _NAMED_REFS.get(match["name"])
        return (char, match.end()) if char else None
    code = int(match["hex"], 16) if match["hex"] is not None else int(match["dec"])
    return (chr(code), match.end()) if 0 < code < 0x10FFFF else None


def parse_html(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Return (plain text, entities) for parse_mode HTML, or raise HtmlError.

    Follows tdlib's parser and error wording, with one deliberate strictness: Telegram
    passes a bare '&' through, we refuse it, because it means some text was not escaped.
    """
    out: list[str] = []
    offset = 0  # UTF-16 length of out
    stack: list[_OpenTag] = []
    entities: list[dict[str, Any]] = []
    n = len(text)

    def fail(message: str, index: int) -> HtmlError:
        offset_in_bytes = len(text[:index].encode("utf-8", "surrogatepass"))
        return HtmlError(f"{message} at byte offset {offset_in_bytes}")

    def at(index: int) -> str:
        return text[index] if index < n else "\0"

    def emit(chunk: str) -> None:
        nonlocal offset
        out.append(chunk)
        offset += utf16_len(chunk)

    i = 0
    while i < n:
        special = _HTML_SPECIAL.search(text, i)
        stop = special.start() if special else n
        if stop > i:
            emit(text[i:stop])
            i = stop
            continue
        if text[i] == "&":
            ref = _char_ref(text, i)
            if ref is None:
                raise fail("Unsupported HTML entity", i)
            emit(ref[0])
            i = ref[1]
            continue
        begin = i
        i += 1
        if at(i) != "/":
            while i < n and text[i] not in _SPACES and text[i] != ">":
                i += 1
            if i >= n:
                raise fail("Unclosed start tag", begin)
            tag = text[begin + 1:i].lower()
            if tag not in _HTML_TAGS:
                raise fail(f'Unsupported start tag "{tag}"', begin)
            argument: str | None = None
            expandable = False
            while at(i) != ">":
                while i < n and text[i] in _SPACES:
                    i += 1
                if at(i) == ">":
                    break
                if i >= n:
                    raise fail(f'Unclosed start tag "{tag}"', begin)
                name_begin = i
                while i < n and text[i] not in _SPACES and text[i] not in "=>":
                    i += 1
                attribute = text[name_begin:i].lower()
                if not attribute:
                    raise fail(f'Empty attribute name in the tag "{tag}"', begin)
                while i < n and text[i] in _SPACES:
                    i += 1
                if at(i) != "=":
                    if tag == "blockquote" and attribute == "expandable":
                        expandable = True
                        continue
                    raise fail(
                        f'Expected equal sign in declaration of an attribute of the tag "{tag}"',
                        begin,
                    )
                i += 1
                while i < n and text[i] in _SPACES:
                    i += 1
                if i >= n:
                    raise fail(f'Unclosed start tag "{tag}"', begin)
                if text[i] not in "'\"":
                    token_begin = i
                    while i < n and ((text[i].isascii() and text[i].isalnum()) or text[i] in ".-"):
                        i += 1
                    value = text[token_begin:i].lower()
                    if i < n and text[i] not in _SPACES and text[i] != ">":
                        raise fail("Unexpected end of name token", token_begin)
                else:
                    quote = text[i]
                    i += 1
                    chars: list[str] = []
                    while i < n and text[i] != quote:
                        # Inside attribute values tdlib keeps an undecodable '&' as it is.
                        ref = _char_ref(text, i) if text[i] == "&" else None
                        chars.append(ref[0] if ref else text[i])
                        i = ref[1] if ref else i + 1
                    value = "".join(chars)
                    i += 1
                if i >= n:
                    raise fail("Unclosed start tag", begin)
                if tag == "a" and attribute == "href":
                    argument = value
                elif tag == "code" and attribute == "class" and value.startswith("language-"):
                    argument = value.removeprefix("language-")
                elif tag == "span" and attribute == "class" and value.startswith("tg-"):
                    argument = value.removeprefix("tg-")
                elif tag == "tg-emoji" and attribute == "emoji-id":
                    argument = value
            if tag == "span" and argument != "spoiler":
                raise fail('Tag "span" must have class "tg-spoiler"', begin)
            if tag == "tg-emoji" and not (argument or "").isdigit():
                raise HtmlError("Invalid custom emoji identifier specified")
            stack.append(_OpenTag(tag, argument, expandable, offset))
            i += 1
            continue
        if not stack:
            raise fail("Unexpected end tag", begin)
        i += 1
        name_begin = i
        while i < n and text[i] not in _SPACES and text[i] != ">":
            i += 1
        end_tag = text[name_begin:i].lower()
        while i < n and text[i] in _SPACES:
            i += 1
        if at(i) != ">":
            raise fail("Unclosed end tag", begin)
        i += 1
        opened = stack.pop()
        if end_tag and end_tag != opened.tag:
            raise HtmlError(
                f"{fail('Unmatched end tag', begin)}, "
                f'expected "</{opened.tag}>", found "</{end_tag}>"'
            )
        length = offset - opened.offset
        if opened.tag == "code" and opened.argument and stack and stack[-1].tag == "pre":
            stack[-1].argument = opened.argument  # <pre><code class="language-x"> is one pre entity
            continue
        if length == 0 or (opened.tag == "a" and not opened.argument):
            continue
        entity: dict[str, Any] = {
            "type": _ENTITY_TYPES[opened.tag], "offset": opened.offset, "length": length,
        }
        if opened.tag == "a":
            entity["url"] = opened.argument
        elif opened.tag == "pre" and opened.argument:
            entity["language"] = opened.argument
        elif opened.tag == "tg-emoji":
            entity["custom_emoji_id"] = opened.argument
        elif opened.tag == "blockquote" and opened.expandable:
            entity["type"] = "expandable_blockquote"
        entities.append(entity)
    if stack:
        raise HtmlError(f'Can\'t find end tag corresponding to start tag "{stack[-1].tag}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


# --- records the tests read -----------------------------------------------------------


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
        unknown = set(self.kinds) - _FAULT_KINDS
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


@dataclass
class _TargetedFailure:
    method: str
    error_code: int
    description: str
    remaining: int
    retry_after: int | None


@dataclass
class _QueuedUpdate:
    update_id: int
    kind: str
    payload: dict[str, Any]
    returned: bool = False


@dataclass(frozen=True)
class _FileMeta:
    kind: str  # "photo" or "document"
    unique_id: str
    path: str
    file_name: str | None = None
    mime_type: str | None = None


@dataclass
class _Group:
    chat: dict[str, Any]
    bot_is_admin: bool
    members: set[int] = field(default_factory=set)


class _Refused(Exception):
    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description


def _bad(description: str) -> _Refused:
    return _Refused(400, f"Bad Request: {description}")


def _error_body(code: int, description: str, retry_after: int | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return body


def _decode_field(name: str, value: Any) -> Any:
    """Undo PTB's form encoding: JSON for everything that is not a plain string field."""
    if isinstance(value, FileField):
        return Upload(value.filename, value.content_type, value.file.read())
    if not isinstance(value, str) or name in _STRING_FIELDS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _need(params: Params, name: str) -> Any:
    value = params.get(name)
    if value is None or value == "":
        raise _bad(f'parameter "{name}" is required')
    return value


def _int(params: Params, name: str) -> int:
    try:
        return int(_need(params, name))
    except (TypeError, ValueError):
        raise _bad(f'parameter "{name}" must be an integer') from None


def image_size(data: bytes) -> tuple[int, int] | None:
    """Width and height from a PNG, GIF or JPEG header; None when the bytes do not say."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR" and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return width, height
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return width, height
    at = 2 if data.startswith(b"\xff\xd8") else len(data)
    while at + 9 <= len(data) and data[at] == 0xFF:
        marker = data[at + 1]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):  # a start-of-frame segment
            height, width = struct.unpack(">HH", data[at + 5 : at + 9])
            return width, height
        at += 2 + struct.unpack(">H", data[at + 2 : at + 4])[0]
    return None


def _photo_refusal(data: bytes) -> _Refused | None:
    """Telegram's refusal of these bytes as a photo (they may still go as a document)."""
    if len(data) > PHOTO_MAX_BYTES:
        return _bad("PHOTO_SAVE_FILE_INVALID")
    size = image_size(data)
    if size is not None:
        width, height = size
        if min(size) == 0 or width + height > PHOTO_MAX_SIDES or max(size) > PHOTO_MAX_RATIO * min(size):
            return _bad("PHOTO_INVALID_DIMENSIONS")
    return None


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


def _check_inline_keyboard(markup: Any) -> dict[str, Any] | None:
    """Validate reply_markup like Telegram; an empty inline keyboard means none."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise _bad("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" not in markup:
        return markup  # reply keyboards, ForceReply, ReplyKeyboardRemove: accepted as they are
    rows = markup["inline_keyboard"]
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise _bad('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays')
    for button in (b for row in rows for b in row):
        if not isinstance(button, dict) or not isinstance(button.get("text"), str):
            raise _bad('can\'t parse inline keyboard button: Field "text" must be of type String')
        if not button["text"]:
            raise _bad("BUTTON_TEXT_INVALID")
        if not _BUTTON_ACTIONS & button.keys():
            raise _bad(
                "can't parse inline keyboard button: "
                "Text buttons are unallowed in the inline keyboard"
            )
        if "callback_data" in button:
            data = button["callback_data"]
            size = len(data.encode("utf-8")) if isinstance(data, str) else 0
            if not 1 <= size <= CALLBACK_DATA_LIMIT:
                raise _bad("BUTTON_DATA_INVALID")
        if "url" in button and not re.match(r"(https?|tg)://\S", str(button["url"])):
            raise _bad(f'inline keyboard button URL "{button["url"]}" is invalid: Wrong HTTP URL')
    return markup if any(rows) else None


class BotApiEmulator:
    """A Telegram Bot API server on 127.0.0.1 plus the users who talk to the bot."""

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
            "id": int(token.split(":", 1)[0]), "is_bot": True,
            "first_name": bot_name, "username": bot_username,
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
        self._spec = self._load_spec(api_spec)
        self._users: dict[int, dict[str, Any]] = {}
        self._started: set[int] = set()
        self._blocked: set[int] = set()
        self._groups: dict[int, _Group] = {}
        self._messages: dict[tuple[int, int], dict[str, Any]] = {}
        self._deleted: set[tuple[int, int]] = set()
        self._sent: dict[tuple[int, int], SentMessage] = {}
        self._last_message_id: dict[int, int] = {}
        self._file_meta: dict[str, _FileMeta] = {}
        self._file_paths: dict[str, str] = {}
        self._file_counter = 0
        self._queries: dict[str, dict[str, Any]] = {}
        self._answers: dict[str, dict[str, Any]] = {}
        self._commands: dict[tuple[str, int | None, int | None, str], list[dict[str, str]]] = {}
        self._targeted: list[_TargetedFailure] = []
        self._queue: list[_QueuedUpdate] = []
        self._next_update_id = 100_000
        self._allowed: frozenset[str] | None = None
        self._poll_generation = 0
        self._busy = 0
        self._last_activity = 0.0
        self._changed = asyncio.Event()
        self._stopping = False
        self._runner: web.AppRunner | None = None
        self._methods: dict[str, Callable[[Params], Any]] = {
            "getMe": lambda p: self.bot_user | {"can_join_groups": True,
                                                "can_read_all_group_messages": False,
                                                "supports_inline_queries": False},
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
        self._canonical = {name.lower(): name for name in [*self._methods, *(self._spec or {})]}

    # --- server lifecycle -------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    async def start(self) -> None:
        """Serve on 127.0.0.1 (``port`` 0 picks a free one) in the running loop."""
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_call)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_download)
        # Cancelling handlers when the client goes away ends an abandoned long poll,
        # as Telegram does, instead of leaving it to swallow updates.
        self._runner = web.AppRunner(
            app, handler_cancellation=True, access_log=None, shutdown_timeout=1.0
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        self._stopping = False

    async def stop(self) -> None:
        """Answer pending long polls and shut the server down."""
        self._stopping = True
        self._notify()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # --- HTTP ---------------------------------------------------------------------------

    async def _handle_call(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return web.json_response(_error_body(401, "Unauthorized"), status=401)
        params = await self._read_params(request)
        requested = request.match_info["method"]
        method = self._canonical.get(requested.lower(), requested)
        self.calls.append((method, params))
        polling = method == "getUpdates"
        if not polling:
            self._busy += 1
            self._touch()
        try:
            return await self._respond(request, method, params)
        finally:
            if not polling:
                self._busy -= 1
                self._touch()
            for hook in self.on_call:
                hook(method)

    async def _respond(
        self, request: web.Request, method: str, params: Params
    ) -> web.StreamResponse:
        plan = self.faults
        fault = self._take_fault(method, params, plan)
        if isinstance(fault, _TargetedFailure):
            body = _error_body(fault.error_code, fault.description, fault.retry_after)
            return web.json_response(body, status=fault.error_code)
        if plan is not None and fault == "429":
            body = _error_body(
                429, f"Too Many Requests: retry after {plan.retry_after}", plan.retry_after
            )
            return web.json_response(body, status=429)
        if fault == "500":
            return web.json_response(_error_body(500, "Internal Server Error"), status=500)
        if plan is not None and fault == "slow":
            await asyncio.sleep(plan.slow_seconds)
        dropping = fault == "drop"
        if plan is not None and dropping and not plan.drop_after_action:
            return self._drop(request)
        try:
            result = await self._perform(method, params)
        except _Refused as refusal:
            # A long poll the client already abandoned (PTB's updater.stop polls once more)
            # ends in a 409 nobody reads; it says nothing about the bot's behaviour.
            abandoned = refusal.code == 409 and (request.transport is None or request.transport.is_closing())
            if not abandoned:
                self._refuse(method, params, refusal)
            response = web.json_response(
                _error_body(refusal.code, refusal.description), status=refusal.code
            )
        else:
            if method == "getUpdates" and result and not dropping:
                self._note_returned(result)
            response = web.json_response({"ok": True, "result": result})
        return self._drop(request) if dropping else response

    @staticmethod
    def _drop(request: web.Request) -> web.Response:
        """Close the connection: the client sees the server hang up without an answer."""
        if request.transport is not None:
            request.transport.close()
        return web.Response()

    async def _read_params(self, request: web.Request) -> Params:
        raw: dict[str, Any] = dict(request.query)
        if request.body_exists:
            if request.content_type == "application/json":
                body = await request.json()
                raw.update(body if isinstance(body, dict) else {})
            else:
                raw.update((await request.post()).items())
        params = {name: _decode_field(name, value) for name, value in raw.items()}
        for name, value in list(params.items()):
            if isinstance(value, str) and value.startswith("attach://"):
                part = params.pop(value.removeprefix("attach://"), None)
                params[name] = part if isinstance(part, Upload) else value
        return params

    async def _perform(self, method: str, params: Params) -> Any:
        self._check_spec(method, params)
        handler = self._methods.get(method)
        if handler is None:
            raise _Refused(404, "Not Found: method not found")
        result = handler(params)
        return await result if inspect.isawaitable(result) else result

    async def _handle_download(self, request: web.Request) -> web.StreamResponse:
        file_id = self._file_paths.get(request.match_info["path"])
        if request.match_info["token"] != self.token or file_id is None:
            return web.json_response(_error_body(404, "Not Found"), status=404)
        self.downloaded.append(file_id)
        return web.Response(body=self.files[file_id])

    def _take_fault(
        self, method: str, params: Params, plan: FaultPlan | None
    ) -> _TargetedFailure | str | None:
        for failure in self._targeted:
            if failure.method == method:
                failure.remaining -= 1
                if failure.remaining <= 0:
                    self._targeted.remove(failure)
                self.injected.append(InjectedFault(method, str(failure.error_code), params))
                return failure
        kind = plan.pick(method) if plan else None
        if kind is not None:
            self.injected.append(InjectedFault(method, kind, params))
        return kind

    def _refuse(self, method: str, params: Params, refusal: _Refused) -> None:
        log.debug("refused %s: %s", method, refusal.description)
        expected = refusal.code == 403 or any(kind in refusal.description for kind in PHOTO_REFUSALS)
        self.refusals.append(Refusal(method, params, refusal.code, refusal.description, expected))

    # --- api.json -----------------------------------------------------------------------

    @staticmethod
    def _load_spec(path: Path | None) -> dict[str, dict[str, bool]] | None:
        """Method name -> {field name: required}, from the shared api.json."""
        if path is None:
            return None
        methods = json.loads(path.read_text(encoding="utf-8"))["methods"]
        return {
            name: {f["name"]: bool(f.get("required")) for f in spec.get("fields", [])}
            for name, spec in methods.items()
        }

    def _check_spec(self, method: str, params: Params) -> None:
        if self._spec is None:
            return
        fields = self._spec.get(method)
        if fields is None:
            raise _Refused(404, "Not Found: method not found")
        unknown = sorted(params.keys() - fields.keys())
        if unknown:
            raise _bad(f'unknown parameter "{unknown[0]}" for method {method}')
        for name, required in fields.items():
            if required and params.get(name) in (None, ""):
                raise _bad(f'parameter "{name}" is required')

    # --- acting as users ------------------------------------------------------------------

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
        self._groups[chat_id] = _Group(chat, bot_is_admin)
        return chat

    def block(self, user_id: int) -> None:
        """The user blocks the bot: sends are refused and the bot hears my_chat_member."""
        self._blocked.add(user_id)
        self._enqueue("my_chat_member", self._membership_change(user_id, "member", "kicked"))

    def user(self, user_id: int) -> dict[str, Any]:
        """The user's Telegram record, registering unknown ids with a generated name."""
        return self._users.get(user_id) or self.add_user(user_id, f"User{user_id}", started=False)

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
        return self._user_message(
            user_id, chat_id, {"document": document} | _caption(caption), None
        )

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
            "chat": group.chat, "from": self.user(user_id), "user_chat_id": user_id,
            "date": int(self.clock()),
        }
        self.join_requests[(chat_id, user_id)] = "pending"
        self._started.add(user_id)
        self._enqueue("chat_join_request", request)
        return request

    def callback_answer(self, query_id: str) -> dict[str, Any] | None:
        """What the bot answered to a button press (text, show_alert...), if it did."""
        return self._answers.get(query_id)

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
        for key in (("chat", chat_id, None, ""), (chat_type, None, None, ""),
                    ("default", None, None, "")):
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
        self._targeted.append(_TargetedFailure(method, error_code, description, count, retry_after))

    async def wait_fetched(self, timeout: float = 5.0) -> None:
        """Wait until getUpdates has returned every update enqueued so far."""
        await self._wait_until(
            lambda: all(update.returned for update in self._queue), timeout, "fetch its updates"
        )

    async def wait_confirmed(self, timeout: float = 5.0) -> None:
        """Wait until a later getUpdates offset confirmed every update enqueued so far:
        PTB has then put them in its update queue (fetched alone does not promise that)."""
        last = self._next_update_id
        await self._wait_until(
            lambda: all(update.update_id > last for update in self._queue),
            timeout, "confirm its updates",
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
        self._queue.append(_QueuedUpdate(self._next_update_id, kind, payload))
        self._notify()

    def _note_returned(self, updates: list[dict[str, Any]]) -> None:
        ids = {update["update_id"] for update in updates}
        for queued in self._queue:
            queued.returned = queued.returned or queued.update_id in ids
        self._touch()

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
                raise _Refused(409, "Conflict: terminated by other getUpdates request; "
                                    "make sure that only one bot instance is running")
            # Telegram never stores updates the bot did not ask for.
            self._queue = [u for u in self._queue if self._is_allowed(u.kind)]
            batch = self._queue[:limit]
            remaining = deadline - loop.time()
            if batch or self._stopping or remaining <= 0:
                return [{"update_id": u.update_id, u.kind: u.payload} for u in batch]
            await self._wait_change(remaining)

    def _is_allowed(self, kind: str) -> bool:
        return kind in self._allowed if self._allowed else kind not in _OPT_IN_UPDATES

    # --- chats, messages and files -----------------------------------------------------------

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
            raise _bad("chat not found") from None
        if chat_id > 0:
            if chat_id in self._blocked:
                raise _Refused(403, "Forbidden: bot was blocked by the user")
            if chat_id not in self._started:
                raise _Refused(403, "Forbidden: bot can't initiate conversation with a user")
            return self._private_chat(chat_id)
        if chat_id not in self._groups:
            raise _bad("chat not found")
        return self._groups[chat_id].chat

    def _next_message_id(self, chat_id: int) -> int:
        self._last_message_id[chat_id] = self._last_message_id.get(chat_id, 0) + 1
        return self._last_message_id[chat_id]

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
            "message_id": self._next_message_id(chat["id"]), "from": user, "chat": chat,
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

    def _membership_change(self, user_id: int, old: str, new: str) -> dict[str, Any]:
        def member(status: str) -> dict[str, Any]:
            return {"user": self.bot_user, "status": status} | (
                {"until_date": 0} if status == "kicked" else {}
            )

        return {
            "chat": self._private_chat(user_id), "from": self.user(user_id),
            "date": int(self.clock()), "old_chat_member": member(old),
            "new_chat_member": member(new),
        }

    def _store_file(self, data: bytes, kind: str, extension: str, **meta: str) -> dict[str, Any]:
        self._file_counter += 1
        prefix = "AgACAgQAAxkBAAI" if kind == "photo" else "BQACAgQAAxkBAAI"
        file_id = f"{prefix}{self._file_counter:06d}"
        folder = "photos" if kind == "photo" else "documents"
        info = _FileMeta(kind, f"AQAD{self._file_counter:06d}",
                         f"{folder}/file_{self._file_counter}{extension}", **meta)
        self.files[file_id] = data
        self._file_meta[file_id] = info
        self._file_paths[info.path] = file_id
        return {"file_id": file_id, "file_unique_id": info.unique_id, "file_size": len(data)}

    def _photo_sizes(self, data: bytes) -> list[dict[str, Any]]:
        """Telegram keeps several sizes of a photo; all download the same bytes here."""
        return [
            self._store_file(data, "photo", ".jpg") | {"width": width, "height": width * 3 // 4}
            for width in (90, 320, 1280)
        ]

    def _document(self, data: bytes, file_name: str, mime_type: str) -> dict[str, Any]:
        extension = Path(file_name).suffix
        stored = self._store_file(
            data, "document", extension, file_name=file_name, mime_type=mime_type
        )
        return stored | {"file_name": file_name, "mime_type": mime_type}

    def _formatted(
        self, text: Any, parse_mode: Any, entities: Any, *, caption: bool
    ) -> tuple[str, list[dict[str, Any]]]:
        """Parse and measure text or a caption as Telegram does before accepting it."""
        text = "" if text is None else str(text)
        mode = str(parse_mode or "").lower()
        if mode == "html":
            try:
                plain, parsed = parse_html(text)
            except HtmlError as error:
                raise _bad(f"can't parse entities: {error}") from None
        elif mode in ("", "markdown", "markdownv2"):
            plain, parsed = text, list(entities or [])
        else:
            raise _bad("unsupported parse_mode")
        stripped = plain.strip()
        if caption:
            if utf16_len(stripped) > CAPTION_LIMIT:
                raise _bad("message caption is too long")
        elif not stripped:
            raise _bad("message text is empty")
        elif utf16_len(stripped) > TEXT_LIMIT:
            raise _bad("message is too long")
        return plain, parsed

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
        raise _bad("message to be replied not found")

    def _delivery(
        self, chat: dict[str, Any], params: Params
    ) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """Markup and replied-to message of a send, checked before anything is stored."""
        markup = _check_inline_keyboard(params.get("reply_markup"))
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
            "message_id": self._next_message_id(chat["id"]), "from": self.bot_user,
            "chat": chat, "date": int(self.clock()),
        } | content
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        if markup and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        self._messages[(chat["id"], message["message_id"])] = message
        sent = SentMessage(
            chat_id=chat["id"], message_id=message["message_id"], date=message["date"],
            reply_markup=markup, raw=message, **fields,
        )
        self._sent[(sent.chat_id, sent.message_id)] = sent
        self.all_messages.append(sent)
        return message

    # --- Bot API methods -------------------------------------------------------------------------

    def _send_message(self, params: Params) -> dict[str, Any]:
        chat = self._chat(_need(params, "chat_id"))
        text = params.get("text")
        plain, entities = self._formatted(
            text, params.get("parse_mode"), params.get("entities"), caption=False
        )
        delivery = self._delivery(chat, params)
        content = {"text": plain} | ({"entities": entities} if entities else {})
        return self._record_bot_message(chat, delivery, content, text=text, plain=plain,
                                        entities=entities, parse_mode=params.get("parse_mode"))

    def _send_media(self, params: Params, kind: str) -> dict[str, Any]:
        chat = self._chat(_need(params, "chat_id"))
        caption = params.get("caption")
        plain, entities = self._formatted(
            caption, params.get("parse_mode"), params.get("caption_entities"), caption=True
        )
        delivery = self._delivery(chat, params)
        value = params.get(kind)
        file_name: str | None
        mime_type: str | None
        if isinstance(value, Upload):
            if not value.data:
                raise _bad("file must be non-empty")
            data, file_name, mime_type = value.data, value.filename, value.content_type
        elif isinstance(value, str) and value:
            meta = self._file_meta.get(value)
            if meta is None:
                raise _bad("wrong file identifier/HTTP URL specified")
            if meta.kind != kind:
                raise _bad(f"can't use file of type {meta.kind.title()} as {kind.title()}")
            data, file_name, mime_type = self.files[value], meta.file_name, meta.mime_type
        else:
            raise _bad(f"there is no {kind} in the request")
        if kind == "photo":
            if (refusal := _photo_refusal(data)) is not None:
                raise refusal
            sizes = self._photo_sizes(data)
            content: dict[str, Any] = {"photo": sizes}
            fields: dict[str, Any] = {"photo": sizes[-1]["file_id"]}
        else:
            document = self._document(data, file_name or "document",
                                      mime_type or "application/octet-stream")
            content, fields = {"document": document}, {"document": document}
        if caption:
            content["caption"] = plain
            if entities:
                content["caption_entities"] = entities
        return self._record_bot_message(
            chat, delivery, content, caption=caption or None, plain=plain if caption else "",
            entities=entities, parse_mode=params.get("parse_mode"), **fields,
        )

    def _editable(self, params: Params) -> SentMessage:
        if "inline_message_id" in params:
            raise _bad("MESSAGE_ID_INVALID")
        chat = self._chat(_need(params, "chat_id"))
        key = (chat["id"], _int(params, "message_id"))
        sent = self._sent.get(key)
        if sent is None or sent.deleted:
            if key in self._messages and key not in self._deleted:
                raise _bad("message can't be edited")
            raise _bad("message to edit not found")
        return sent

    def _apply_edit(self, sent: SentMessage, markup: dict[str, Any] | None,
                    content: dict[str, Any], **fields: Any) -> dict[str, Any]:
        sent.history.append(replace(sent, history=[]))
        raw = {k: v for k, v in sent.raw.items()
               if k not in ("text", "entities", "caption", "caption_entities", "reply_markup")}
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
            raise _bad("there is no text in the message to edit")
        text = params.get("text")
        plain, entities = self._formatted(
            text, params.get("parse_mode"), params.get("entities"), caption=False
        )
        # Leaving reply_markup out of an edit removes the keyboard, as on Telegram.
        markup = _check_inline_keyboard(params.get("reply_markup"))
        if (plain, entities, markup) == (sent.plain, sent.entities, sent.reply_markup):
            raise _bad(NOT_MODIFIED)
        content = {"text": plain} | ({"entities": entities} if entities else {})
        return self._apply_edit(sent, markup, content, text=text, plain=plain,
                                entities=entities, parse_mode=params.get("parse_mode"))

    def _edit_caption(self, params: Params) -> dict[str, Any]:
        sent = self._editable(params)
        if sent.photo is None and sent.document is None:
            raise _bad("there is no caption in the message to edit")
        caption = params.get("caption")
        plain, entities = self._formatted(
            caption, params.get("parse_mode"), params.get("caption_entities"), caption=True
        )
        markup = _check_inline_keyboard(params.get("reply_markup"))
        if (plain, entities, markup) == (sent.plain, sent.entities, sent.reply_markup):
            raise _bad(NOT_MODIFIED)
        content: dict[str, Any] = {"caption": plain} if plain else {}
        if entities:
            content["caption_entities"] = entities
        return self._apply_edit(sent, markup, content, caption=caption or None,
                                plain=plain, entities=entities,
                                parse_mode=params.get("parse_mode"))

    def _edit_reply_markup(self, params: Params) -> dict[str, Any]:
        sent = self._editable(params)
        markup = _check_inline_keyboard(params.get("reply_markup"))
        if markup == sent.reply_markup:
            raise _bad(NOT_MODIFIED)
        content = {k: v for k, v in sent.raw.items()
                   if k in ("text", "entities", "caption", "caption_entities")}
        return self._apply_edit(sent, markup, content)

    def _delete_message(self, params: Params) -> bool:
        chat = self._chat(_need(params, "chat_id"))
        key = (chat["id"], _int(params, "message_id"))
        message = self._messages.get(key)
        if message is None or key in self._deleted:
            raise _bad("message to delete not found")
        group = self._groups.get(chat["id"])
        if key not in self._sent and group is not None and not group.bot_is_admin:
            raise _bad("message can't be deleted")
        self._deleted.add(key)
        if key in self._sent:
            self._sent[key].deleted = True
        return True

    def _delete_webhook(self, params: Params) -> bool:
        if params.get("drop_pending_updates"):
            self._queue.clear()
            self._notify()
        return True

    def _delete_my_commands(self, params: Params) -> bool:
        self._commands.pop(self._scope_key(params), None)
        return True

    def _answer_callback_query(self, params: Params) -> bool:
        query_id = str(params.get("callback_query_id", ""))
        if query_id not in self._queries or query_id in self._answers:
            raise _bad(QUERY_TOO_OLD)
        text = params.get("text")
        if text is not None and len(str(text)) > 200:
            raise _bad("MESSAGE_TOO_LONG")
        self._answers[query_id] = {
            "text": text, "show_alert": bool(params.get("show_alert")),
            "url": params.get("url"), "cache_time": params.get("cache_time"),
        }
        return True

    def _get_file(self, params: Params) -> dict[str, Any]:
        file_id = str(_need(params, "file_id"))
        meta = self._file_meta.get(file_id)
        if meta is None:
            raise _bad("wrong file_id or the file is temporarily unavailable")
        if len(self.files[file_id]) > 20 * 1024 * 1024:
            raise _bad("file is too big")
        return {"file_id": file_id, "file_unique_id": meta.unique_id,
                "file_size": len(self.files[file_id]), "file_path": meta.path}

    def _decide_join_request(self, params: Params, decision: str) -> bool:
        chat_id, user_id = _int(params, "chat_id"), _int(params, "user_id")
        group = self._groups.get(chat_id)
        if group is None:
            raise _bad("chat not found")
        if not group.bot_is_admin:
            raise _bad("CHAT_ADMIN_REQUIRED")
        if self.join_requests.get((chat_id, user_id)) != "pending":
            raise _bad("HIDE_REQUESTER_MISSING")
        self.join_requests[(chat_id, user_id)] = decision
        if decision == "approved":
            group.members.add(user_id)
        return True

    def _get_chat(self, params: Params) -> dict[str, Any]:
        chat_id = _int(params, "chat_id")
        if chat_id in self._groups:
            chat = self._groups[chat_id].chat
        elif chat_id in self._users:
            chat = self._private_chat(chat_id)
        else:
            raise _bad("chat not found")
        gifts = dict.fromkeys(("unlimited_gifts", "limited_gifts", "unique_gifts",
                               "premium_subscription", "gifts_from_channels"), False)
        return chat | {"accent_color_id": 0, "max_reaction_count": 11,
                       "accepted_gift_types": gifts}

    def _get_chat_member(self, params: Params) -> dict[str, Any]:
        chat_id, user_id = _int(params, "chat_id"), _int(params, "user_id")
        if user_id == self.bot_user["id"]:
            user = self.bot_user
        elif user_id in self._users:
            user = self._users[user_id]
        else:
            raise _bad("user not found")
        group = self._groups.get(chat_id)
        if group is None:
            if chat_id != user_id or chat_id not in self._users:
                raise _bad("chat not found")
            return {"user": user, "status": "member"}
        if user_id == self.bot_user["id"] and group.bot_is_admin:
            rights = dict.fromkeys((
                "can_manage_chat", "can_delete_messages", "can_manage_video_chats",
                "can_restrict_members", "can_change_info", "can_invite_users",
                "can_post_stories", "can_edit_stories", "can_delete_stories",
            ), True)
            return {"user": user, "status": "administrator", "can_be_edited": False,
                    "is_anonymous": False, "can_promote_members": False} | rights
        status = "member" if user_id in group.members or user_id == self.bot_user["id"] else "left"
        return {"user": user, "status": status}

    def _send_chat_action(self, params: Params) -> bool:
        self._chat(_need(params, "chat_id"))
        if params.get("action") not in _CHAT_ACTIONS:
            raise _bad("wrong parameter action in request")
        return True

    def _scope_key(self, params: Params) -> tuple[str, int | None, int | None, str]:
        scope = params.get("scope") or {"type": "default"}
        kind = scope.get("type") if isinstance(scope, dict) else None
        if kind not in _COMMAND_SCOPES:
            raise _bad("can't parse BotCommandScope JSON object")
        chat_id = scope.get("chat_id")
        if chat_id is not None and int(chat_id) not in self._users | self._groups:
            raise _bad("chat not found")
        return (kind, None if chat_id is None else int(chat_id), scope.get("user_id"),
                str(params.get("language_code") or ""))

    def _set_my_commands(self, params: Params) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise _bad("can't parse commands JSON object")
        if len(commands) > 100:
            raise _bad("BOT_COMMANDS_TOO_MUCH")
        for command in commands:
            if not _COMMAND_NAME.fullmatch(str(command.get("command", ""))):
                raise _bad("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise _bad("BOT_COMMAND_DESCRIPTION_INVALID")
        key = self._scope_key(params)
        if commands:
            self._commands[key] = [
                {"command": c["command"], "description": c["description"]} for c in commands
            ]
        else:
            self._commands.pop(key, None)
        return True


class InProcessRequest(BaseRequest):
    """A PTB request object that answers from an emulator in the same process, without HTTP.

    The benchmark uses it to time the bot's own work: the same Bot API semantics and
    refusals as over HTTP, none of the network cost.
    """

    def __init__(self, emulator: BotApiEmulator) -> None:
        self.emulator = emulator

    @property
    def read_timeout(self) -> float | None:
        return None

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None, **_: Any) -> tuple[int, bytes]:
        marker = f"/file/bot{self.emulator.token}/"
        url = unquote(url)
        if marker in url:  # a file download (getFile's file_path)
            file_id = self.emulator._file_paths.get(url.split(marker, 1)[1])
            if file_id is None:
                return 404, json.dumps(_error_body(404, "Not Found")).encode()
            self.emulator.downloaded.append(file_id)
            return 200, self.emulator.files[file_id]
        name = url.rstrip("/").rsplit("/", 1)[-1]
        params = {key: _decode_field(key, value) for key, value in (request_data.json_parameters if request_data else {}).items()}
        self.emulator.calls.append((name, params))
        try:
            result = await self.emulator._perform(name, params)
        except _Refused as refusal:
            self.emulator._refuse(name, params, refusal)
            return refusal.code, json.dumps(_error_body(refusal.code, refusal.description)).encode()
        return 200, json.dumps({"ok": True, "result": result}).encode()

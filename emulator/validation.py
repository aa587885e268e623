"""Bot API validation: what Telegram refuses, with Telegram's wording.

Each check raises ``Refused`` with the error code and description Telegram would send,
so the bot meets the emulator's refusals exactly as it would meet Telegram's. When the
shared api.json is there, every call is also checked against the Bot API description
(method names, unknown and missing parameters); without it the project still passes.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any

from aiohttp.web_request import FileField

from emulator.limits import (
    CALLBACK_DATA_LIMIT,
    CAPTION_LIMIT,
    PHOTO_MAX_BYTES,
    PHOTO_MAX_RATIO,
    PHOTO_MAX_SIDES,
    TEXT_LIMIT,
    HtmlError,
    image_size,
    parse_html,
    utf16_len,
)
from emulator.records import Params, Upload

ApiSpec = dict[str, dict[str, bool]]

# PTB sends form fields with non-string values JSON-encoded and strings as they are;
# these fields are strings by definition and must never be JSON-decoded ("123" stays text).
_STRING_FIELDS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "callback_query_id",
        "inline_message_id",
        "file_id",
        "photo",
        "document",
        "url",
        "action",
        "language_code",
        "business_connection_id",
        "message_effect_id",
        "title",
        "description",
        "short_description",
        "name",
        "emoji",
        "first_name",
        "last_name",
        "custom_title",
        "secret_token",
    }
)
_BUTTON_ACTIONS = frozenset(
    {
        "callback_data",
        "url",
        "web_app",
        "login_url",
        "switch_inline_query",
        "switch_inline_query_current_chat",
        "switch_inline_query_chosen_chat",
        "copy_text",
        "callback_game",
        "pay",
    }
)


class Refused(Exception):
    """A call Telegram would refuse: the HTTP error code and Telegram's description."""

    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description


def bad(description: str) -> Refused:
    return Refused(400, f"Bad Request: {description}")


def error_body(code: int, description: str, retry_after: int | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return body


def decode_field(name: str, value: Any) -> Any:
    """Undo PTB's form encoding: JSON for everything that is not a plain string field."""
    if isinstance(value, FileField):
        return Upload(value.filename, value.content_type, value.file.read())
    if not isinstance(value, str) or name in _STRING_FIELDS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def need(params: Params, name: str) -> Any:
    value = params.get(name)
    if value is None or value == "":
        raise bad(f'parameter "{name}" is required')
    return value


def as_int(params: Params, name: str) -> int:
    try:
        return int(need(params, name))
    except (TypeError, ValueError):
        raise bad(f'parameter "{name}" must be an integer') from None


def photo_refusal(data: bytes) -> Refused | None:
    """Telegram's refusal of these bytes as a photo (they may still go as a document)."""
    if len(data) > PHOTO_MAX_BYTES:
        return bad("PHOTO_SAVE_FILE_INVALID")
    size = image_size(data)
    if size is not None:
        width, height = size
        if min(size) == 0 or width + height > PHOTO_MAX_SIDES or max(size) > PHOTO_MAX_RATIO * min(size):
            return bad("PHOTO_INVALID_DIMENSIONS")
    return None


def check_inline_keyboard(markup: Any) -> dict[str, Any] | None:
    """Validate reply_markup like Telegram; an empty inline keyboard means none."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" not in markup:
        return markup  # reply keyboards, ForceReply, ReplyKeyboardRemove: accepted as they are
    rows = markup["inline_keyboard"]
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays')
    for button in (b for row in rows for b in row):
        if not isinstance(button, dict) or not isinstance(button.get("text"), str):
            raise bad('can\'t parse inline keyboard button: Field "text" must be of type String')
        if not button["text"]:
            raise bad("BUTTON_TEXT_INVALID")
        if not _BUTTON_ACTIONS & button.keys():
            raise bad("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard")
        if "callback_data" in button:
            data = button["callback_data"]
            size = len(data.encode("utf-8")) if isinstance(data, str) else 0
            if not 1 <= size <= CALLBACK_DATA_LIMIT:
                raise bad("BUTTON_DATA_INVALID")
        if "url" in button and not re.match(r"(https?|tg)://\S", str(button["url"])):
            raise bad(f'inline keyboard button URL "{button["url"]}" is invalid: Wrong HTTP URL')
    return markup if any(rows) else None


def formatted(text: Any, parse_mode: Any, entities: Any, *, caption: bool) -> tuple[str, list[dict[str, Any]]]:
    """Parse and measure text or a caption as Telegram does before accepting it."""
    text = "" if text is None else str(text)
    mode = str(parse_mode or "").lower()
    if mode == "html":
        try:
            plain, parsed = parse_html(text)
        except HtmlError as error:
            raise bad(f"can't parse entities: {error}") from None
    elif mode in ("", "markdown", "markdownv2"):
        plain, parsed = text, list(entities or [])
    else:
        raise bad("unsupported parse_mode")
    stripped = plain.strip()
    if caption:
        if utf16_len(stripped) > CAPTION_LIMIT:
            raise bad("message caption is too long")
    elif not stripped:
        raise bad("message text is empty")
    elif utf16_len(stripped) > TEXT_LIMIT:
        raise bad("message is too long")
    return plain, parsed


# --- api.json ------------------------------------------------------------------------------


# The Bot API description in the shared folder beside the checkout (CI lays a copy there too).
SHARED_API_SPEC = Path(__file__).resolve().parents[2] / "shared/telegram-bot-api/api.json"


def default_api_spec() -> Path | None:
    """The shared api.json beside the project, when this checkout has it."""
    return SHARED_API_SPEC if SHARED_API_SPEC.exists() else None


@functools.cache
def load_spec(path: Path | None) -> ApiSpec | None:
    """Method name -> {field name: required}, from the shared api.json.

    Read once per process (650 KB of JSON, more than a test's own work) and shared, read-only,
    by every emulator."""
    if path is None:
        return None
    methods = json.loads(path.read_text(encoding="utf-8"))["methods"]
    return {name: {f["name"]: bool(f.get("required")) for f in spec.get("fields", [])} for name, spec in methods.items()}


# PTB's Defaults add these to calls that lack them (parse_mode to editMessageReplyMarkup, for one);
# Telegram ignores a parameter a method does not have, so these pass while any other stranger is refused.
PTB_DEFAULTS = frozenset({"parse_mode", "link_preview_options", "disable_notification", "protect_content"})


def check_spec(spec: ApiSpec | None, method: str, params: Params) -> None:
    """Refuse a call the Bot API description does not allow (no description: no check)."""
    if spec is None:
        return
    fields = spec.get(method)
    if fields is None:
        raise Refused(404, "Not Found: method not found")
    unknown = sorted(params.keys() - fields.keys() - PTB_DEFAULTS)
    if unknown:
        raise bad(f'unknown parameter "{unknown[0]}" for method {method}')
    for name, required in fields.items():
        if required and params.get(name) in (None, ""):
            raise bad(f'parameter "{name}" is required')

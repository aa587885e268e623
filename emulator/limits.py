"""Telegram's limits and its HTML parse mode, as the emulator enforces them.

Text is measured as Telegram measures it (UTF-16 code units), HTML is parsed as tdlib
parses it, with tdlib's error wording, so a message the emulator accepts is one
Telegram would accept too.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from typing import Any

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


def utf16_len(text: str) -> int:
    """Telegram measures text in UTF-16 code units (an emoji counts 2)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


_HTML_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "tg-emoji",
        "code",
        "pre",
        "blockquote",
    }
)
_ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "code": "code",
    "pre": "pre",
    "a": "text_link",
    "tg-emoji": "custom_emoji",
    "blockquote": "blockquote",
}
_NAMED_REFS = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_CHAR_REF = re.compile(r"&(?:#x(?P<hex>[0-9a-fA-F]{1,8})|#(?P<dec>[0-9]{1,8})|(?P<name>[A-Za-z]+));")
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
            tag = text[begin + 1 : i].lower()
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
            raise HtmlError(f'{fail("Unmatched end tag", begin)}, expected "</{opened.tag}>", found "</{end_tag}>"')
        length = offset - opened.offset
        if opened.tag == "code" and opened.argument and stack and stack[-1].tag == "pre":
            stack[-1].argument = opened.argument  # <pre><code class="language-x"> is one pre entity
            continue
        if length == 0 or (opened.tag == "a" and not opened.argument):
            continue
        entity: dict[str, Any] = {
            "type": _ENTITY_TYPES[opened.tag],
            "offset": opened.offset,
            "length": length,
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

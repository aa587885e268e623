"""Messages that grow with data, cut to Telegram's size on element boundaries.

Telegram refuses a text over 4096 characters (counted in UTF-16 code units, so an
emoji counts twice) and any HTML with a tag or an entity cut in half. Every list, card
and summary that can grow is built as lines (elements) here: whole lines go into
as many messages as needed, and a single line too long for one message is shortened
between tags and entities, with every tag it opened closed again.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from telegram import Update

from bot.records.outbox import Buttons
from handlers.common import MAX_TEXT, Page, reply, show

ELLIPSIS = "…"
PAGE_UNITS = 3500  # a page's lines; leaves room for a header and footer under 4096
# Tags, entities and single characters: the pieces a cut may fall between.
_TOKEN = re.compile(r"<[^>]*>|&(?:#[0-9]+|#x[0-9a-fA-F]+|[A-Za-z]+);|[\s\S]")
_TAG = re.compile(r"^<\s*(/?)\s*([A-Za-z-]+)")


def utf16_len(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def clip_text(text: str, limit: int) -> str:
    """Shorten plain text (before escaping) to `limit` UTF-16 units, ending with an ellipsis."""
    if utf16_len(text) <= limit:
        return text
    out: list[str] = []
    size = 1  # the ellipsis
    for char in text:
        size += 2 if ord(char) > 0xFFFF else 1
        if size > limit:
            break
        out.append(char)
    return "".join(out) + ELLIPSIS


def clip_html(text: str, limit: int) -> str:
    """Shorten HTML to at most `limit` UTF-16 units (markup included), never inside a tag or
    an entity, closing every tag left open and ending with an ellipsis."""
    if utf16_len(text) <= limit:
        return text
    out: list[str] = []
    open_tags: list[str] = []
    size = 0
    for token in _TOKEN.findall(text):
        tag = _TAG.match(token) if token.startswith("<") else None
        closing_after = sum(len(name) + 3 for name in open_tags)  # "</b>" for each open tag
        if tag and tag.group(1):  # a closing tag always fits: it was reserved when opened
            if open_tags and open_tags[-1] == tag.group(2).lower():
                open_tags.pop()
            out.append(token)
            size += utf16_len(token)
            continue
        cost = utf16_len(token) + (len(tag.group(2)) + 3 if tag else 0)
        if size + cost + closing_after + 1 > limit:
            break
        out.append(token)
        size += utf16_len(token)
        if tag:
            open_tags.append(tag.group(2).lower())
    out.append(ELLIPSIS)
    out += [f"</{name}>" for name in reversed(open_tags)]
    return "".join(out)


def split_html(lines: Sequence[str], limit: int = MAX_TEXT) -> list[str]:
    """Group rendered lines into messages of at most `limit` UTF-16 units each, cutting only
    between lines; a line too long on its own is clipped with `clip_html`. Each line must be
    whole HTML (every tag it opens, it closes)."""
    parts: list[list[str]] = [[]]
    size = 0
    for raw in lines:
        line = clip_html(raw, limit)
        cost = utf16_len(line) + (1 if parts[-1] else 0)
        if parts[-1] and size + cost > limit:
            parts.append([])
            size, cost = 0, utf16_len(line)
        parts[-1].append(line)
        size += cost
    return ["\n".join(part) for part in parts if part] or [""]


async def send_long(update: Update, lines: Sequence[str], buttons: Buttons = (), *, edit: bool = False) -> None:
    """Send lines as one message or several (buttons under the last); `edit` replaces the
    pressed message with the first part."""
    parts = split_html(lines)
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        if index == 0 and edit:
            await show(update, part, buttons if last else ())
        else:
            await reply(update, part, buttons if last else ())


def page_of(lines: Sequence[str], number: int, per_page: int = 10, limit: int = PAGE_UNITS) -> Page:
    """Like `paginate`, but measured as Telegram measures (UTF-16), with each line clipped to fit:
    a page of the longest names in emoji still goes through."""
    pages: list[list[str]] = [[]]
    size = 0
    for raw in lines:
        line = clip_html(raw, limit)
        cost = utf16_len(line) + 1
        if pages[-1] and (len(pages[-1]) >= per_page or size + cost > limit):
            pages.append([])
            size = 0
        pages[-1].append(line)
        size += cost
    number = max(0, min(number, len(pages) - 1))
    return Page(pages[number], number, len(pages))

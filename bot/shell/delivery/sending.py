"""The Bot API calls that send or edit an outbox item, each with the fallback for Telegram's refusals.

A picture Telegram will not take as a photo goes as a file, then as text with a note; HTML Telegram
cannot parse, or text over its limit, goes as shortened plain text; an edit of a copy of the other
kind (text for a caption, or the other way round) is tried again as that kind. Whatever is still
refused is raised for the outbox to decide on.
"""

from __future__ import annotations

import html
import logging
import re
from pathlib import Path

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile
from telegram.constants import ParseMode
from telegram.error import BadRequest, NetworkError, TelegramError

from bot.records.outbox import Buttons, DeliveredAs, OutboxItem

log = logging.getLogger(__name__)
STORED_PICTURES = ("evidence/", "charts/")  # a picture's path under the data folder; anything else is a Telegram file id

# Telegram will not take this picture as a photo (size, dimensions, format, a stale file id).
_PICTURE_REFUSALS = (
    "photo_invalid",
    "photo_save_file_invalid",
    "photo_ext_invalid",
    "photo_content",
    "image_process_failed",
    "wrong file identifier",
    "wrong remote file",
    "wrong type of the web page content",
    "failed to get http url content",
    "can't use file of type",
    "type of file mismatch",
    "file must be non-empty",
    "file is too big",
    "entity too large",
)
TOO_LARGE = ("entity too large", "file too large")
# The text itself is refused: sent again as plain text inside the limit.
_TEXT_REFUSALS = ("can't parse entities", "message is too long", "caption is too long", "text is empty")
# The copy is not what the edit expects (a text edit of a picture, or the other way round).
_WRONG_KIND = ("there is no text in the message to edit", "there is no caption in the message to edit")
_TAG = re.compile(r"</?[a-zA-Z][^>]*>")
MAX_TEXT = 4096
MAX_CAPTION = 1024


def refusal(exc: TelegramError, kinds: tuple[str, ...]) -> bool:
    """True when Telegram's words name one of these refusals."""
    return any(kind in exc.message.lower() for kind in kinds)


def picture_refused(exc: TelegramError) -> bool:
    """True when Telegram will not take a picture as a photo (it may still go as a file)."""
    return refusal(exc, _PICTURE_REFUSALS)


def plain_text(text: str, limit: int) -> str:
    """Our HTML as plain text within `limit` UTF-16 units: the last resort when Telegram refuses it."""
    plain = html.unescape(_TAG.sub("", text)).strip() or "(empty message)"
    if len(plain.encode("utf-16-le")) // 2 <= limit:
        return plain
    while len(plain.encode("utf-16-le")) // 2 > limit - 1:
        plain = plain[: -max(1, (len(plain.encode("utf-16-le")) // 2 - limit) // 2)]
    return plain + "…"


def with_note(text: str, note: str) -> str:
    """The text a picture's message goes out as when the picture has to be left out."""
    return f"{text}\n\n{note}" if note else text


def keyboard(buttons: Buttons) -> InlineKeyboardMarkup | None:
    if not buttons:
        return None
    return InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in buttons])


async def send(bot: Bot, item: OutboxItem, data_dir: Path) -> tuple[int, DeliveredAs | None]:
    """Send or edit; returns the message id and how a picture went out (photo, document, text)."""
    markup = keyboard(item.buttons)
    if item.edit_of:
        await _edit(bot, item, markup)
        return item.edit_of, item.delivered_as
    if item.photo:
        return await _send_picture(bot, item, markup, data_dir)
    return await _send_text(bot, item.chat_id, item.text, markup), None


async def _send_text(bot: Bot, chat_id: int, text: str, markup: InlineKeyboardMarkup | None) -> int:
    try:
        message = await bot.send_message(chat_id, text, parse_mode=ParseMode.HTML, reply_markup=markup)
    except BadRequest as exc:
        if not refusal(exc, _TEXT_REFUSALS):
            raise
        log.error("Telegram refused a message to chat %s (%s); sent as plain text", chat_id, exc.message)
        message = await bot.send_message(chat_id, plain_text(text, MAX_TEXT), parse_mode=None, reply_markup=markup)
    return message.message_id


async def _send_picture(
    bot: Bot, item: OutboxItem, markup: InlineKeyboardMarkup | None, data_dir: Path
) -> tuple[int, DeliveredAs]:
    """As a photo; if Telegram will not take it as one, as a file; else as text with the note."""
    stored: bytes | None = None
    if item.photo.startswith(STORED_PICTURES):
        path = data_dir / item.photo
        try:  # read here: PTB would report a missing file as a network error, retried for ever
            stored = path.read_bytes()
        except OSError as exc:
            log.error("Outbox item %s: the stored picture cannot be read (%s)", item.id, type(exc).__name__)
            return await _send_text(bot, item.chat_id, with_note(item.text, item.photo_note), markup), DeliveredAs.TEXT
    senders = ((DeliveredAs.PHOTO, bot.send_photo), (DeliveredAs.DOCUMENT, bot.send_document))
    for kind, send_as in senders:
        picture = InputFile(stored, filename=Path(item.photo).name) if stored is not None else item.photo
        try:
            message = await send_as(item.chat_id, picture, caption=item.text, parse_mode=ParseMode.HTML, reply_markup=markup)
            return message.message_id, kind
        except BadRequest as exc:
            if not refusal(exc, _PICTURE_REFUSALS + _TEXT_REFUSALS):
                raise
            why = exc.message
        except NetworkError as exc:  # PTB reports Telegram's 413 (file too large) as a network error
            if not refusal(exc, TOO_LARGE):
                raise
            why = exc.message
        log.warning("Outbox item %s: the picture was not taken as a %s (%s)", item.id, kind, why)
    return await _send_text(bot, item.chat_id, with_note(item.text, item.photo_note), markup), DeliveredAs.TEXT


async def _edit(bot: Bot, item: OutboxItem, markup: InlineKeyboardMarkup | None) -> None:
    """Edit a copy; a copy of the other kind, or text Telegram refuses, gets a second try."""
    text, caption = item.text, item.is_caption
    mode: ParseMode | None = ParseMode.HTML
    for last_try in (False, False, True):
        try:
            if caption:
                await bot.edit_message_caption(item.chat_id, item.edit_of, caption=text, parse_mode=mode, reply_markup=markup)
            else:
                await bot.edit_message_text(text, item.chat_id, item.edit_of, parse_mode=mode, reply_markup=markup)
            return
        except BadRequest as exc:
            if last_try:
                raise
            if refusal(exc, _WRONG_KIND):
                caption = not caption
            elif mode is not None and refusal(exc, _TEXT_REFUSALS):
                log.error("Telegram refused an edit in chat %s (%s); sent as plain text", item.chat_id, exc.message)
                text, mode = plain_text(text, MAX_CAPTION if caption else MAX_TEXT), None
            else:
                raise

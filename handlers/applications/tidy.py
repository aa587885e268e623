"""Buttons come off a message once its step is over, so no live button is left under an old step."""

from __future__ import annotations

import logging

from telegram import Bot
from telegram.error import TelegramError

log = logging.getLogger(__name__)


async def drop_buttons(bot: Bot, chat_id: int, *message_ids: int) -> None:
    """Take the buttons off these messages, leaving their words (0: no message to tidy)."""
    for message_id in message_ids:
        if not message_id:
            continue
        try:
            await bot.edit_message_reply_markup(chat_id=chat_id, message_id=message_id)
        except TelegramError as exc:  # already without buttons, deleted, or the network: only tidiness is lost
            log.info("Buttons of an old step not removed (%s)", type(exc).__name__)

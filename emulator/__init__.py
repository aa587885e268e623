"""A local Telegram Bot API emulator: the real bot talks HTTP to it instead of Telegram.

End-to-end tests and the terminal demo run the unmodified PTB ``Application`` against
this server (``base_url=emu.base_url``, ``base_file_url=emu.base_file_url``) and act as
users through plain Python calls (``send_text``, ``press``, ``join_request``...); the
benchmarks use ``InProcessRequest`` for the same answers without HTTP.

It refuses what Telegram refuses (bad HTML, over-long text, 65-byte callback data,
"message is not modified", users who never started the bot...), with Telegram's
wording, and records every refusal so a test can assert the bot never provoked one.
It can also misbehave on purpose (429, 500, dropped connections, slow answers) so
fault-tolerance tests see what a flaky network does to the bot.

This is tooling for the demo, the tests and the benchmarks, not part of the bot: the bot
never imports it, and it needs aiohttp (the ``demo`` and ``test`` extras).
"""

from emulator.core import BotApiEmulator
from emulator.inprocess import InProcessRequest
from emulator.limits import (
    CALLBACK_DATA_LIMIT,
    CAPTION_LIMIT,
    TEXT_LIMIT,
    HtmlError,
    image_size,
    parse_html,
    utf16_len,
)
from emulator.records import FaultPlan, InjectedFault, Refusal, SentMessage, Upload
from emulator.settle import settle
from emulator.validation import default_api_spec

__all__ = [
    "CALLBACK_DATA_LIMIT",
    "CAPTION_LIMIT",
    "TEXT_LIMIT",
    "BotApiEmulator",
    "FaultPlan",
    "HtmlError",
    "InProcessRequest",
    "InjectedFault",
    "Refusal",
    "SentMessage",
    "Upload",
    "default_api_spec",
    "image_size",
    "parse_html",
    "settle",
    "utf16_len",
]

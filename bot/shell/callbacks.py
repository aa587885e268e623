"""Callback data: a short, versioned format built and parsed in one place.

`1:inc:ack:42` = version 1, feature "inc", action "ack", arguments ("42",). Anything that
does not parse (an old version, forged or truncated data) is None, and the caller says
the button has expired.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.numbers import TELEGRAM_USER_ID_MAX, parse_number

VERSION = "1"
MAX_BYTES = 64  # Telegram's limit for callback_data
_PART = re.compile(r"^[A-Za-z0-9_.\-]{1,40}$")


@dataclass(frozen=True)
class Callback:
    feature: str
    action: str
    args: tuple[str, ...] = ()

    def int_arg(self, index: int) -> int | None:
        return parse_number(self.args[index], TELEGRAM_USER_ID_MAX, minimum=0) if index < len(self.args) else None


def pack(feature: str, action: str, *args: str | int) -> str:
    parts = [VERSION, feature, action, *(str(a) for a in args)]
    if not all(_PART.match(p) for p in parts):
        raise ValueError(f"callback parts must be short and plain: {parts!r}")
    data = ":".join(parts)
    if len(data.encode()) > MAX_BYTES:
        raise ValueError(f"callback data over {MAX_BYTES} bytes: {data!r}")
    return data


def unpack(data: str | None) -> Callback | None:
    if not data or len(data.encode()) > MAX_BYTES:
        return None
    parts = data.split(":")
    if len(parts) < 3 or parts[0] != VERSION or not all(_PART.match(p) for p in parts):
        return None
    return Callback(parts[1], parts[2], tuple(parts[3:]))

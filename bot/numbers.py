"""Numbers people type or buttons carry: ASCII digits only, inside a range the caller states.

`str.isdigit()` is true for "²" and `int()` reads "٣" (Arabic-Indic three), so both let
text through that either crashes a handler or names a number nobody typed. Every command
and button that takes a number parses it here.
"""

from __future__ import annotations

import re

# Bot API: a user id "has at most 52 significant bits" (and is positive).
TELEGRAM_USER_ID_MAX = 2**52 - 1

_ASCII_DIGITS = re.compile(r"[0-9]+")


def parse_number(text: str, maximum: int, minimum: int = 1) -> int | None:
    """A whole number between minimum and maximum written in ASCII digits; None for anything else."""
    text = text.strip()
    if len(text) > len(str(maximum)) or not _ASCII_DIGITS.fullmatch(text):
        return None
    value = int(text)
    return value if minimum <= value <= maximum else None


def parse_user_id(text: str) -> int | None:
    """A Telegram user id as staff type it ("123456789"); None for anything Telegram could not issue."""
    return parse_number(text, TELEGRAM_USER_ID_MAX)

"""Every button pattern the bot listens for, pressed with data that matches its prefix but not its
arguments (forged, or from an older version): each press is answered, so no phone is left spinning,
and nothing is sent or changed."""

from __future__ import annotations

import re
from typing import Any

from telegram.ext import BaseHandler, CallbackQueryHandler, ConversationHandler

from tests.conftest import HEAD, BotHarness


def _handlers(application: Any) -> list[BaseHandler[Any, Any, Any]]:
    found: list[BaseHandler[Any, Any, Any]] = []
    pending = [h for group in application.handlers.values() for h in group]
    while pending:
        handler = pending.pop()
        if isinstance(handler, ConversationHandler):
            pending += handler.entry_points + handler.fallbacks + [h for hs in handler.states.values() for h in hs]
        else:
            found.append(handler)
    return found


def forged_data(pattern: str) -> str | None:
    """Data that matches `pattern` up to its arguments, then carries ones no button ever had."""
    prefix = pattern.lstrip("^").rstrip("$")
    prefix = re.sub(r"\(\?:([^|)]*)[^)]*\)|\(([^|)]*)[^)]*\)", lambda m: m.group(1) or m.group(2) or "", prefix)
    prefix = prefix.replace("\\", "")
    for data in (f"{prefix}zz:%%", f"{prefix}zz"):
        if re.match(pattern, data) and len(data.encode()) <= 64:
            return data
    return None


async def test_every_forged_press_is_answered_and_changes_nothing(bot: BotHarness) -> None:
    [menu] = await bot.say(HEAD, "/help")
    patterns = sorted(
        {
            h.pattern.pattern
            for h in _handlers(bot.app)
            if isinstance(h, CallbackQueryHandler) and isinstance(h.pattern, re.Pattern)
        }
    )
    assert len(patterns) > 20, "the bot's buttons were found"
    silent = []
    for pattern in patterns:
        data = forged_data(pattern)
        if data is None:
            continue
        mark = bot.emu.mark()
        answer = await bot.press(HEAD, menu, data=data)
        if answer is None:
            silent.append(data)
        assert [m.plain for m in bot.emu.since(mark, HEAD) if m.plain != menu.plain] == [], data
    assert silent == [], f"presses left spinning: {silent}"

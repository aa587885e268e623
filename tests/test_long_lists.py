"""Lists that grow with the school: the longest names Telegram allows still reach the phone (issue 12, point 12)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import Config
from tests.conftest import HEAD, BotHarness, make_config

MANY = [6100 + n for n in range(30)]


@pytest.fixture
def config(data_dir: Path) -> Config:
    return make_config(data_dir, roles={"admins": MANY})


async def test_staff_with_the_longest_names_page_within_telegrams_limit(bot: BotHarness) -> None:
    for user in MANY:  # 64 + 64 characters, each an emoji: what Telegram counts is twice as long
        bot.emu.add_user(user, "🦊" * 64, "🐧" * 64)
        await bot.say(user, "/help")
    [first] = await bot.say(HEAD, "/staff")
    assert "Staff with access" in first.plain and "Page 1 of" in first.plain
    while "Next ›" in [label for label, _ in first.buttons]:
        await bot.press(HEAD, first, "Next ›")
    assert not bot.emu.unexpected_refusals(), bot.emu.unexpected_refusals()

"""/check twice in a row starts over: the second /check is answered, never lost in the first one's wait."""

from __future__ import annotations

from tests.conftest import ADMIN, BotHarness
from tests.test_consent_bot import load


async def test_check_alone_twice_asks_for_the_names_again_and_the_names_are_checked(bot: BotHarness) -> None:
    load(bot)
    [prompt] = await bot.say(ADMIN, "/check")
    assert "one per line" in prompt.plain
    [again] = await bot.say(ADMIN, "/check")
    assert "one per line" in again.plain
    [ask] = await bot.say(ADMIN, "Grace Lee")
    await bot.press(ADMIN, ask, "press and publicity")
    assert "OK to upload" in bot.last(ADMIN).plain


async def test_check_with_names_while_waiting_for_names_checks_those_names(bot: BotHarness) -> None:
    load(bot)
    await bot.say(ADMIN, "/check")
    [ask] = await bot.say(ADMIN, "/check\nGrace Lee")
    assert "1 pupil listed" in ask.plain
    await bot.press(ADMIN, ask, "press and publicity")
    assert "OK to upload" in bot.last(ADMIN).plain

"""/status as the Head and SLT read it: one message saying whether the bot is healthy, in school time."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.clock import FakeClock
from bot.config import Config
from tests.conftest import ADMIN, ADMIN2, HEAD, SLT, STRANGER, BotHarness, make_config

# Wednesday 10 June 2026, 06:00 UTC = 07:00 in London (summer time): a time shown in UTC would read an hour early.
SUMMER = datetime(2026, 6, 10, 6, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(SUMMER)


@pytest.fixture
def config(data_dir: Path) -> Config:
    return make_config(data_dir, moderation={"days": ["mon", "tue", "wed", "thu", "fri"]})


async def test_status_shows_version_uptime_the_last_nudge_deliveries_disk_backups_and_retention(bot: BotHarness) -> None:
    for user in (HEAD, SLT, ADMIN, ADMIN2):
        await bot.say(user, "/help")
    bot.clock.set(datetime(2026, 6, 10, 7, 30, tzinfo=UTC))  # 08:30 in London: the nudge goes out
    await bot.tick()
    await bot.advance(minutes=95)

    [status] = await bot.say(SLT, "/status")
    text = status.plain
    assert "Version 0.1.0, running for 3 h 5 min (since today 07:00)" in text
    assert "Last moderation nudge: today 08:30, not checked yet." in text
    assert "Messages waiting for delivery: none." in text
    assert "People the bot cannot reach: none." in text
    assert "Data folder: " in text and "free on its disk: " in text
    assert "Backups: none configured" in text
    assert "Next retention check: Mon 15 Jun 09:00; nothing is due for deletion now." in text

    await bot.say(ADMIN, "/checked")
    [status] = await bot.say(HEAD, "/status")
    assert "Last moderation nudge: today 08:30, checked, all fine, today 10:05." in status.plain


async def test_status_names_people_the_bot_cannot_reach_and_what_waits_for_them(bot: BotHarness) -> None:
    for user in (HEAD, SLT, ADMIN, ADMIN2):
        await bot.say(user, "/help")
    bot.emu.block(ADMIN2)  # Alan blocked the bot: his nudge cannot be delivered
    bot.clock.set(datetime(2026, 6, 10, 7, 30, tzinfo=UTC))
    await bot.tick()
    [status] = await bot.say(SLT, "/status")
    assert "Messages waiting for delivery: 1, the oldest since today 08:30." in status.plain
    await bot.advance(minutes=61)  # delivery.give_up_after_minutes: retries end, the leaders are told
    [status] = await bot.say(SLT, "/status")
    assert "People the bot cannot reach: Alan Admin (since today 08:30)." in status.plain


@pytest.mark.parametrize("user", [ADMIN, STRANGER])
async def test_status_is_for_leaders_only(bot: BotHarness, user: int) -> None:
    [refusal] = await bot.say(user, "/status")
    assert "Version" not in refusal.plain and "Data folder" not in refusal.plain
    assert any(e.action == "status" and e.outcome.startswith("refused") for e in bot.audit())

"""Moderation times are school-local: the nudge and the deadline follow the clocks changing,
and the config's impossible moderation times are refused before the bot ever runs.

Default config: every day of the week is a moderation day, nudge 08:30, deadline 12:00, London.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from tests.conftest import ADMIN, HEAD, BotHarness
from tests.test_config import ROOT, run_cli


def nudges_for(bot: BotHarness, day: str) -> list:
    return [m for m in bot.emu.messages_to(ADMIN) if "Moderate the page" in m.plain and day in m.plain]


def alerts_for(bot: BotHarness, day: str) -> list:
    return [m for m in bot.emu.messages_to(HEAD) if "has not been moderated" in m.plain and day in m.plain]


async def at_utc(bot: BotHarness, year: int, month: int, day: int, hour: int, minute: int) -> None:
    bot.clock.set(datetime(year, month, day, hour, minute, tzinfo=UTC))
    await bot.tick()


async def test_last_sunday_of_march_nudges_at_0830_summer_time_which_is_0730_utc(bot: BotHarness) -> None:
    await at_utc(bot, 2027, 3, 27, 20, 0)  # Saturday evening, still GMT
    await at_utc(bot, 2027, 3, 28, 0, 59)  # clocks go forward at 01:00 UTC
    await at_utc(bot, 2027, 3, 28, 7, 29)
    assert nudges_for(bot, "Sun 28 Mar 2027") == []
    await at_utc(bot, 2027, 3, 28, 7, 30)  # 08:30 BST
    assert len(nudges_for(bot, "Sun 28 Mar 2027")) == 1

    await at_utc(bot, 2027, 3, 28, 10, 59)
    assert alerts_for(bot, "Sun 28 Mar 2027") == []
    await at_utc(bot, 2027, 3, 28, 11, 0)  # 12:00 BST
    assert len(alerts_for(bot, "Sun 28 Mar 2027")) == 1
    await at_utc(bot, 2027, 3, 28, 12, 0)
    assert len(nudges_for(bot, "Sun 28 Mar 2027")) == 1 and len(alerts_for(bot, "Sun 28 Mar 2027")) == 1


async def test_last_sunday_of_october_nudges_at_0830_winter_time_which_is_0830_utc(bot: BotHarness) -> None:
    await at_utc(bot, 2027, 10, 30, 7, 29)  # Saturday, still BST
    assert nudges_for(bot, "Sat 30 Oct 2027") == []
    await at_utc(bot, 2027, 10, 30, 7, 30)
    assert len(nudges_for(bot, "Sat 30 Oct 2027")) == 1

    await at_utc(bot, 2027, 10, 31, 0, 30)  # clocks go back at 01:00 UTC
    await at_utc(bot, 2027, 10, 31, 7, 30)  # 07:30 GMT: an hour early for the nudge now
    assert nudges_for(bot, "Sun 31 Oct 2027") == []
    await at_utc(bot, 2027, 10, 31, 8, 29)
    assert nudges_for(bot, "Sun 31 Oct 2027") == []
    await at_utc(bot, 2027, 10, 31, 8, 30)
    assert len(nudges_for(bot, "Sun 31 Oct 2027")) == 1

    await at_utc(bot, 2027, 10, 31, 11, 0)  # would be 12:00 in summer, is 11:00 now
    assert alerts_for(bot, "Sun 31 Oct 2027") == []
    await at_utc(bot, 2027, 10, 31, 12, 0)
    assert len(alerts_for(bot, "Sun 31 Oct 2027")) == 1


def test_check_config_refuses_impossible_moderation_settings_clearly(tmp_path: Path) -> None:
    example = (ROOT / "config.example.toml").read_text()
    bad = (
        example.replace('deadline = "12:00"', 'deadline = "08:00"')
        .replace('days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]', 'days = ["mon", "tues", "wed"]')
        .replace("holidays = []", 'holidays = ["2026-12-21..2027-01-04", "2026-12-21 to 2027-01-04"]')
    )
    assert bad.count("08:00") == 1 and "tues" in bad and " to 2027" in bad
    path = tmp_path / "config.toml"
    path.write_text(bad)
    result = run_cli("check-config", "--config", str(path))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "moderation.deadline: 08:00 must be later than moderation.nudge_time 08:30" in result.stderr
    assert "moderation.days: 'tues' is not a weekday" in result.stderr
    assert "moderation.holidays: '2026-12-21 to 2027-01-04' is not a date" in result.stderr


async def test_a_check_on_the_day_the_bot_was_installed_shows_in_the_history(bot: BotHarness) -> None:
    # The bot starts at 10:00, after the 08:30 nudge: the day is not owed a check, but one made counts.
    await bot.say(ADMIN, "/checked")
    [history] = await bot.say(ADMIN, "/moderation")
    assert "Wed 25 Nov" in history.plain and "Ada Admin" in history.plain
    assert "missed" not in history.plain.split("\n\n", 1)[1]

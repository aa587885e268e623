"""Wording, the rest of it: counts with the right plural, ✅ for what was done, and times read as
they arrive said as "today 10:00" (bot.wording), in the incidents, /status, /export and the CLI.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.__main__ import main
from bot.shell.callbacks import pack
from tests.conftest import ADMIN, HEAD, SLT, BotHarness
from tests.test_backup import only_archive, places, write_config
from tests.test_incidents import alerts_to, log_misuse, receipt, screenshot_bytes

__all__ = ["places"]  # the backup folder and key (tests.test_backup)


async def test_one_screenshot_is_one_screenshot_in_the_flow_the_alert_and_the_audit(bot: BotHarness) -> None:
    incident = await log_misuse(bot, ADMIN, "offensive")
    [alert] = alerts_to(bot, HEAD, incident.ref)
    assert "1 screenshot" in alert.plain and "1 screenshots" not in alert.plain
    [opened] = [e for e in bot.audit() if e.action == "incident opened"]
    assert "; 1 screenshot;" in opened.detail and "(s)" not in opened.detail


async def test_a_screenshot_added_at_a_later_step_is_counted_in_words(bot: BotHarness) -> None:
    await bot.say(ADMIN, "/log")
    bot.emu.send_photo(ADMIN, screenshot_bytes())
    await bot.settle()
    step = bot.last(ADMIN)
    await bot.press(ADMIN, step, "Done")
    bot.emu.send_photo(ADMIN, screenshot_bytes())
    await bot.settle()
    assert "Added: 2 screenshots in all." in bot.last(ADMIN).plain


async def test_what_was_done_is_ticked_green_and_a_late_tap_says_when_in_words(bot: BotHarness) -> None:
    incident = await log_misuse(bot, ADMIN, "offensive")
    [alert] = alerts_to(bot, HEAD, incident.ref)
    await bot.press(HEAD, alert, "Comment removed")
    mine = receipt(bot, ADMIN, incident.ref)
    for message in (alert, mine):
        assert "✅ Comment removed — Helen Head" in message.plain and "✔️" not in message.plain
    bot.clock.advance(days=1)
    again = await bot.press(HEAD, alert, data=pack("inc", "do", incident.number, "removed"))  # a second, late tap
    assert again and again["text"] == "Already recorded: Comment removed by Helen Head, yesterday 10:00."
    assert "Wed 25 Nov 10:00" in alert.plain, "the alert, kept in the chat, keeps the day"


async def test_status_and_an_export_say_today_for_today(bot: BotHarness) -> None:
    await log_misuse(bot, ADMIN, "bullying")
    [status] = await bot.say(SLT, "/status")
    assert "(since today 10:00)" in status.plain and "Wed 25 Nov" not in status.plain
    [export] = await bot.say(SLT, "/export incidents")
    assert export.caption.startswith("1 incident, ") and export.caption.endswith("as of today 10:00.")


async def test_the_cli_backup_and_restore_count_in_words(
    bot: BotHarness, data_dir: Path, places: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await log_misuse(bot, ADMIN, "offensive")  # one screenshot, and this month's audit log
    await bot.stop()
    path = write_config(tmp_path / "config.toml", data_dir, places["backups"], places["key"])
    assert main(["--config", str(path), "backup-key"]) == 0
    assert main(["--config", str(path), "backup"]) == 0
    capsys.readouterr()
    fresh = write_config(tmp_path / "fresh.toml", places["fresh"], places["backups"], places["key"])
    assert main(["--config", str(fresh), "restore", str(only_archive(places["backups"]))]) == 0
    out = capsys.readouterr().out
    assert "of them 1 screenshot and 1 month of audit log" in out, out

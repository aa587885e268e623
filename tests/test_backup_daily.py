"""The daily backup as the Head meets it: made at its time while the bot runs, old ones thinned out,
and a plain message (once a day, through the outbox) when the backup disk is full or refuses it."""

from __future__ import annotations

import errno
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.backups import archive as backup_archive
from bot.backups.archive import create_key_file
from bot.clock import FakeClock
from bot.config import Config
from tests.conftest import HEAD, SLT, BotHarness, make_config

# Tuesday 24 November 2026, 23:00 in London (GMT, so local = UTC).
EVENING = datetime(2026, 11, 24, 23, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(EVENING)


@pytest.fixture
def backups(tmp_path: Path) -> Path:
    folder = tmp_path / "backups"
    folder.mkdir()
    create_key_file(tmp_path / "backup.key")
    return folder


@pytest.fixture
def config(data_dir: Path, tmp_path: Path, backups: Path) -> Config:
    return make_config(
        data_dir,
        backup={
            "folder": str(backups),
            "key_file": str(tmp_path / "backup.key"),
            "keep_daily": 2,
            "keep_weekly": 0,
            "keep_monthly": 0,
        },
    )


def archives(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def failures_to(bot: BotHarness, user: int) -> list[str]:
    return [m.plain for m in bot.emu.messages_to(user) if "backup failed" in m.plain]


async def test_a_backup_is_made_each_night_at_its_time_and_only_the_configured_number_kept(
    bot: BotHarness, backups: Path
) -> None:
    await bot.say(HEAD, "/help")
    await bot.tick()
    assert archives(backups) == ["school-bot-20261124-230000Z.backup"], "started after 02:00 with none today: one at once"
    for night in (25, 26, 27):
        bot.clock.set(datetime(2026, 11, night, 1, 59, tzinfo=UTC))
        await bot.tick()
        bot.clock.set(datetime(2026, 11, night, 2, 0, tzinfo=UTC))
        await bot.tick()
        await bot.advance(hours=5)  # later ticks that night make no second one
    assert archives(backups) == ["school-bot-20261126-020000Z.backup", "school-bot-20261127-020000Z.backup"]
    [status] = await bot.say(SLT, "/status")
    assert "Last backup: today 02:00" in status.plain and "Next backup: tomorrow 02:00" in status.plain
    assert any(e.action == "backup" and e.outcome == "ok" for e in bot.audit())


@pytest.mark.parametrize(
    ("fault", "said"),
    [
        (errno.ENOSPC, "the backup disk is full"),
        (errno.EROFS, "the backup folder refused the write (Read-only file system)"),
    ],
)
async def test_a_backup_the_disk_refuses_tells_the_head_once_and_status_shows_it(
    bot: BotHarness, backups: Path, monkeypatch: pytest.MonkeyPatch, fault: int, said: str
) -> None:
    await bot.say(HEAD, "/help")
    real_write = backup_archive._Sealer.write

    def refused(self: object, data: bytes) -> int:
        raise OSError(fault, "refused")

    monkeypatch.setattr(backup_archive._Sealer, "write", refused)
    bot.clock.set(datetime(2026, 11, 25, 2, 0, tzinfo=UTC))
    await bot.tick()
    assert archives(backups) == [], "no half-written archive is left on the disk"
    [told] = failures_to(bot, HEAD)
    assert said in told and "no good backup yet" in told
    await bot.advance(hours=1)  # retried an hour later, failing again: the Head is not told twice
    assert len(failures_to(bot, HEAD)) == 1
    assert [e.detail for e in bot.audit() if e.action == "backup failed"] == [said, said]
    [status] = await bot.say(SLT, "/status")
    assert "Last backup: none yet" in status.plain and f"03:00 failed: {said}" in status.plain

    monkeypatch.setattr(backup_archive._Sealer, "write", real_write)
    await bot.advance(hours=1)
    assert len(archives(backups)) == 1
    [status] = await bot.say(SLT, "/status")
    assert "Last backup: today 04:00" in status.plain and "failed" not in status.plain


async def test_a_missing_backup_disk_tells_the_head(bot: BotHarness, backups: Path) -> None:
    await bot.say(HEAD, "/help")
    backups.rmdir()  # the USB disk was unplugged
    bot.clock.set(datetime(2026, 11, 25, 2, 0, tzinfo=UTC))
    await bot.tick()
    [told] = failures_to(bot, HEAD)
    assert "is not there (is the NAS or USB disk connected?)" in told

"""What a newcomer met in the demo and the README walk-through (found by following them literally)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.__main__ import main
from bot.applications import PaperForm
from bot.config import Config
from bot.records.applications import Child
from storage.lock import DataDirLock
from tests.conftest import HEAD, BotHarness, make_config
from tests.test_consent_bot import load


@pytest.fixture
def config(data_dir: Path) -> Config:
    return make_config(data_dir)


async def test_pupil_lists_an_application_without_a_relationship_without_empty_brackets(bot: BotHarness) -> None:
    """A Telegram join request records no relationship: /pupil showed "Stan Jones (), pending"."""
    load(bot)
    await bot.say(HEAD, "/help")
    form = PaperForm("Jo Smith", "", [Child("Amelia Smith", "P001")], conduct_signed=True)
    bot.services.application_desk.record_paper(form, HEAD, "Helen Head")
    *summary, _document = await bot.say(HEAD, "/pupil Amelia Smith")
    text = "\n".join(m.plain for m in summary)
    assert "Jo Smith, pending" in text and "()" not in text


def test_export_while_the_bot_runs_says_to_stop_it_not_to_use_another_data_folder(tmp_path: Path, capsys: Any) -> None:
    """Another data folder would export or import nothing of the school's: the only fix is stopping the bot."""
    data = tmp_path / "data"
    config = tmp_path / "config.toml"
    config.write_text(f'[roles]\nhead = [1001]\n[storage]\ndata_dir = "{data}"\n', encoding="utf-8")
    data.mkdir(mode=0o700)
    lock = DataDirLock(data)
    lock.acquire()
    try:
        assert main(["--config", str(config), "export", "audit", "--out", str(tmp_path / "a.csv")]) != 0
    finally:
        lock.release()
    said = capsys.readouterr().err
    assert "Stop it first" in said and "storage.data_dir" not in said


def test_check_config_says_ok_only_when_nothing_is_wrong(tmp_path: Path, capsys: Any) -> None:
    """A missing backup key was printed after "config.toml: OK", and the exit code said it failed."""
    config = tmp_path / "config.toml"
    backups = tmp_path / "nas"
    backups.mkdir()
    config.write_text(
        f'[roles]\nhead = [1001]\n[storage]\ndata_dir = "{tmp_path / "data"}"\n'
        f'[backup]\nfolder = "{backups}"\nkey_file = "{tmp_path / "backup.key"}"\n',
        encoding="utf-8",
    )
    assert main(["--config", str(config), "check-config"]) == 1
    said = capsys.readouterr()
    assert ": OK" not in said.out and "1 problem" in said.out and "backup-key" in said.err
    assert main(["--config", str(config), "backup-key"]) == 0
    assert main(["--config", str(config), "check-config"]) == 0
    assert ": OK" in capsys.readouterr().out


def test_restore_says_when_the_backup_was_made_in_school_time_not_as_an_iso_timestamp(tmp_path: Path, capsys: Any) -> None:
    """The business manager read "made 2026-11-29T19:45:47.431164+00:00"."""
    data, nas = tmp_path / "data", tmp_path / "nas"
    data.mkdir(mode=0o700)
    nas.mkdir()
    config = tmp_path / "config.toml"
    config.write_text(
        f'[roles]\nhead = [1001]\n[storage]\ndata_dir = "{data}"\n'
        f'[backup]\nfolder = "{nas}"\nkey_file = "{tmp_path / "backup.key"}"\n',
        encoding="utf-8",
    )
    assert main(["--config", str(config), "backup-key"]) == 0
    assert main(["--config", str(config), "backup"]) == 0
    [archive] = nas.glob("*.backup")
    capsys.readouterr()
    assert main(["--config", str(config), "restore", str(archive)]) == 0
    said = capsys.readouterr().out
    assert "Restored the backup made " in said and "+00:00" not in said and "T" not in said.split("made ")[1][:20]

"""`python -m bot import FILE`: the same safety as the phone, and output a person can read."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.__main__ import main
from bot.clock import FakeClock
from emulator import BotApiEmulator
from tests.conftest import ADMIN, ADMIN2, DEPUTY, HEAD, OFFICE, SLT, SLT2, BotHarness, make_config, raw_config
from tests.test_import_bot import HEADER, ROWS

PUPILS = [f"S{n:04},Child{n},Family{n},,Year {n % 6 + 1},yes,yes,yes,2025-09-05,," for n in range(100)]


def toml(raw: dict[str, Any]) -> str:
    """The test config as a file (TOML strings, numbers and lists read like JSON ones)."""
    lines = []
    for section, values in raw.items():
        lines.append(f"[{section}]")
        lines += [f"{key} = {json.dumps(value)}" for key, value in values.items()]
    return "\n".join(lines) + "\n"


@pytest.fixture
def config_file(tmp_path: Path, data_dir: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(toml(raw_config(data_dir)))
    return path


def run(config_file: Path, rows: list[str], *flags: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    register = config_file.parent / "register.csv"
    register.write_text(HEADER + "\n".join(rows) + "\n")
    code = main(["import", str(register), "--config", str(config_file), *flags])
    return code, capsys.readouterr().out


def test_removing_most_of_the_register_is_refused_without_allow_mass_removal(
    config_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(config_file, PUPILS, "--yes", capsys=capsys)[0] == 0
    code, out = run(config_file, PUPILS[:2], "--yes", capsys=capsys)
    assert code == 1
    assert "Refused: 98 of the 100 pupils on roll would be marked as left" in out and "--allow-mass-removal" in out
    assert "Leaving (98): S0002; S0003;" in out and "and 88 more" in out
    assert "Child" not in out  # the terminal (and any log of it) gets pupil ids, not names
    code, out = run(config_file, PUPILS[:2], capsys=capsys)  # a dry run says so too
    assert code == 1 and "Refused" in out
    code, out = run(config_file, PUPILS[:90], "--yes", capsys=capsys)  # a tenth leaving is an ordinary update
    assert code == 0 and "Register loaded" in out
    code, out = run(config_file, PUPILS[:2], "--yes", "--allow-mass-removal", capsys=capsys)
    assert code == 0 and "Register loaded" in out and "leaving 88" in out


def test_thousands_of_bad_rows_print_twenty_problems_and_a_count(config_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    us_dates = [f"S{n:04},Child{n},Family{n},,Year 1,yes,yes,yes,09/{n % 17 + 13}/2025,," for n in range(5000)]
    code, out = run(config_file, us_dates, "--yes", capsys=capsys)
    lines = out.splitlines()
    assert code == 1 and len(lines) <= 22
    assert lines[:2] == [
        "File refused: None of the rows could be used.",
        'Rejected line 2 (pupil S0000): form_date "09/13/2025" puts the month first (US style): '
        "dates must be day/month/year, like 31/07/2026",
    ]
    assert sum(line.startswith("Rejected line") for line in lines) == 19
    assert "...and 4,981 more problems (5,001 in all). Fix them in the export." in lines
    assert lines[-1] == "Nothing was changed."


def test_uk_dates_load_from_the_command_line(config_file: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(config_file, ["P009,Ava,Patel,,Year 1,yes,yes,yes,05/09/2025,31/7/27,"], "--yes", capsys=capsys)
    assert code == 0 and "New 1" in out and "Rejected" not in out


async def test_consent_withdrawn_from_the_command_line_reaches_the_page_team_when_the_bot_runs(
    config_file: Path,
    data_dir: Path,
    emu: BotApiEmulator,
    clock: FakeClock,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("bot.cli.records.Clock", lambda: clock)
    assert run(config_file, list(ROWS), "--yes", capsys=capsys)[0] == 0
    withdrawn = [
        row.replace(
            "P004,Noah,Williams,,Year 5,yes,yes,yes,2025-09-05,,", "P004,Noah,Williams,,Year 5,yes,yes,yes,2025-09-05,,2026-12-01"
        )
        for row in ROWS
    ]
    code, out = run(config_file, withdrawn, "--yes", capsys=capsys)
    assert code == 0 and "Consent withdrawn or narrowed (1): P004: no longer Facebook page" in out
    assert "Consent withdrawn or narrowed for 1 pupil: 6 staff will be told when the bot next runs." in out
    assert "Noah" not in out

    bot = BotHarness(emu, make_config(data_dir), clock)
    await bot.start()
    try:
        await bot.tick()
        for person in (ADMIN, ADMIN2, SLT, SLT2, DEPUTY, HEAD):
            [notice] = emu.messages_to(person)
            assert "loaded from the command line" in notice.plain
            assert (
                "Noah Williams (Year 5): no longer Facebook page, parents' private group, press and publicity "
                "(withdrawn from 1 Dec 2026)"
            ) in notice.plain
        assert not emu.messages_to(OFFICE)
    finally:
        await bot.stop()

"""The config file: every mistake a school's IT person might make is named clearly."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import ConfigError, load_config, parse_config
from tests.conftest import TOKEN, raw_config

ROOT = Path(__file__).resolve().parents[1]


def problems(tmp_path: Path, **sections: dict) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(raw_config(tmp_path / "data", **sections), tmp_path, env={})
    return caught.value.problems


def test_example_config_is_valid_and_documents_every_key() -> None:
    config = load_config(ROOT / "config.example.toml", env={})
    assert config.school.timezone.key == "Europe/London"
    assert config.moderation.nudge_time.strftime("%H:%M") == "08:30"
    from bot.config.reading import SCHEMA

    text = (ROOT / "config.example.toml").read_text()
    for section, keys in SCHEMA.items():
        assert f"[{section}]" in text
        for key in keys:
            assert f"\n{key} =" in text, f"{section}.{key} is not documented in config.example.toml"


def test_bad_time_is_named_with_the_key(tmp_path: Path) -> None:
    found = problems(tmp_path, moderation={"nudge_time": "8.30"})
    assert any(p.startswith("moderation.nudge_time") and "HH:MM" in p for p in found)


def test_unknown_timezone_is_refused(tmp_path: Path) -> None:
    found = problems(tmp_path, school={"timezone": "Europe/Londn"})
    assert any("school.timezone" in p and "Europe/Londn" in p for p in found)


def test_unknown_key_suggests_the_right_one(tmp_path: Path) -> None:
    found = problems(tmp_path, escalation={"ack_minute": 10})
    assert 'escalation.ack_minute: unknown key (did you mean "ack_minutes"?)' in found


def test_empty_head_list_is_refused(tmp_path: Path) -> None:
    found = problems(tmp_path, roles={"head": []})
    assert any(p.startswith("roles.head") for p in found)


def test_deadline_before_nudge_and_bad_days_and_holidays_are_refused(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        moderation={
            "nudge_time": "12:00",
            "deadline": "09:00",
            "days": ["mon", "tues"],
            "holidays": ["2026-12-21..2026-12-01", "2026-13-01"],
        },
    )
    text = "\n".join(found)
    assert "moderation.deadline: 09:00 must be later than moderation.nudge_time 12:00" in text
    assert "'tues' is not a weekday" in text and 'did you mean "tue"' in text
    assert "ends before it starts" in text
    assert "'2026-13-01' is not a date" in text


def test_holiday_ranges_and_days_decide_moderation_days(tmp_path: Path) -> None:
    from datetime import date

    config = parse_config(
        raw_config(
            tmp_path,
            moderation={"days": ["mon", "tue", "wed", "thu", "fri"], "holidays": ["2026-12-21..2027-01-04", "2026-11-27"]},
        ),
        tmp_path,
        env={},
    )
    assert config.moderation.is_moderation_day(date(2026, 11, 26))  # Thursday
    assert not config.moderation.is_moderation_day(date(2026, 11, 27))  # a single holiday
    assert not config.moderation.is_moderation_day(date(2026, 11, 28))  # Saturday
    assert not config.moderation.is_moderation_day(date(2027, 1, 4))  # last day of the range
    assert config.moderation.is_moderation_day(date(2027, 1, 5))


def test_environment_token_overrides_the_file_and_never_shows(tmp_path: Path) -> None:
    config = parse_config(raw_config(tmp_path), tmp_path, env={"TELEGRAM_BOT_TOKEN": "999:from-env"})
    assert config.telegram.token == "999:from-env"
    assert "999:from-env" not in repr(config) and "999:from-env" not in config.summary()


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        timeout=60,
    )


def test_check_config_prints_a_summary_without_the_token(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    filled = (ROOT / "config.example.toml").read_text().replace('token = ""', f'token = "{TOKEN}"')
    for made_up, real in (("111111111", "1001"), ("222222222", "1003"), ("333333333", "1005"), ("444444444", "1007")):
        filled = filled.replace(f"[{made_up}]", f"[{real}]")
    path.write_text(filled)
    result = run_cli("check-config", "--config", str(path))
    assert result.returncode == 0, result.stderr
    assert "School: Example Primary School" in result.stdout
    assert TOKEN not in result.stdout + result.stderr


def test_check_config_lists_errors_and_exits_1(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        (ROOT / "config.example.toml").read_text().replace('"08:30"', '"8.30"').replace("head = [111111111]", "head = []")
    )
    result = run_cli("check-config", "--config", str(path))
    assert result.returncode == 1
    assert "moderation.nudge_time" in result.stderr and "roles.head" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_config_file_is_a_clear_message(tmp_path: Path) -> None:
    result = run_cli("check-config", "--config", str(tmp_path / "nope.toml"))
    assert result.returncode == 1 and "no such file" in result.stderr

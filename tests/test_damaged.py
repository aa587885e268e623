"""A damaged data file stops start-up with one sentence naming it; the bot never runs on an emptied store.

Each data file is damaged each way a disk, a hand edit or a bad copy damages it: emptied, cut
short, overwritten with garbage, or holding JSON of another shape. Restoring the file from a
backup brings the bot back with everything in it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest

from bot.clock import FakeClock
from bot.records.applications import Event
from bot.records.consent import Pupil
from bot.records.incidents import Ban
from bot.records.outbox import OutboxItem
from bot.services import Services
from storage.atomic import DamagedDataFile
from storage.database import Database
from tests.conftest import ADMIN, HEAD, OFFICE, START, TOKEN, make_config

ROOT = Path(__file__).resolve().parents[1]
MAIN_TABLE = {
    "meta": "meta",
    "staff": "staff",
    "consents": "pupils",
    "incidents": "incidents",
    "outbox": "outbox",
    "moderation": "rota",
    "applications": "applications",
}
DAMAGE: dict[str, Callable[[bytes, str], bytes]] = {
    "empty": lambda good, table: b"",
    "cut short": lambda good, table: good[: len(good) // 2],
    "garbage": lambda good, table: b"\x00\x17PK\x03\x04 not json \xff",
    "another shape": lambda good, table: b"[1, 2, 3]",
    "a table of lists": lambda good, table: json.dumps({table: [1, 2]}).encode(),
    "a record of another shape": lambda good, table: json.dumps({table: {"1": {"unexpected": True}}}).encode(),
}


def fill(data_dir: Path) -> None:
    """A data folder with something in every file."""
    services = Services.open(make_config(data_dir), FakeClock(START))
    try:
        services.consents.replace_register([Pupil("P1", "Amelia", "Smith")], ())
        services.incidents.add_ban(Ban(1, "Troll", "abusive comments", HEAD, "Helen Head", START))
        services.outbox.enqueue(OutboxItem("k1", HEAD, "Hello", START, START))
        services.moderation.set_rota(services.moderation.rota())
        services.moderation.record_nudge(date(2026, 11, 25), (ADMIN,), START)
        services.applications.add_event(Event(1, START, OFFICE, "Form recorded"))
    finally:
        services.close()
    for name in Database.FILES:
        assert (data_dir / f"{name}.json").stat().st_size > 0, name


@pytest.mark.parametrize("damage", list(DAMAGE))
@pytest.mark.parametrize("name", list(MAIN_TABLE))
def test_a_damaged_data_file_stops_start_up_naming_it_and_a_restored_backup_starts_again(
    tmp_path: Path, name: str, damage: str
) -> None:
    data_dir = tmp_path / "data"
    fill(data_dir)
    path = data_dir / f"{name}.json"
    backup = path.read_bytes()
    path.write_bytes(DAMAGE[damage](backup, MAIN_TABLE[name]))

    with pytest.raises(DamagedDataFile) as stopped:
        Services.open(make_config(data_dir), FakeClock(START))
    sentence = str(stopped.value)
    assert str(path) in sentence and "restore that file from your latest backup" in sentence
    assert sentence.count(". ") == 0  # one sentence

    path.write_bytes(backup)  # what the README tells the school to do
    services = Services.open(make_config(data_dir), FakeClock(START))  # and the lock was let go
    try:
        assert services.incidents.bans() and services.consents.all() and services.staff.active()
        assert services.outbox.due(START + timedelta(days=1))
    finally:
        services.close()


def write_config(folder: Path, data_dir: Path) -> Path:
    config = folder / "config.toml"
    config.write_text(
        f'[telegram]\ntoken = "{TOKEN}"\nbase_url = "http://127.0.0.1:9/bot"\nbase_file_url = "http://127.0.0.1:9/file/bot"\n'
        f'[school]\nname = "Example School"\ntimezone = "Europe/London"\n'
        f"[roles]\nhead = [{HEAD}]\n"
        f'[storage]\ndata_dir = "{data_dir}"\n'
    )
    return config


@pytest.mark.parametrize(
    ("name", "damage"),
    [
        ("staff", "empty"),
        ("incidents", "empty"),
        ("incidents", "cut short"),
        ("consents", "garbage"),
        ("outbox", "another shape"),
        ("staff", "a record of another shape"),
    ],
)
def test_the_bot_process_refuses_a_damaged_file_in_one_sentence(tmp_path: Path, name: str, damage: str) -> None:
    data_dir = tmp_path / "data"
    fill(data_dir)
    path = data_dir / f"{name}.json"
    path.write_bytes(DAMAGE[damage](path.read_bytes(), MAIN_TABLE[name]))

    done = subprocess.run(
        [sys.executable, "-m", "bot", "run", "--config", str(write_config(tmp_path, data_dir))],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [str(DamagedDataFile(path, _what(damage)))]
    assert "Traceback" not in done.stderr and TOKEN not in done.stderr + done.stdout


def _what(damage: str) -> str:
    return {
        "empty": "it is empty",
        "cut short": "it is cut short or garbled",
        "garbage": "it is cut short or garbled",
        "another shape": "it does not hold the bot's tables",
        "a record of another shape": "a record in it is not in the shape the bot wrote",
    }[damage]


def test_check_config_names_a_damaged_file_even_while_the_bot_runs(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    fill(data_dir)
    running = Database(data_dir)  # the bot holds the lock; check-config only reads
    try:
        (data_dir / "incidents.json").write_bytes(b"")
        done = subprocess.run(
            [sys.executable, "-m", "bot", "check-config", "--config", str(write_config(tmp_path, data_dir))],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        running.close()
    assert done.returncode == 1 and "1 problem, named at the end" in done.stdout
    assert done.stderr.strip().splitlines() == [str(DamagedDataFile(data_dir / "incidents.json", "it is empty"))]

"""Setting the bot up for a school, as the README tells a newcomer: every refusal one clear sentence with its fix."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from telegram.error import NetworkError

from bot.clock import Clock
from bot.services import Services
from storage.atomic import DataDirNotWritable, ensure_private_dir
from storage.database import data_folder_problems
from tests.conftest import ADMIN, ADMIN2, HEAD, OFFICE, TOKEN, make_config

ROOT = Path(__file__).resolve().parents[1]
GROUP = -1001234567890
PATIENCE = 90.0  # seconds a busy CI machine may take to start Python and PTB; not a performance target


@pytest.mark.parametrize("read_only", ["", "audit"])
def test_check_config_names_a_read_only_data_folder_and_its_fix_as_start_up_does(tmp_path: Path, read_only: str) -> None:
    data_dir = tmp_path / "data"
    (data_dir / "audit").mkdir(parents=True)
    (data_dir / read_only).chmod(0o500)
    try:
        with pytest.raises(DataDirNotWritable) as refused:
            ensure_private_dir(data_dir / read_only)

        assert data_folder_problems(data_dir) == [str(refused.value)]
        assert "make it writable (chmod u+w" in str(refused.value)
    finally:
        (data_dir / read_only).chmod(0o700)


def test_an_id_taken_out_of_the_config_keeps_its_access_until_revoked(tmp_path: Path) -> None:
    """What the README tells a school: the config only adds people; /revoke takes access away."""
    data_dir = tmp_path / "data"
    first = Services.open(make_config(data_dir), Clock())
    first.close()

    services = Services.open(make_config(data_dir, roles={"admins": [ADMIN2], "office": [ADMIN]}), Clock())
    try:
        assert services.staff.role_of(ADMIN) == "admin", "neither removed nor changed by editing the file"
        assert services.staff.role_of(OFFICE) == "office"
    finally:
        services.close()


def example_config(folder: Path, emu: Any) -> Path:
    """config.example.toml as copied, with only the token and (here) the emulator's address filled in."""
    text = (
        (ROOT / "config.example.toml")
        .read_text()
        .replace('token = ""', f'token = "{TOKEN}"')
        .replace('base_url = "https://api.telegram.org/bot"', f'base_url = "{emu.base_url}"')
        .replace('base_file_url = "https://api.telegram.org/file/bot"', f'base_file_url = "{emu.base_file_url}"')
    )
    path = folder / "config.toml"
    path.write_text(text)
    return path


async def test_ids_lists_who_messages_the_bot_so_the_roles_can_be_filled_in(emu: Any, tmp_path: Path) -> None:
    """README step 2: the ids are needed before the bot can run, so `python -m bot ids` shows them."""
    config = example_config(tmp_path, emu)
    env = {k: v for k, v in os.environ.items() if k != "TELEGRAM_BOT_TOKEN"}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "ids",
        "--config",
        str(config),
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    try:
        listening = await asyncio.wait_for(process.stdout.readline(), PATIENCE)
        emu.send_text(HEAD, "/start")
        emu.send_text(ADMIN, "hello")
        emu.send_text(HEAD, "/start")
        emu.add_group(GROUP, "Parents of Example Primary")
        emu.send_text(HEAD, "Welcome, everyone", chat_id=GROUP)
        lines = [(await asyncio.wait_for(process.stdout.readline(), PATIENCE)).decode() for _ in range(3)]
    finally:
        process.send_signal(signal.SIGINT)
        returncode = await asyncio.wait_for(process.wait(), PATIENCE)
    errors = (await process.stderr.read()).decode()

    assert b"send /start" in listening
    assert lines == [f"{HEAD}  Helen Head\n", f"{ADMIN}  Ada Admin\n", f"{GROUP}  the group “Parents of Example Primary”\n"], (
        "each person once, and the parents' group for applications.group_chat_id"
    )
    assert returncode == 0 and errors == ""
    assert emu.messages_to(HEAD) == [] and emu.messages_to(ADMIN) == [] and emu.messages_to(GROUP) == [], "nobody is answered"
    assert not (tmp_path / "data").exists(), "nothing is stored"


def test_the_examples_made_up_ids_stop_check_config_start_up_and_the_register_import(emu: Any, tmp_path: Path) -> None:
    """Started with, 111111111 would stay a Head nobody is: every alert retried to nobody, then reported."""
    config = example_config(tmp_path, emu)
    env = {k: v for k, v in os.environ.items() if k != "TELEGRAM_BOT_TOKEN"}
    (tmp_path / "register.csv").write_text("pupil_id,first_name,last_name\n")
    for command in (["check-config"], ["run"], ["import", str(tmp_path / "register.csv"), "--yes"]):
        done = subprocess.run(
            [sys.executable, "-m", "bot", *command, "--config", str(config)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=PATIENCE,
        )
        assert done.returncode == 1, command
        assert "roles.head: 111111111 is the example's made-up id" in done.stderr
        assert "roles.office: 444444444" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "data").exists()


def test_check_config_without_a_token_says_where_start_up_looks_for_it(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[roles]\nhead = [{HEAD}]\n[storage]\ndata_dir = "{tmp_path / "data"}"\n')
    env = {k: v for k, v in os.environ.items() if k != "TELEGRAM_BOT_TOKEN"}

    done = subprocess.run(
        [sys.executable, "-m", "bot", "check-config", "--config", str(config)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=PATIENCE,
    )

    assert done.returncode == 0, done.stderr
    assert "Token: not set here; `python -m bot run` needs TELEGRAM_BOT_TOKEN in its environment" in done.stdout


async def test_telegram_out_of_reach_while_running_is_one_log_line_not_a_traceback_every_few_seconds(
    bot: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """A school's internet goes down for an afternoon: bot.log says so once, and the bot carries on.

    `python -m bot run` polls with run_polling, which hands each failed getUpdates to the
    Application's error handlers with no update, as here; PTB retries within 30 seconds.
    """
    with caplog.at_level(logging.INFO):
        for _ in range(5):
            await bot.app.process_error(update=None, error=NetworkError("httpx.ConnectError: All connection attempts failed"))
        [answer] = await bot.say(HEAD, "/help")
        bot.clock.advance(minutes=10)
        await bot.app.process_error(update=None, error=NetworkError("httpx.ConnectError: All connection attempts failed"))

    lost = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.getMessage() for r in lost] == 2 * [
        "Cannot reach Telegram (NetworkError: httpx.ConnectError: All connection attempts failed); "
        "retrying, and saying so here again every 10 minutes it lasts"
    ]
    assert lost[0].exc_info is None
    assert "You are the Head Teacher" in answer.plain

"""`python -m bot run` as a school runs it: a separate process, a fresh install, the emulator over HTTP.

It starts with no data folder, answers staff, stops cleanly on SIGTERM, survives SIGKILL, and every
start that cannot work ends in one plain sentence on stderr with the token nowhere.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import signal
import socket
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from emulator import BotApiEmulator
from tests.conftest import ADMIN, HEAD, TOKEN

ROOT = Path(__file__).resolve().parents[1]
PATIENCE = 90.0  # seconds a busy CI machine may take to start Python and PTB; not a performance target


def write_config(folder: Path, data_dir: Path, base: str, token: str = TOKEN) -> Path:
    config = folder / "config.toml"
    config.write_text(
        f'[telegram]\ntoken = "{token}"\nbase_url = "{base}/bot"\nbase_file_url = "{base}/file/bot"\n'
        f'[school]\nname = "Example School"\ntimezone = "Europe/London"\n'
        f"[roles]\nhead = [{HEAD}]\nadmins = [{ADMIN}]\n"
        f'[storage]\ndata_dir = "{data_dir}"\n'
    )
    return config


def environment() -> dict[str, str]:
    """This machine's environment without a token of its own: the config's token is the one used."""
    return {k: v for k, v in os.environ.items() if k != "TELEGRAM_BOT_TOKEN"}


class BotProcess:
    """One `python -m bot run`, its stderr kept in a file so a chatty log never blocks it."""

    def __init__(self, config: Path, folder: Path, n: int) -> None:
        self.stderr_path = folder / f"stderr-{n}.txt"
        with open(self.stderr_path, "wb") as stderr:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot", "run", "--config", str(config)],
                cwd=ROOT,
                env=environment(),
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    async def ended(self) -> int:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + PATIENCE
        while self.process.poll() is None:
            assert loop.time() < deadline, f"the bot did not stop; stderr:\n{self.stderr}"
            await asyncio.sleep(0.05)
        return self.process.returncode

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


async def answer_to(emu: BotApiEmulator, bot: BotProcess, user: int, text: str) -> str:
    """Send `text` as `user` and wait for the bot's first message back."""
    mark = emu.mark()
    emu.send_text(user, text)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + PATIENCE
    while not emu.since(mark, user):
        assert bot.process.poll() is None, f"the bot ended early; stderr:\n{bot.stderr}"
        assert loop.time() < deadline, f"no answer to {text!r}; stderr:\n{bot.stderr}"
        await asyncio.sleep(0.05)
    return emu.since(mark, user)[0].plain


def lock_is_free(data_dir: Path) -> bool:
    fd = os.open(data_dir / "bot.lock", os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)
    return True


@pytest.fixture
def processes() -> Iterator[list[BotProcess]]:
    started: list[BotProcess] = []
    yield started
    for bot in started:
        bot.kill()


async def test_a_first_start_answers_staff_stops_on_sigterm_and_survives_sigkill(
    emu: BotApiEmulator, tmp_path: Path, processes: list[BotProcess]
) -> None:
    data_dir = tmp_path / "school" / "data"  # a fresh install: neither folder exists yet
    config = write_config(tmp_path, data_dir, emu.base_url.removesuffix("/bot"))

    first = BotProcess(config, tmp_path, 1)
    processes.append(first)
    assert "You are a page admin." in await answer_to(emu, first, ADMIN, "/start")
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE((data_dir / "bot.log").stat().st_mode) == 0o600
    first.process.send_signal(signal.SIGTERM)
    assert await first.ended() == 0
    assert lock_is_free(data_dir)

    second = BotProcess(config, tmp_path, 2)
    processes.append(second)
    assert "You are the Head Teacher." in await answer_to(emu, second, HEAD, "/start")
    second.process.send_signal(signal.SIGKILL)
    assert await second.ended() == -signal.SIGKILL

    third = BotProcess(config, tmp_path, 3)  # the lock of a killed process is no obstacle
    processes.append(third)
    assert "You are a page admin." in await answer_to(emu, third, ADMIN, "/help")
    third.process.send_signal(signal.SIGTERM)
    assert await third.ended() == 0

    for bot in processes:
        assert "Traceback" not in bot.stderr and TOKEN not in bot.stderr
    log = (data_dir / "bot.log").read_text()
    assert "Application started" in log and TOKEN not in log


def run_once(config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "run", "--config", str(config)],
        cwd=ROOT,
        env=environment(),
        capture_output=True,
        text=True,
        timeout=PATIENCE,
    )


async def test_a_rejected_token_is_one_plain_sentence_without_the_token(emu: BotApiEmulator, tmp_path: Path) -> None:
    wrong = "987654321:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw-wrong"
    config = write_config(tmp_path, tmp_path / "data", emu.base_url.removesuffix("/bot"), token=wrong)

    done = await asyncio.to_thread(run_once, config)

    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"Telegram refused the bot token: check TELEGRAM_BOT_TOKEN (or telegram.token in {config}) "
        "against the token @BotFather gave you."
    ]
    assert wrong not in (tmp_path / "data" / "bot.log").read_text()


def test_no_network_at_start_up_is_one_plain_sentence(tmp_path: Path) -> None:
    with socket.socket() as unused:  # a port nothing listens on: what an offline machine sees
        unused.bind(("127.0.0.1", 0))  # held, not listening, so no test running alongside can take it
        port = unused.getsockname()[1]
        config = write_config(tmp_path, tmp_path / "data", f"http://127.0.0.1:{port}")

        done = run_once(config)

    assert done.returncode == 1
    [sentence] = done.stderr.strip().splitlines()
    assert sentence.startswith(f"Could not reach Telegram at http://127.0.0.1:{port}/bot")
    assert sentence.endswith("check this machine's network connection, then start the bot again.")
    assert TOKEN not in done.stderr


def test_a_read_only_data_folder_is_refused_and_left_as_it_is(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o500)
    data_dir.chmod(0o500)
    config = write_config(tmp_path, data_dir, "http://127.0.0.1:9")

    done = run_once(config)

    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"The data folder {data_dir} is read-only for this user, so the bot cannot save anything; "
        f"make it writable (chmod u+w {data_dir}) or point storage.data_dir elsewhere."
    ]
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o500  # not chmod-ed behind its owner's back
    assert list(data_dir.iterdir()) == []

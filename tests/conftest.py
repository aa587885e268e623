"""Shared fixtures: the emulator, a test clock, the real Application, and the people who use it.

Tests read as stories: `await bot.say(ADMIN, "/consent Amelia")` sends what a phone would
send, waits until the bot has finished with it, and returns what the bot sent back.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import settings
from telegram.request import HTTPXRequest

from bot.clock import FakeClock
from bot.config import Config, parse_config
from bot.shell.app import build_application, start, stop
from bot.shell.ticker import Runtime
from emulator import BotApiEmulator, default_api_spec, settle
from emulator.validation import SHARED_API_SPEC

TOKEN = "123456789:TEST-token-for-the-local-emulator-only"
HEAD, DEPUTY, SLT, SLT2, ADMIN, ADMIN2, OFFICE = 1001, 1002, 1003, 1004, 1005, 1006, 1007
STRANGER = 9001
PEOPLE = {
    HEAD: "Helen Head",
    DEPUTY: "Derek Deputy",
    SLT: "Sam Leader",
    SLT2: "Sally Leader",
    ADMIN: "Ada Admin",
    ADMIN2: "Alan Admin",
    OFFICE: "Olive Office",
    STRANGER: "Stan Stranger",
}
# A Wednesday in term time, 10:00 in London.
START = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def raw_config(data_dir: Path, **sections: dict[str, Any]) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "telegram": {"token": TOKEN},
        "school": {"name": "St Example's <Primary> & Nursery", "timezone": "Europe/London"},
        "roles": {
            "head": [HEAD],
            "deputy": [DEPUTY],
            "slt": [SLT, SLT2],
            "admins": [ADMIN, ADMIN2],
            "office": [OFFICE],
        },
        "storage": {"data_dir": str(data_dir)},
    }
    for name, values in sections.items():
        raw.setdefault(name, {}).update(values)
    return raw


def make_config(data_dir: Path, **sections: dict[str, Any]) -> Config:
    return parse_config(raw_config(data_dir, **sections), data_dir.parent, env={})


SHM = Path("/dev/shm")
# One TLS context for every bot the tests start. Left to itself httpx loads the CA bundle afresh for
# each client (two per Application, ~40 ms of CPU each: more than most tests take), though the
# emulator is plain HTTP on 127.0.0.1. The timeouts are build_application's own.
TLS = httpx.create_ssl_context()


def bot_api_request() -> HTTPXRequest:
    return HTTPXRequest(connection_pool_size=8, read_timeout=15, connect_timeout=10, httpx_kwargs={"verify": TLS})


def poll_request() -> HTTPXRequest:
    return HTTPXRequest(read_timeout=40, connect_timeout=10, httpx_kwargs={"verify": TLS})


class BotHarness:
    """The real Application talking HTTP to the emulator, with a clock the test moves."""

    def __init__(self, emu: BotApiEmulator, config: Config, clock: FakeClock) -> None:
        self.emu = emu
        self.clock = clock
        self.config = config
        self.app: Any = None

    @property
    def runtime(self) -> Runtime:
        return self.app.bot_data["runtime"]

    @property
    def services(self) -> Any:
        return self.runtime.services

    async def start(self) -> None:
        telegram = replace(self.config.telegram, base_url=self.emu.base_url, base_file_url=self.emu.base_file_url)
        self.config = replace(self.config, telegram=telegram)
        self.app = build_application(
            self.config, self.clock, autotick=False, wait_scale=0, request=bot_api_request(), get_updates_request=poll_request()
        )
        await start(self.app)
        await self.settle()

    async def stop(self) -> None:
        if self.app is None:
            return
        await stop(self.app)
        self.app = None

    async def restart(self) -> None:
        await self.stop()
        await self.start()

    async def settle(self) -> None:
        """Wait until every update is handled and every due message has been sent."""
        await settle(self.app, self.emu)

    async def tick(self) -> None:
        """What APScheduler does in production: run every timed job due at the clock's time."""
        await self.runtime.ticker.tick()
        await self.settle()

    async def advance(self, **delta: float) -> None:
        self.clock.advance(**delta)
        await self.tick()

    async def say(self, user: int, text: str, **kwargs: Any) -> list[Any]:
        mark = self.emu.mark()
        self.emu.send_text(user, text, **kwargs)
        await self.settle()
        return self.emu.since(mark, kwargs.get("chat_id") or user)

    async def press(self, user: int, message: Any, button: str | int | None = None, data: str | None = None) -> Any:
        """Tap a button; returns the callback answer the phone would show (or None)."""
        query_id = self.emu.press(user, message, button=button, data=data)
        await self.settle()
        return self.emu.callback_answer(query_id)

    def last(self, chat_id: int) -> Any:
        return self.emu.last_to(chat_id)

    def audit(self) -> list[Any]:
        return list(reversed(list(self.services.db.audit.newest_first())))


async def revoke(bot: BotHarness, by: int, target: int) -> Any:
    """/revoke TARGET and Yes on the question it always asks: the message, showing the outcome."""
    [asked] = await bot.say(by, f"/revoke {target}")
    if asked.buttons:
        await bot.press(by, asked, asked.buttons[0][0])
    return asked


async def decline(bot: BotHarness, by: int, card: Any) -> None:
    """Decline on an access request card, and Yes on the question it asks."""
    await bot.press(by, card, "Decline")
    await bot.press(by, card, card.buttons[0][0])


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
async def emu() -> AsyncIterator[BotApiEmulator]:
    emulator = BotApiEmulator(token=TOKEN, api_spec=default_api_spec())
    await emulator.start()
    for user_id, name in PEOPLE.items():
        first, last = name.split(" ", 1)
        emulator.add_user(user_id, first, last)
    yield emulator
    await emulator.stop()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def config(data_dir: Path) -> Config:
    return make_config(data_dir)


@pytest.fixture
async def bot(emu: BotApiEmulator, config: Config, clock: FakeClock) -> AsyncIterator[BotHarness]:
    harness = BotHarness(emu, config, clock)
    await harness.start()
    yield harness
    await harness.stop()
    refused = emu.unexpected_refusals()
    assert not refused, f"Telegram would have refused: {refused}"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--long", action="store_true", help="run the long crash, fault and fuzz suites")


settings.register_profile("ci", max_examples=40)
settings.register_profile("long", max_examples=400)


def pytest_configure(config: pytest.Config) -> None:
    settings.load_profile("long" if config.getoption("--long") else "ci")
    # Each test's data folder on tmpfs when the machine has one: the bot fsyncs every write, which
    # on a disk costs more than most tests' own work and proves nothing a test can see (a killed
    # process loses nothing either way). PYTEST_DEBUG_TEMPROOT set by hand wins.
    if "PYTEST_DEBUG_TEMPROOT" not in os.environ and os.access(SHM, os.W_OK):
        os.environ["PYTEST_DEBUG_TEMPROOT"] = str(SHM)


def api_check_line() -> str:
    """Whether the emulator refuses calls the Bot API description does not allow: without
    api.json it takes any parameters, and a run that passes proves less."""
    spec = default_api_spec()
    if spec is None:
        return f"Bot API description check: OFF (no {SHARED_API_SPEC})"
    return f"Bot API description check: on ({spec})"


def pytest_report_header(config: pytest.Config) -> str:
    return api_check_line()


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    if config.get_verbosity() < 0:  # -q prints no header: say it once at the end instead
        terminalreporter.write_line(api_check_line())

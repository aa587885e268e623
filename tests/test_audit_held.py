"""An action saved before the disk refused its audit line is confirmed truthfully, and the line lands later.

The audit line is written after its action is saved. When the disk then refuses it, the user was once
told "Not saved" about an action that was saved (a retry said "Already…") and the line was lost. Now the
line waits in memory, in order and with its own time, until the next append or tick finds room; a
staff access change still rolls back instead (access never changes unaudited).
"""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path
from typing import Any

import pytest

import storage.audit
from bot.shell.callbacks import pack
from handlers.errors import DISK_FULL
from tests.conftest import ADMIN, HEAD, STRANGER, BotHarness
from tests.test_incidents import alerts_to, log_misuse

LONE = "\ud800"  # a lone surrogate: a Telegram display name can carry one; UTF-8 cannot


class _AuditDiskFull:
    """The `os` the audit log sees while its disk is full: every write refused with ENOSPC."""

    def __getattr__(self, name: str) -> Any:
        return getattr(os, name)

    @staticmethod
    def write(*_: object) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def _refuse_audit(bot: BotHarness, patch: pytest.MonkeyPatch) -> None:
    """The disk refuses audit lines only: the action itself is saved before its line is appended."""
    patch.setattr(storage.audit, "os", _AuditDiskFull())


def _incident_on_disk(data_dir: Path, number: int) -> dict[str, Any]:
    """The incident as incidents.json holds it (not the bot's memory)."""
    tables = json.loads((data_dir / "incidents.json").read_text())
    return next(doc for table in tables.values() for doc in table.values() if doc.get("number") == number)


async def _acknowledge(bot: BotHarness, number: int) -> tuple[dict[str, Any] | None, list[str]]:
    """The Head presses Acknowledge: the answer, and every message the Head got meanwhile."""
    mark = bot.emu.mark()
    answer = await bot.press(HEAD, alerts_to(bot, HEAD, f"INC-{number:04d}")[0], data=pack("inc", "ack", number))
    return answer, [m.plain for m in bot.emu.since(mark, HEAD)]


async def test_an_acknowledgement_whose_audit_line_is_refused_is_confirmed_and_audited_at_the_next_tick(
    bot: BotHarness, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await log_misuse(bot, ADMIN, "offensive")
    pressed_at = bot.clock.now()
    with monkeypatch.context() as patch:
        _refuse_audit(bot, patch)
        answer, told = await _acknowledge(bot, 1)
        assert answer and "Acknowledged" in answer["text"] and "Not saved" not in answer["text"]
        assert DISK_FULL not in told
        assert _incident_on_disk(data_dir, 1)["state"] == "acknowledged"
        assert not [e for e in bot.audit() if e.action == "acknowledge incident"]  # waiting for the disk
        await bot.advance(minutes=1)  # the disk still refuses: the line keeps waiting
        assert not [e for e in bot.audit() if e.action == "acknowledge incident"]

    again, _ = await _acknowledge(bot, 1)  # a retry finds it done, as the user was told
    assert again and "Already acknowledged" in again["text"]
    lines = [(e.action, e.actor_id, e.outcome, e.at) for e in bot.audit()]
    ack = lines.index(("acknowledge incident", HEAD, "ok", pressed_at))
    assert lines[ack + 1][:3] == ("acknowledge incident", HEAD, "already"), "held lines come first, in order"


async def test_a_held_line_lands_at_a_tick_when_nobody_acts(bot: BotHarness, monkeypatch: pytest.MonkeyPatch) -> None:
    await log_misuse(bot, ADMIN, "offensive")
    pressed_at = bot.clock.now()
    with monkeypatch.context() as patch:
        _refuse_audit(bot, patch)
        await _acknowledge(bot, 1)
    assert not [e for e in bot.audit() if e.action == "acknowledge incident"]

    await bot.advance(minutes=1)
    [ack] = [e for e in bot.audit() if e.action == "acknowledge incident"]
    assert (ack.actor_id, ack.outcome, ack.at) == (HEAD, "ok", pressed_at)


async def test_a_grant_whose_audit_line_is_refused_is_still_refused_and_held_lines_survive_it(
    bot: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    await log_misuse(bot, ADMIN, "offensive")
    await bot.say(STRANGER, "/start")
    with monkeypatch.context() as patch:
        _refuse_audit(bot, patch)
        await _acknowledge(bot, 1)
        bot.clock.advance(minutes=1)
        told = await bot.say(HEAD, f"/grant {STRANGER} office")
        asked = bot.last(HEAD)
        yes = [label for label, _ in asked.buttons if label.startswith("Yes")] if asked else []
        if yes:
            mark = bot.emu.mark()
            await bot.press(HEAD, asked, yes[0])
            told = bot.emu.since(mark, HEAD)
        assert [m.plain for m in told][-1] == DISK_FULL
        assert bot.services.staff.role_of(STRANGER) is None  # rolled back: access never changes unaudited

    await bot.advance(minutes=1)
    lines = [(e.action, e.outcome) for e in bot.audit() if e.action in ("acknowledge incident", "grant")]
    assert lines == [("acknowledge incident", "ok")]
    await bot.restart()
    assert bot.services.staff.role_of(STRANGER) is None


async def test_a_lone_surrogate_in_user_text_is_audited_not_refused(bot: BotHarness) -> None:
    """A display name can carry half a UTF-16 pair; its action is audited with "?" in its place."""
    bot.services.audit(STRANGER, "request access", f"user {STRANGER}", detail=f"name: Sam {LONE}Smith")
    [line] = [e for e in bot.audit() if e.action == "request access"]
    assert line.detail == "name: Sam ?Smith"

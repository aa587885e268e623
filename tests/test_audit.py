"""The Head reads who did what; nobody else can, and the log keeps refused attempts too."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import storage.audit
from bot.records.audit import AuditEntry
from handlers.paging import utf16_len
from storage.audit import AuditLog
from tests.conftest import ADMIN, HEAD, SLT, STRANGER, BotHarness


async def test_head_reads_the_audit_log_newest_first_and_pages_back(bot: BotHarness) -> None:
    await bot.say(STRANGER, "/grant 1 head")
    for n in range(20):
        bot.services.audit(SLT, "grant", f"user {70000 + n}", detail="admin")
    [first] = await bot.say(HEAD, "/audit")
    assert "Audit log" in first.plain and "grant · user 70019" in first.plain
    await bot.press(HEAD, first, "Older ›")
    older = bot.last(HEAD).plain
    assert "page 2" in older and "refused: not staff" in older
    assert len(bot.last(HEAD).text) <= 4096


async def test_only_the_head_may_read_it_and_attempts_are_recorded(bot: BotHarness) -> None:
    for person in (ADMIN, SLT):
        [reply] = await bot.say(person, "/audit")
        assert "Sorry" in reply.plain
    refused = [e for e in bot.audit() if e.action == "read audit log" and e.outcome == "refused: role"]
    assert {e.actor_id for e in refused} == {ADMIN, SLT}
    answer = await bot.press(SLT, bot.last(SLT), data="1:aud:page:3")
    assert answer and "Sorry" in answer["text"]


async def test_pages_stay_put_while_new_entries_arrive_and_each_fits_telegram(bot: BotHarness) -> None:
    for n in range(30):  # the longest fields Telegram could carry into the log: emoji count twice
        bot.services.audit(SLT, "🦊" * 200, f"target {n:02d} " + "<&>" * 100, outcome="refused: " + "é" * 200, detail="🐧" * 300)
    [first] = await bot.say(HEAD, "/audit")
    assert "target 29" in first.plain and utf16_len(first.plain) <= 4096
    for n in range(20):  # others keep working while the Head reads
        bot.services.audit(SLT, "grant", f"user {80000 + n}", detail="admin")
    await bot.press(HEAD, first, "Older ›")
    page2 = bot.last(HEAD).plain
    assert "page 2" in page2 and "target 17" in page2 and "80019" not in page2, "new entries do not shift page 2"
    await bot.press(HEAD, bot.last(HEAD), "‹ Newer")
    assert "page 1" in bot.last(HEAD).plain and "target 29" in bot.last(HEAD).plain
    assert "80019" not in bot.last(HEAD).plain


def test_the_digest_reads_only_its_week_and_a_page_only_its_entries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = AuditLog(tmp_path / "audit")
    start = datetime(2026, 11, 1, tzinfo=UTC)
    for n in range(2000):  # ten weeks, across three month files
        log.append(AuditEntry(start + timedelta(minutes=50 * n), n, "admin", "consent lookup"))
    read: list[int] = []
    real = storage.audit._lines_backwards

    def counting(path: Path, stop: int | None) -> Any:
        for offset, line in real(path, stop):
            read.append(offset)
            yield offset, line

    monkeypatch.setattr(storage.audit, "_lines_backwards", counting)
    week_start = datetime(2026, 11, 23, tzinfo=UTC)
    week = log.between(week_start, week_start + timedelta(days=7))
    assert [e.actor_id for e in week] == [
        n for n in range(2000) if week_start <= start + timedelta(minutes=50 * n) < week_start + timedelta(days=7)
    ]
    assert len(read) <= len(week) + 1, "nothing after the week, and one entry before it, is read"
    read.clear()
    entries, older = log.page_before(log.newest(), 12)
    assert [e.actor_id for e in entries] == list(range(1999, 1987, -1)) and older is not None
    assert len(read) == 13

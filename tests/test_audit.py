"""The Head reads who did what; nobody else can, and the log keeps refused attempts too."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import storage.audit
from bot.audit_view import AuditFilter, kind_of
from bot.clock import FakeClock
from bot.records.audit import AuditEntry
from handlers.paging import utf16_len
from storage.audit import AuditLog
from tests.conftest import ADMIN, ADMIN2, HEAD, SLT, STRANGER, BotHarness
from tests.test_consent_bot import load
from tests.test_incidents import log_misuse


async def named(bot: BotHarness, *people: int) -> None:
    """Staff have written to the bot, so it knows their names."""
    for person in people:
        await bot.say(person, "/help")


async def test_head_reads_the_audit_log_newest_first_and_pages_back(bot: BotHarness) -> None:
    await named(bot, SLT)
    await bot.say(STRANGER, "/grant 1 head")
    for n in range(20):
        bot.services.audit(SLT, "grant", f"user {70000 + n}", detail="admin")
    [first] = await bot.say(HEAD, "/audit")
    assert "Audit log" in first.plain and "Sam Leader gave user 70019 access" in first.plain
    await bot.press(HEAD, first, "Older ›")
    older = bot.last(HEAD).plain
    assert "page 2" in older and "Someone without access tried to" in older and "not a member of staff" in older
    assert len(bot.last(HEAD).text) <= 4096


async def test_only_the_head_may_read_it_and_attempts_are_recorded(bot: BotHarness) -> None:
    bot.services.audit(ADMIN, "consent lookup", "P004", outcome="one", detail="page:no,group:yes,press:no")
    for person in (ADMIN, SLT, STRANGER):
        replies = await bot.say(person, "/audit")
        assert all("P004" not in r.plain and "Audit log" not in r.plain for r in replies)
    refused = [e for e in bot.audit() if e.action == "read audit log" and e.outcome == "refused: role"]
    assert {e.actor_id for e in refused} == {ADMIN, SLT}
    [page] = await bot.say(HEAD, "/audit")
    for data in [d for _, d in page.buttons]:  # the Head's own buttons, pressed by SLT
        answer = await bot.press(SLT, page, data=data)
        assert answer and "Sorry" in answer["text"]
    assert "P004" not in bot.last(SLT).plain


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
    assert all(len(data.encode()) <= 64 for _, data in bot.last(HEAD).buttons if data)


async def test_entries_read_as_plain_english_without_hashes_or_draft_ids(bot: BotHarness) -> None:
    await named(bot, ADMIN)
    audit = bot.services.audit
    audit(ADMIN, "consent lookup", "P004", outcome="one", detail="page:no,group:yes,press:no")
    audit(ADMIN, "photo check", "names", outcome="blocked", detail="purpose page; names given; pupils P004:no,P001:yes")
    audit(ADMIN, "incident opened", "INC-0007", detail="category 10.1; 1 screenshot(s); sha256 " + "ab" * 32)
    audit(ADMIN, "log misuse: cancel", "draft 3f2a9c0d1b2e")
    audit(HEAD, "incident action removed", "INC-0007")
    audit(0, "incident alert", "INC-0007", detail="queued for the Head Teacher")
    [page] = await bot.say(HEAD, "/audit")
    text = page.plain
    assert "Ada Admin checked the consent of P004: Facebook page ❌, parents' private group ✅" in text
    assert "Ada Admin checked the names for a photo of P004 ❌, P001 ✅ for the Facebook page: not clear" in text
    assert "Ada Admin logged incident INC-0007" in text
    assert "The bot alerted the Head Teacher to INC-0007" in text
    assert "Helen Head recorded “removed” on INC-0007" in text
    assert "abab" not in text and "3f2a9c0d1b2e" not in text and "draft" not in text


async def test_filters_by_person_kind_and_dates_with_buttons(bot: BotHarness, clock: FakeClock) -> None:
    await named(bot, ADMIN, ADMIN2, SLT)
    audit = bot.services.audit
    audit(ADMIN, "consent lookup", "P001", outcome="one", detail="page:yes,group:yes,press:no")
    clock.advance(days=3)
    audit(SLT, "grant", "user 5555", detail="admin")
    audit(ADMIN2, "rota change", "rota")
    [page] = await bot.say(HEAD, "/audit")
    await bot.press(HEAD, page, "Person")
    await bot.press(HEAD, bot.last(HEAD), "Ada Admin")
    only_ada = bot.last(HEAD).plain
    assert "by Ada Admin" in only_ada and "P001" in only_ada and "5555" not in only_ada and "rota" not in only_ada
    await bot.press(HEAD, bot.last(HEAD), "Show everything")
    await bot.press(HEAD, bot.last(HEAD), "Kind")
    await bot.press(HEAD, bot.last(HEAD), "Page moderation")
    moderation = bot.last(HEAD).plain
    assert "Alan Admin changed the moderation rota" in moderation and "P001" not in moderation
    await bot.press(HEAD, bot.last(HEAD), "Show everything")
    await bot.press(HEAD, bot.last(HEAD), "Dates")
    await bot.press(HEAD, bot.last(HEAD), "Today")
    today = bot.last(HEAD).plain
    assert "5555" in today and "P001" not in today
    [typed] = await bot.say(HEAD, "/audit from 25/11/2026 to 26/11/2026")
    assert "P001" in typed.plain and "5555" not in typed.plain and "25 Nov 2026 to 26 Nov 2026" in typed.plain


async def test_a_pupil_filter_finds_the_pupil_as_consent_does(bot: BotHarness) -> None:
    load(bot)
    audit = bot.services.audit
    audit(ADMIN, "consent lookup", "P001", outcome="one", detail="page:yes,group:yes,press:no")
    audit(ADMIN, "photo check", "names", outcome="ok to upload", detail="purpose page; names given; pupils P006")
    audit(ADMIN, "photo check", "names", outcome="ok to upload", detail="purpose page; names given; pupils P001,P006")
    [exact] = await bot.say(HEAD, "/audit pupil Amelia Jones")
    assert "pupil P006" in exact.plain and exact.plain.count("checked the names for a photo") == 2
    assert "consent of P001" not in exact.plain
    [ask] = await bot.say(HEAD, "/audit pupil Amelia")
    assert "Did you mean" in ask.plain and "checked" not in ask.plain
    await bot.press(HEAD, ask, "Amelia Smith (Year 3)")
    smith = bot.last(HEAD).plain
    assert "consent of P001" in smith and smith.count("checked the names for a photo") == 1
    answer = await bot.press(HEAD, ask, data="1:aud:fu:999:0")
    assert answer and "expired" in answer["text"]


async def test_odd_commands_and_forged_buttons_are_answered_and_change_nothing(bot: BotHarness) -> None:
    for n in range(30):
        bot.services.audit(SLT, "grant", f"user {90000 + n}")
    [page2] = await bot.say(HEAD, "/audit 2")
    assert "page 2" in page2.plain and "90017" in page2.plain and "90029" not in page2.plain
    [far] = await bot.say(HEAD, "/audit zzz")
    assert "did not understand" in far.plain and "/audit pupil NAME" in far.plain
    replies = await bot.say(HEAD, "/audit 99")
    assert any("only" in r.plain for r in replies)
    [bad] = await bot.say(HEAD, "/audit from 31/02/2026")
    assert "is not a date" in bad.plain
    for forged in ("1:aud:pg:77:0", "1:aud:pg:1:zz", "1:aud:fp:1:424242", "1:aud:fk:1:nuclear", "1:aud:nope:1", "2:aud:pg:1:0"):
        answer = await bot.press(HEAD, page2, data=forged)
        assert answer and "expired" in answer["text"], forged


async def test_a_group_chat_is_refused_and_shown_nothing(bot: BotHarness) -> None:
    bot.services.audit(ADMIN, "consent lookup", "P004", outcome="one", detail="page:no")
    group = -100500
    bot.emu.add_group(group, "Staff room")
    replies = await bot.say(HEAD, "/audit", chat_id=group)
    assert all("P004" not in r.plain for r in replies)
    assert any(e.action == "read audit log" and e.outcome == "refused: group chat" for e in bot.audit())


async def test_a_damaged_line_is_skipped_not_fatal(bot: BotHarness) -> None:
    bot.services.audit(ADMIN, "consent lookup", "P001", outcome="one", detail="page:yes")
    month = next(iter(sorted((bot.services.db.audit.folder).glob("audit-*.jsonl"))))
    with open(month, "ab") as f:
        f.write(b'{"at": "not a time", garbage\n')
    bot.services.audit(SLT, "grant", "user 4242")
    [page] = await bot.say(HEAD, "/audit")
    assert "P001" in page.plain and "4242" in page.plain


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


def test_a_rare_filter_reads_a_bounded_stretch_and_says_how_far_back_it_looked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = AuditLog(tmp_path / "audit")
    start = datetime(2026, 1, 1, tzinfo=UTC)
    log.append(AuditEntry(start, ADMIN, "admin", "consent lookup", "P777", outcome="one"))
    for n in range(1, 5000):  # months of other people's work after it
        log.append(AuditEntry(start + timedelta(hours=n), SLT, "slt", "consent lookup", f"P{n % 500}", outcome="one"))
    read: list[int] = []
    real = storage.audit._lines_backwards

    def counting(path: Path, stop: int | None) -> Any:
        for offset, line in real(path, stop):
            read.append(offset)
            yield offset, line

    monkeypatch.setattr(storage.audit, "_lines_backwards", counting)
    found = log.find_before(log.newest(), 12, lambda e: e.actor_id == ADMIN, limit=100)
    assert not found.entries and found.older is not None and found.searched_to is not None
    assert len(read) == 100, "decoding stops at the limit"
    read.clear()
    pupil = AuditFilter(pupil="P777")
    found = log.find_before(log.newest(), 12, pupil.matches, needle=pupil.needle(), limit=100)
    assert not found.entries and len(read) == 2000, "lines without the pupil's id are skipped undecoded, within a bound"
    while found.older is not None and not found.entries:  # Older › goes on from where it stopped
        found = log.find_before(found.older, 12, pupil.matches, needle=pupil.needle(), limit=100)
    assert [e.target for e in found.entries] == ["P777"]


@pytest.mark.parametrize(
    "action, kind",
    [
        ("consent lookup", "consent"),
        ("photo check", "consent"),
        ("photo received", "incidents"),
        ("incident action removed", "incidents"),
        ("approve application", "applications"),
        ("grant", "access"),
        ("rota change", "moderation"),
        ("read audit log", "records"),
        ("subject access", "records"),
        ("retention purge", "records"),
    ],
)
def test_each_action_falls_under_the_kind_a_governor_would_look_in(action: str, kind: str) -> None:
    assert kind_of(action) == kind


async def test_a_whole_misuse_report_is_one_entry_in_plain_english(bot: BotHarness) -> None:
    await named(bot, ADMIN)
    before = len(bot.audit())
    await log_misuse(bot, ADMIN, "pupil", shots=2)
    mine = [e for e in bot.audit()[before:] if e.actor_id == ADMIN]
    assert [e.action for e in mine] == ["incident opened"] and mine[0].detail.count("sha256 ") == 2
    [page] = await bot.say(HEAD, "/audit")
    assert "Ada Admin logged incident INC-0001" in page.plain and "sha256" not in page.plain


async def test_a_leaders_action_that_also_acknowledges_is_one_entry(bot: BotHarness) -> None:
    await named(bot, HEAD)
    await log_misuse(bot, ADMIN, "offensive")
    alert = next(m for m in bot.emu.messages_to(HEAD) if m.photo and "INC-0001" in (m.caption or ""))
    before = len(bot.audit())
    await bot.press(HEAD, alert, "Comment removed")
    mine = [e for e in bot.audit()[before:] if e.actor_id == HEAD]
    assert [(e.action, e.detail) for e in mine] == [("incident action removed", "acknowledged")]
    [page] = await bot.say(HEAD, "/audit")
    assert "Helen Head recorded “removed” on INC-0001 and acknowledged it" in page.plain


async def test_the_pages_being_turned_survive_a_restart(bot: BotHarness) -> None:
    for n in range(40):
        bot.services.audit(SLT, "grant", f"user {70000 + n}")
    [first] = await bot.say(HEAD, "/audit")
    await bot.press(HEAD, first, "Older ›")
    page2 = bot.last(HEAD)
    await bot.restart()
    await bot.press(HEAD, page2, "Older ›")
    assert "page 3" in bot.last(HEAD).plain and "70015" in bot.last(HEAD).plain
    await bot.press(HEAD, bot.last(HEAD), "‹ Newer")
    assert "page 2" in bot.last(HEAD).plain and "70027" in bot.last(HEAD).plain

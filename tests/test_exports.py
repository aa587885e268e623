"""The Head and SLT take the records into a spreadsheet: /export KIND [FROM TO], and the same from the command line."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from bot.__main__ import main
from bot.clock import FakeClock
from bot.date_range import BadRange, DateRange, parse_range
from bot.exports import safe_cell
from tests.conftest import ADMIN, HEAD, SLT, STRANGER, BotHarness
from tests.test_incidents import log_misuse


def rows_of(bot: BotHarness, document: Any) -> list[dict[str, str]]:
    data = bot.emu.files[document.document["file_id"]]
    assert data.startswith(b"\xef\xbb\xbf"), "UTF-8 with a BOM, for Excel"
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def test_cells_that_would_run_as_formulas_are_neutralised() -> None:
    for dangerous in ("=1+1", "+44 7700", "-2", "@SUM(A1)", "\tx", "\rx"):
        assert safe_cell(dangerous) == "'" + dangerous
    assert safe_cell("Zoë O'Brien") == "Zoë O'Brien" and safe_cell(None) == "" and safe_cell(42) == "42"


def test_uk_dates_are_read_day_first() -> None:
    from datetime import date

    assert parse_range(["3/11/2026", "to", "30/11/26"]) == DateRange(date(2026, 11, 3), date(2026, 11, 30))
    assert parse_range(["2026-11-03"]) == DateRange(date(2026, 11, 3), date(2026, 11, 3))
    for bad in (["31/02/2026"], ["30/11/2026", "1/11/2026"], ["1/1/2026", "2/1/2026", "3/1/2026"], ["soon"]):
        try:
            parse_range(bad)
        except BadRange:
            continue
        raise AssertionError(bad)


async def test_incidents_export_in_a_date_range_with_formulas_made_safe(bot: BotHarness, clock: FakeClock) -> None:
    await log_misuse(bot, ADMIN, "bullying", note="@SUM(A1) and =cmd|' /C calc'!A0")
    clock.advance(days=10)
    await log_misuse(bot, ADMIN, "other", note="later")
    [everything] = await bot.say(SLT, "/export")
    assert [r["ref"] for r in rows_of(bot, everything)] == ["INC-0001", "INC-0002"]
    [first_week] = await bot.say(SLT, "/export incidents 25/11/2026 01/12/2026")
    rows = rows_of(bot, first_week)
    assert [r["ref"] for r in rows] == ["INC-0001"] and rows[0]["note"].startswith("'@SUM")
    assert first_week.caption.startswith("1 incident, 25 Nov 2026 to 1 Dec 2026")
    assert [e.detail for e in bot.audit() if e.action == "export incidents"] == ["2 rows", "1 row"]


async def test_applications_audit_and_moderation_exports(bot: BotHarness) -> None:
    from bot.applications import PaperForm
    from bot.records.applications import Child

    bot.services.application_desk.record_paper(
        PaperForm("=Jo Bloggs", "Father", [Child("Noah", "")], conduct_signed=True), ADMIN, "Ada Admin"
    )
    [applications] = await bot.say(HEAD, "/export applications")
    [row] = rows_of(bot, applications)
    assert row["parent"] == "'=Jo Bloggs" and row["status"] == "pending"
    bot.services.audit(ADMIN, "photo check", "photo AgACfile42", outcome="blocked", detail="purpose page; sent; pupils P004:no")
    [audit] = await bot.say(HEAD, "/export audit")
    rows = rows_of(bot, audit)
    photo = next(r for r in rows if r["action"] == "photo check")
    assert photo["actor_id"] == str(ADMIN) and photo["target"] == "photo AgACfile42", "raw ids stay in the export"
    assert photo["in_words"] == "user 1005 checked a photo of P004 ❌ for the Facebook page: not clear"
    await bot.advance(days=2)  # tracking began after today's nudge time: the 26th is the first day owed
    [moderation] = await bot.say(HEAD, "/export moderation")
    days = rows_of(bot, moderation)
    assert [(d["day"], d["status"]) for d in days][:2] == [("2026-11-26", "missed"), ("2026-11-27", "due")]
    assert {e.action for e in bot.audit()} >= {"export applications", "export audit", "export moderation"}


async def test_who_may_export_what_and_bad_input(bot: BotHarness) -> None:
    bot.services.audit(ADMIN, "consent lookup", "P004", outcome="one")
    [refused] = await bot.say(SLT, "/export audit")
    assert "only the Head" in refused.plain and not refused.document
    for person in (ADMIN, STRANGER):
        for reply in await bot.say(person, "/export incidents"):
            assert not reply.document
    [bad_kind] = await bot.say(HEAD, "/export pupils")
    assert "cannot export" in bad_kind.plain and not bad_kind.document
    [bad_date] = await bot.say(HEAD, "/export incidents 31/13/2026")
    assert "is not a date" in bad_date.plain
    bot.emu.add_group(-100300, "Staff room")
    for reply in await bot.say(HEAD, "/export audit", chat_id=-100300):
        assert not reply.document


def test_the_command_line_writes_the_same_csv(tmp_path: Path, capsys: Any) -> None:
    data = tmp_path / "data"
    config = tmp_path / "config.toml"
    config.write_text(
        f'[telegram]\ntoken = "123:abc"\n[roles]\nhead = [1001]\n[storage]\ndata_dir = "{data}"\n', encoding="utf-8"
    )
    out = tmp_path / "audit.csv"
    assert main(["--config", str(config), "export", "incidents", "--out", str(out)]) == 0
    assert out.read_bytes().startswith(b"\xef\xbb\xbf") and b"ref,opened" in out.read_bytes()
    assert main(["--config", str(config), "export", "audit", "01/11/2026", "30/11/2026", "--out", str(out)]) == 0
    assert b"when,when_utc" in out.read_bytes()
    assert main(["--config", str(config), "export", "moderation", "31/02/2026"]) == 1
    assert "is not a date" in capsys.readouterr().err

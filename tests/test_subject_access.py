"""A parent asks "what do you hold about my child, and who looked at it?": the Head answers with /pupil."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest

from bot.applications import PaperForm
from bot.config import Config
from bot.records.applications import Child
from tests.conftest import ADMIN, HEAD, SLT, SLT2, STRANGER, BotHarness, make_config
from tests.test_consent_bot import REGISTER, load
from tests.test_incidents import log_misuse


@pytest.fixture
def config(data_dir: Path) -> Config:
    """SLT2 is the school's data-protection lead."""
    return make_config(data_dir, roles={"data_protection_leads": [SLT2]})


@pytest.fixture
async def school(bot: BotHarness) -> BotHarness:
    load(bot)
    for person in (ADMIN, HEAD, SLT2):
        await bot.say(person, "/help")  # the bot knows their names
    return bot


def rows_of(bot: BotHarness, document: Any) -> list[dict[str, str]]:
    data = bot.emu.files[document.document["file_id"]]
    assert data.startswith(b"\xef\xbb\xbf"), "UTF-8 with a BOM, for Excel"
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


async def test_the_head_gets_everything_held_about_one_pupil_and_who_looked(school: BotHarness) -> None:
    await school.say(ADMIN, "/consent Amelia Smith")
    [ask] = await school.say(ADMIN, "/check\nAmelia Smith\nNoah Williams")
    await school.press(ADMIN, ask, "Facebook page")
    await log_misuse(school, ADMIN, "pupil", note="=HYPERLINK(1) a parent named Amelia Smith in a comment")
    await log_misuse(school, ADMIN, "offensive", note="nothing about any child")
    school.services.application_desk.record_paper(
        PaperForm("Jo Smith", "Mother", [Child("Amelia Smith", "P001")], conduct_signed=True), ADMIN, "Ada Admin"
    )
    replies = await school.say(HEAD, "/pupil Amelia Smith")
    *summary, document = replies
    text = "\n".join(m.plain for m in summary)
    assert "Everything held about Amelia Smith" in text and "id P001" in text
    assert "✅ Facebook page" in text and "❌ press and publicity" in text
    assert "Ada Admin checked the consent of P001: Facebook page ✅" in text
    assert "Ada Admin checked the names for a photo of P001 ✅, another pupil ❌ for the Facebook page: not clear" in text
    assert "INC-0001" in text and "INC-0002" not in text
    assert "#1" in text and "Jo Smith (Mother)" in text
    assert "Ada Admin: 2 times" in text and "Helen Head: 1 time" in text, "the lookup itself shows who looked"
    assert all(len(m.text) <= 4096 for m in summary)
    rows = rows_of(school, document)
    sections = {r["section"] for r in rows}
    assert {"pupil", "consent", "check", "incident", "application", "looked at by", "audit"} <= sections
    note = next(r for r in rows if r["section"] == "incident")
    assert note["what"].startswith("'=HYPERLINK"), "a note never runs as a formula"
    assert "P006" not in document.document["file_name"] and "P001" in document.document["file_name"]
    assert any(e.action == "subject access" and e.target == "P001" and e.actor_id == HEAD for e in school.audit())
    for entry in school.audit():
        assert "Amelia" not in entry.target + entry.detail, "the audit names pupils by id only"


async def test_a_near_name_asks_first_and_a_forged_button_shows_nothing(school: BotHarness) -> None:
    [ask] = await school.say(HEAD, "/pupil Amelia")
    assert "Did you mean" in ask.plain and "Everything held" not in ask.plain
    assert {label for label, _ in ask.buttons} == {"Amelia Smith (Year 3)", "Amelia Jones (Year 1)"}
    for forged in ("1:sar:fu:999:0", "1:sar:fu:1:7", "1:sar:xx:1:0"):
        answer = await school.press(HEAD, ask, data=forged)
        assert answer and "expired" in answer["text"]
    await school.press(HEAD, ask, "Amelia Jones (Year 1)")
    report = [m for m in school.emu.messages_to(HEAD) if m.text and "Everything held" in m.text]
    assert report and "Amelia Jones" in report[-1].plain and "P006" in report[-1].plain


async def test_a_pupil_who_left_is_still_found(school: BotHarness) -> None:
    load(school, REGISTER.replace("P008,Grace,Lee,,Year 2,yes,yes,yes,2025-09-08,2026-12-10,\n", ""))
    replies = await school.say(HEAD, "/pupil Grace Lee")
    assert "left the school" in replies[0].plain and "P008" in replies[0].plain


async def test_the_data_protection_lead_may_and_other_leaders_strangers_and_groups_may_not(school: BotHarness) -> None:
    replies = await school.say(SLT2, "/pupil Amelia Smith")
    assert "Everything held about Amelia Smith" in replies[0].plain
    for person in (SLT, ADMIN, STRANGER):
        for reply in await school.say(person, "/pupil Amelia Smith"):
            assert "Amelia" not in reply.plain and "P001" not in reply.plain and not reply.document
    [ask] = await school.say(HEAD, "/pupil Amelia")
    answer = await school.press(SLT, ask, "Amelia Smith (Year 3)")
    assert answer is None or "Amelia" not in answer["text"]
    assert "Amelia" not in school.last(SLT).plain
    school.emu.add_group(-100300, "Staff room")
    for reply in await school.say(HEAD, "/pupil Amelia Smith", chat_id=-100300):
        assert "Amelia" not in reply.plain
    refused = {(e.actor_id, e.outcome) for e in school.audit() if e.action == "subject access"}
    assert {(SLT, "refused: role"), (ADMIN, "refused: role"), (HEAD, "refused: group chat")} <= refused


async def test_an_unknown_name_or_nothing_typed_is_answered_kindly(school: BotHarness) -> None:
    [none] = await school.say(HEAD, "/pupil Zebedee Quux")
    assert "No pupil" in none.plain
    [usage] = await school.say(HEAD, "/pupil")
    assert "Usage" in usage.plain

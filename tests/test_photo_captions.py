"""A photo's caption written as a sentence is searched for pupils' names; a list of names still works as before."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.config import Config
from tests import test_consent_bot
from tests.conftest import ADMIN, BotHarness, make_config

# The register test_consent_bot loads (Amelia Smith clear; Noah Williams withdrawn on 1 Oct 2026).
school = test_consent_bot.school


async def photo(bot: BotHarness, caption: str) -> list[Any]:
    mark = bot.emu.mark()
    bot.emu.send_photo(ADMIN, b"jpeg", caption=caption)
    await bot.settle()
    return list(bot.emu.since(mark, ADMIN))


async def test_a_sentence_with_no_pupils_name_says_so_plainly_and_never_not_found(school: BotHarness) -> None:
    replies = await photo(school, "Year 3 enjoying the science fair")
    said = "\n".join(m.plain for m in replies)
    assert "I found no pupils' names in that" in said
    assert "not found" not in said and "❌" not in said and "Year 3 enjoying" not in said
    assert not [e for e in school.audit() if e.action == "photo check"], "nobody was checked, so nobody was cleared"


async def test_the_pupils_named_in_a_sentence_are_each_checked(school: BotHarness) -> None:
    [ask, *_] = await photo(school, "Amelia Smith and Noah Williams at the science fair!")
    assert "2 pupils listed" in ask.plain
    await school.press(ADMIN, ask, "Facebook page")
    report = school.last(ADMIN).plain
    assert "✅ Amelia Smith" in report and "❌ Noah Williams — withdrawn on 1 Oct 2026" in report
    assert "science fair" not in report and "Do not upload" in report


async def test_a_first_name_in_a_sentence_is_asked_about_never_cleared(school: BotHarness) -> None:
    [ask, *_] = await photo(school, "Well done to Amelia for her painting.")
    assert "1 pupil listed" in ask.plain
    await school.press(ADMIN, ask, "Facebook page")
    report = school.last(ADMIN).plain
    assert "not confirmed" in report and "Do not upload" in report  # two Amelias: a person says which


async def test_one_name_per_line_or_commas_still_lists_every_name(school: BotHarness) -> None:
    [ask, *_] = await photo(school, "Amelia Smith\nMystery Child")
    assert "2 pupils listed" in ask.plain
    await school.press(ADMIN, ask, "Facebook page")
    report = school.last(ADMIN).plain
    assert "✅ Amelia Smith" in report and "❌ “Mystery Child” — not found" in report
    [ask, *_] = await photo(school, "Amelia Smith, Zoe O'Brien")
    await school.press(ADMIN, ask, "Facebook page")
    assert "OK to upload" in school.last(ADMIN).plain


@pytest.fixture
def config(data_dir: Path) -> Config:
    """A school that told the draft check "Bramble" is an ordinary word here (a pupil is called Bramble)."""
    return make_config(data_dir, consent={"common_first_names": ["Bramble"]})


async def test_a_caption_sentence_honours_the_schools_own_ordinary_first_names(bot: BotHarness) -> None:
    test_consent_bot.load(bot, test_consent_bot.REGISTER + "P009,Bramble,Jones,,Year 2,yes,yes,yes,2025-09-08,,\n")
    said = "\n".join(m.plain for m in await photo(bot, "Picking bramble berries at the autumn fair"))
    assert "I found no pupils' names in that" in said and "Bramble" not in said

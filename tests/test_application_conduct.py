"""A parent who asks to join on Telegram reads the code of conduct before the "I agree" button (policy 2.2)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.config import Config, ConfigError, parse_config
from tests import test_applications
from tests.conftest import SLT, BotHarness, make_config, raw_config
from tests.test_applications import GROUP, PARENT, card

# The parents' group, its register and its parents, as test_applications sets them up.
config, school = test_applications.config, test_applications.school

SCHOOL_CODE = "Be <kind> & fair.\nNo photos of other children."
SCHOOL_LINK = "https://example.org/conduct?a=1&b=2"


async def asked_to_agree(bot: BotHarness) -> Any:
    bot.emu.join_request(PARENT, GROUP)
    await bot.settle()
    [question] = await bot.say(PARENT, "Amelia Smith")
    return question


async def test_with_nothing_configured_the_applicant_reads_the_policys_group_rules_before_agreeing(school: BotHarness) -> None:
    question = await asked_to_agree(school)
    assert "The code of conduct of the parents' group (policy 2.2)" in question.plain
    assert "Do not post photos, videos or names of other people's children." in question.plain
    assert question.plain.index("other people's children") < question.plain.index("Do you agree to follow it?")
    assert [label for label, _ in question.buttons] == ["I agree", "I do not agree"]

    await school.press(PARENT, question, "I do not agree")
    assert [label for label, _ in question.buttons] == ["I agree"]
    assert "other people's children" in question.plain, "the one button left never agrees to something out of view"
    await school.press(PARENT, question, "I agree")
    assert "Code of conduct (policy 2.2): signed ✅" in card(school, SLT).plain


class TestTheSchoolsOwnCode:
    @pytest.fixture
    def config(self, data_dir: Path) -> Config:
        return make_config(
            data_dir,
            applications={"group_chat_id": GROUP, "code_of_conduct": SCHOOL_CODE, "code_of_conduct_url": SCHOOL_LINK},
        )

    async def test_the_schools_text_and_link_are_shown_escaped(self, school: BotHarness) -> None:
        question = await asked_to_agree(school)
        assert "Be <kind> & fair.\nNo photos of other children." in question.plain
        assert "Be &lt;kind&gt; &amp; fair." in question.text  # HTML-escaped, so it shows as typed
        assert "other people's children" not in question.plain  # the school's own code, not the summary
        assert f"Read it in full: {SCHOOL_LINK}" in question.plain
        assert any(e.get("url") == SCHOOL_LINK for e in question.entities), "a link the phone opens"
        assert question.plain.index("No photos") < question.plain.index("Do you agree")


def test_a_code_of_conduct_too_long_for_a_message_or_a_link_that_is_not_one_is_named(tmp_path: Path) -> None:
    raw = raw_config(tmp_path / "data", applications={"code_of_conduct": "x" * 2001, "code_of_conduct_url": "example.org"})
    with pytest.raises(ConfigError) as caught:
        parse_config(raw, tmp_path, env={})
    assert "applications.code_of_conduct: at most 2000 characters" in str(caught.value)
    assert "applications.code_of_conduct_url: must be a web address" in str(caught.value)

"""Issue 16 on a phone, the tester's second pass: a greeting is not a draft, a button still works after a
restart, a button reads as a sentence, /cancel ends a question, and the code of conduct stays readable."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.config import Config
from tests.conftest import ADMIN, HEAD, SLT, STRANGER, BotHarness, make_config
from tests.test_applications import GROUP, PARENT, card
from tests.test_consent_bot import load


@pytest.fixture
async def school(bot: BotHarness) -> BotHarness:
    load(bot)
    return bot


def labels(message: Any) -> list[str]:
    return [label for label, _ in message.buttons]


@pytest.mark.parametrize("said", ["hello", "Thanks!", "thank you so much", "ok", "good morning Mrs Smith"])
async def test_a_greeting_or_a_few_words_get_a_friendly_pointer_to_help_not_a_draft_check(bot: BotHarness, said: str) -> None:
    [answer] = await bot.say(ADMIN, said)
    assert "/help" in answer.plain and "checkpost" not in answer.plain.lower() and not answer.buttons
    assert len(answer.plain.splitlines()) == 1


async def test_a_pasted_draft_still_gets_the_offer_and_the_button_works_after_a_restart(school: BotHarness) -> None:
    [thanks] = await school.say(ADMIN, "Thanks to everyone who came to sports day!")
    assert "Did you mean /checkpost?" in thanks.plain, "a post that starts with thanks is still a post"
    [offer] = await school.say(ADMIN, "Well done Amelia Smith in Year 3 for her poem today!")
    assert "Did you mean /checkpost?" in offer.plain and labels(offer) == ["Check this text"]
    await school.restart()  # the in-memory copy of the text is gone; the chat still shows it above
    forged = await school.press(SLT, offer, data=offer.buttons[0][1])  # someone else's press learns nothing
    assert forged and "expired" in forged["text"] and labels(offer) == ["Check this text"]
    answer = await school.press(ADMIN, offer, "Check this text")
    assert not (answer and "expired" in (answer.get("text") or ""))
    assert "Amelia Smith" in offer.plain and not offer.buttons


async def test_the_yes_button_of_an_access_decision_reads_as_a_sentence(bot: BotHarness) -> None:
    [prompt] = await bot.say(STRANGER, "hello")
    await bot.press(STRANGER, prompt, "Request access")
    await bot.press(SLT, bot.last(SLT), "Make admin")
    assert labels(bot.last(SLT))[0] == "Yes, make Stan Stranger a page admin"
    bot.emu.add_user(8500, "Not", "Yet", started=False)
    [asked] = await bot.say(HEAD, "/grant 8500 admin")
    assert labels(asked)[0] == "Yes, make user 8500 a page admin"


async def test_cancel_ends_a_waiting_did_you_mean_and_takes_its_buttons_away(school: BotHarness) -> None:
    [ask] = await school.say(ADMIN, "/consent Amelai Smth")
    assert "None of these" in labels(ask)
    [cancelled] = await school.say(ADMIN, "/cancel")
    assert cancelled.plain == "Cancelled." and not ask.buttons
    [nothing] = await school.say(ADMIN, "/cancel")
    assert nothing.plain == "Nothing to cancel."
    # An answered question is not left for /cancel to end.
    [ask] = await school.say(ADMIN, "/consent Amelai Smth")
    await school.press(ADMIN, ask, "Amelia Smith (Year 3)")
    [nothing] = await school.say(ADMIN, "/cancel")
    assert nothing.plain == "Nothing to cancel."


class TestTheParentsGroup:
    @pytest.fixture
    def config(self, data_dir: Path) -> Config:
        return make_config(data_dir, applications={"group_chat_id": GROUP})

    @pytest.fixture
    async def school(self, bot: BotHarness) -> BotHarness:
        load(bot)
        bot.emu.add_group(GROUP, "Parents of St Example's")
        bot.emu.add_user(PARENT, "Pat", "Parent", started=False)
        return bot

    async def test_after_i_agree_the_code_stays_in_the_message_with_when_it_was_agreed(self, school: BotHarness) -> None:
        school.emu.join_request(PARENT, GROUP)
        await school.settle()
        [question] = await school.say(PARENT, "Amelia Smith")
        mark = school.emu.mark()
        await school.press(PARENT, question, "I agree")
        assert "other people's children" in question.plain, "what they agreed to is still readable"
        assert "✅ You agreed on " in question.plain and not question.buttons
        [next_step] = school.emu.since(mark, PARENT)
        assert "with the senior leaders" in next_step.plain
        assert "Code of conduct (policy 2.2): signed ✅" in card(school, SLT).plain

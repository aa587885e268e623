"""Whoever recorded a paper form answers a leader's question from the bot: Answer, type, and the leader has it."""

from __future__ import annotations

from typing import Any

from tests import test_applications
from tests.conftest import ADMIN, HEAD, OFFICE, SLT, SLT2, STRANGER, BotHarness, revoke
from tests.test_applications import card, record_form

# The parents' group, its register and its parents, as test_applications sets them up.
config, school = test_applications.config, test_applications.school


def question_to_office(bot: BotHarness) -> Any:
    return next(m for m in reversed(bot.emu.messages_to(OFFICE)) if "whose form you recorded" in m.plain)


def told(bot: BotHarness, who: int, words: str) -> list[str]:
    return [m.plain for m in bot.emu.messages_to(who) if words in m.plain]


async def ask(bot: BotHarness, question: str = "Which class is the child in?") -> Any:
    await bot.press(SLT, card(bot, SLT), "Ask for information")
    [preview] = await bot.say(SLT, question)
    await bot.press(SLT, preview, "Send")
    return question_to_office(bot)


async def test_the_office_answers_a_leaders_question_and_it_reaches_them_and_the_history(school: BotHarness) -> None:
    await record_form(school)
    question = await ask(school)
    assert "Which class is the child in?" in question.plain and "tap Answer" in question.plain
    assert [label for label, _ in question.buttons] == ["Answer"]
    reply = dict(question.buttons)["Answer"]

    await school.press(OFFICE, question, "Answer")
    assert "Type your answer about application #1" in school.last(OFFICE).plain
    await school.restart()  # the step is kept with the conversation
    [receipt] = await school.say(OFFICE, "Year 3, <confirmed> by the mother & father")
    assert receipt.plain == "✅ Your answer is on application #1 and with Sam Leader."
    [answer] = told(school, SLT, "answers about application #1")
    assert "Olive Office (recorded the form) answers about application #1 (Jo Bloggs)" in answer
    assert "Year 3, <confirmed> by the mother & father" in answer
    assert not told(school, SLT2, "answers about application #1"), "to the leader who asked"
    [history] = await school.say(SLT, "/application 1")
    assert "Olive Office answered: Year 3, <confirmed> by the mother & father" in history.plain

    [audit] = await school.say(HEAD, "/audit")
    assert "Olive Office answered a leader's question on application" in audit.plain  # in words, not an internal key
    assert "Year 3" not in audit.plain
    again = await school.press(OFFICE, question, data=reply)  # answered: a replayed Answer has nothing to do
    assert again and "Nothing to answer now" in again["text"]


async def test_only_the_recorder_or_a_leader_may_answer_and_only_while_it_waits(school: BotHarness) -> None:
    await record_form(school)
    question = await ask(school)
    reply = dict(question.buttons)["Answer"]
    not_theirs = await school.press(ADMIN, question, data=reply)  # an admin who did not record the form
    assert not_theirs and "Nothing to answer now" in not_theirs["text"]
    stranger = await school.press(STRANGER, question, data=reply)
    assert stranger and "Nothing to answer" not in stranger["text"]

    await school.press(OFFICE, question, "Answer")
    await school.press(SLT2, card(school, SLT2), "Approve")  # decided meanwhile
    [late] = await school.say(OFFICE, "Year 3")
    assert "was not sent" in late.plain
    assert not told(school, SLT, "answers about application #1")


async def test_an_office_answer_after_their_access_ended_goes_nowhere(school: BotHarness) -> None:
    await record_form(school)
    question = await ask(school)
    await school.press(OFFICE, question, "Answer")
    await revoke(school, SLT, OFFICE)
    await school.say(OFFICE, "Year 3, with a court order")
    assert not told(school, SLT, "court order")
    [history] = await school.say(SLT, "/application 1")
    assert "court order" not in history.plain


async def test_once_answered_the_question_and_the_prompt_keep_no_buttons(school: BotHarness) -> None:
    await record_form(school)
    question = await ask(school)
    await school.press(OFFICE, question, "Answer")
    prompt = school.last(OFFICE)
    assert [label for label, _ in prompt.buttons] == ["Cancel"]
    await school.say(OFFICE, "Year 3")
    assert not question.buttons and not prompt.buttons

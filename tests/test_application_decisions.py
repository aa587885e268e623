"""Reject, and Approve for a child not on the register, ask once more on the card itself: a mis-tap is not final."""

from __future__ import annotations

from typing import Any

from bot.records.applications import Status
from tests import test_applications
from tests.conftest import HEAD, OFFICE, SLT, SLT2, BotHarness, revoke
from tests.test_applications import LEADERS, card, join_and_agree, record_form

# The parents' group, its register and its parents, as test_applications sets them up.
config, school = test_applications.config, test_applications.school


def labels(message: Any) -> list[str]:
    return [label for label, _ in message.buttons]


def status(bot: BotHarness, number: int = 1) -> Status:
    application = bot.services.application_desk.get(number)
    assert application is not None
    return application.status


async def test_reject_asks_once_more_on_the_same_card_and_cancel_puts_it_back(school: BotHarness) -> None:
    await join_and_agree(school)
    mine = card(school, SLT)
    sent_before = len(school.emu.messages_to(SLT))
    await school.press(SLT, mine, "Reject")
    assert "Reject application #1?" in mine.plain and "cannot be undone" in mine.plain
    assert labels(mine) == ["Yes, reject", "Cancel"]
    assert len(school.emu.messages_to(SLT)) == sent_before, "the question is the card, not a new message"
    assert status(school) is Status.PENDING
    assert school.emu.join_requests[(test_applications.GROUP, test_applications.PARENT)] == "pending"
    for leader in (HEAD, SLT2):  # only the asking leader's copy asks
        assert labels(card(school, leader)) == ["Approve", "Reject", "Ask for information"]

    await school.press(SLT, mine, "Cancel")
    assert "Reject application" not in mine.plain and labels(mine) == ["Approve", "Reject", "Ask for information"]
    assert status(school) is Status.PENDING

    await school.press(SLT, mine, "Reject")
    yes = dict(mine.buttons)["Yes, reject"]
    answer = await school.press(SLT, mine, "Yes, reject")
    assert answer and answer["text"] == "Rejected."
    assert status(school) is Status.REJECTED
    for leader in LEADERS:
        copy = card(school, leader)
        assert "Rejected by Sam Leader" in copy.plain and not copy.buttons
    again = await school.press(SLT, mine, data=yes)  # a double tap
    assert again and "Already answered" in again["text"]
    assert [e.actor_id for e in school.audit() if e.action == "reject application" and e.outcome == "ok"] == [SLT]


async def test_approving_a_child_not_on_the_register_asks_once_more_a_matched_one_does_not(school: BotHarness) -> None:
    await record_form(school, children=(("Zed Nobody", None),))
    await record_form(
        school, parent="Sam Smith-Jones", children=(("Ollie Smith-Jones", "Ollie Smith-Jones (Year 3)"),), ref="F-18"
    )
    flagged = card(school, HEAD, 1)
    await school.press(HEAD, flagged, "Approve")
    assert status(school, 1) is Status.PENDING
    assert "Approve application #1?" in flagged.plain and "1 child is not found on the register" in flagged.plain
    assert labels(flagged) == ["Yes, approve — child not on the register", "Cancel"]
    await school.press(HEAD, flagged, "Yes, approve — child not on the register")
    assert status(school, 1) is Status.APPROVED and "Approved by Helen Head" in card(school, SLT, 1).plain
    assert school.last(OFFICE).plain.startswith(
        "✅ Application #1 (Jo Bloggs), whose form you recorded, was approved by Helen Head"
    )

    answer = await school.press(HEAD, card(school, HEAD, 2), "Approve")  # every child found: decided at once
    assert answer and answer["text"] == "Approved."
    assert status(school, 2) is Status.APPROVED


async def test_a_stale_forged_or_late_yes_changes_nothing(school: BotHarness) -> None:
    await join_and_agree(school)
    mine = card(school, SLT)
    await school.press(SLT, mine, "Reject")
    yes = dict(mine.buttons)["Yes, reject"]

    forged = await school.press(SLT2, card(school, SLT2), data=yes)  # another leader replays Sam's Yes
    assert forged and "expired" in forged["text"] and status(school) is Status.PENDING
    made_up = await school.press(SLT, mine, data=yes[:-2] + "00")
    assert made_up and "expired" in made_up["text"] and status(school) is Status.PENDING

    await school.press(SLT2, card(school, SLT2), "Approve")  # decided elsewhere meanwhile
    assert "Approved by" in mine.plain and not mine.buttons, "Sam's question left with the other copies' buttons"
    stale = await school.press(SLT, mine, data=yes)
    assert stale and "Already decided by" in stale["text"] and "Nothing changed" in stale["text"]
    assert status(school) is Status.APPROVED


async def test_the_question_survives_a_restart_and_says_so_when_it_has_expired(school: BotHarness) -> None:
    await join_and_agree(school)
    mine = card(school, SLT)
    await school.press(SLT, mine, "Reject")
    await school.restart()
    await school.press(SLT, mine, "Yes, reject")
    assert status(school) is Status.REJECTED

    await record_form(school, parent="Sam Smith-Jones", children=(("Ollie Smith-Jones", "Ollie Smith-Jones (Year 3)"),))
    second = card(school, HEAD, 2)
    await school.press(HEAD, second, "Reject")
    school.clock.advance(minutes=31)
    late = await school.press(HEAD, second, "Yes, reject")
    assert late and "expired" in late["text"] and "nothing changed" in late["text"]
    assert status(school, 2) is Status.PENDING and labels(second) == ["Approve", "Reject", "Ask for information"]


async def test_a_leader_revoked_between_reject_and_yes_cannot_confirm(school: BotHarness) -> None:
    await join_and_agree(school)
    mine = card(school, SLT2)
    await school.press(SLT2, mine, "Reject")
    yes = dict(mine.buttons)["Yes, reject"]
    await revoke(school, HEAD, SLT2)
    refused = await school.press(SLT2, mine, data=yes)
    assert refused and "Yes, reject" not in refused["text"]
    assert status(school) is Status.PENDING
    assert any(e.actor_id == SLT2 and e.outcome.startswith("refused") for e in school.audit())

"""Parents' group applications: Telegram's side of a decision (approve or decline the join request) and the clock."""

from __future__ import annotations

from typing import Any

import pytest

from tests import test_applications
from tests.conftest import DEPUTY, HEAD, SLT, SLT2, BotHarness
from tests.test_applications import (
    GROUP,
    LEADERS,
    PARENT,
    card,
    join_and_agree,
    join_calls,
    record_form,
)

# The parents' group, its register and its parents, as test_applications sets them up.
config, school = test_applications.config, test_applications.school


async def test_a_telegram_server_error_does_not_lose_the_decision(school: BotHarness) -> None:
    await join_and_agree(school)
    # Three failures outlast the rate limiter's quick retries; the stored decision is retried later.
    school.emu.fail_next("approveChatJoinRequest", 500, "Internal Server Error", count=3)
    await school.press(SLT, card(school, SLT), "Approve")
    assert school.emu.join_requests[(GROUP, PARENT)] == "pending"
    assert "Approved by Sam Leader" in card(school, SLT2).plain  # the decision itself is made and shown

    await school.restart()  # nothing lives only in memory
    await school.advance(seconds=30)
    assert school.emu.join_requests[(GROUP, PARENT)] == "approved"
    assert join_calls(school, "approveChatJoinRequest") == [(GROUP, PARENT)] * 4
    await school.advance(minutes=10)
    assert len(join_calls(school, "approveChatJoinRequest")) == 4
    outcomes = [e.outcome for e in school.audit() if e.action == "approve join request"]
    assert outcomes == ["retrying", "ok"]


async def test_a_join_request_someone_already_handled_counts_as_done(school: BotHarness) -> None:
    await join_and_agree(school)
    school.emu.join_requests[(GROUP, PARENT)] = "approved"  # another group admin let them in by hand
    await school.press(SLT, card(school, SLT), "Approve")
    [refusal] = [r for r in school.emu.refusals if "HIDE_REQUESTER_MISSING" in r.description]
    school.emu.refusals.remove(refusal)  # Telegram's answer for a request that is no longer there
    assert school.services.application_desk.get(1).join_action is None
    await school.advance(minutes=30)
    assert len(join_calls(school, "approveChatJoinRequest")) == 1
    [entry] = [e for e in school.audit() if e.action == "approve join request"]
    assert "already handled" in entry.detail


async def test_a_decision_made_while_telegram_is_down_reaches_it_once_after_a_restart(school: BotHarness) -> None:
    await join_and_agree(school)
    # Telegram answers 502 to every join-request call: at the press, a minute on, and after the restart.
    school.emu.fail_next("approveChatJoinRequest", 502, "Bad Gateway", count=9)
    await school.press(SLT, card(school, SLT), "Approve")
    assert "Approved by Sam Leader" in card(school, SLT2).plain and "has been approved" in school.last(PARENT).plain
    await school.advance(minutes=1)
    assert school.emu.join_requests[(GROUP, PARENT)] == "pending"

    await school.restart()  # the decision waits in the outbox on disk, not in memory
    await school.advance(minutes=1)
    assert school.emu.join_requests[(GROUP, PARENT)] == "pending", "Telegram is still down"
    await school.advance(minutes=10)  # Telegram is back
    assert school.emu.join_requests[(GROUP, PARENT)] == "approved"
    await school.advance(hours=1)
    assert join_calls(school, "approveChatJoinRequest") == [(GROUP, PARENT)] * 10, "sent until it landed, then never again"
    assert not [p for m, p in school.emu.calls if m == "sendMessage" and int(p["chat_id"]) == GROUP], "never as a message"
    assert [e.outcome for e in school.audit() if e.action == "approve join request"] == ["retrying", "ok"]
    [history] = await school.say(SLT, "/application 1")
    assert "Telegram join request approved (done)" in history.plain


@pytest.mark.parametrize(
    ("press", "status", "refusal", "words"),
    [
        ("Approve", 400, "Bad Request: CHAT_ADMIN_REQUIRED", "chat_admin_required"),
        ("Reject", 403, "Forbidden: bot was kicked from the supergroup chat", "bot was kicked"),
    ],
)
async def test_a_decision_telegram_refuses_is_not_retried_and_every_leader_is_told_once(
    school: BotHarness, press: str, status: int, refusal: str, words: str
) -> None:
    await join_and_agree(school)
    method = "approveChatJoinRequest" if press == "Approve" else "declineChatJoinRequest"
    verb = "approve" if press == "Approve" else "decline"
    school.emu.fail_next(method, status, refusal)  # the bot is no longer an admin of the parents' group
    await school.press(SLT, card(school, SLT), press)
    if press == "Reject":
        await school.press(SLT, card(school, SLT), "Yes, reject")  # Reject asks once more
    await school.advance(hours=3)
    await school.restart()
    await school.advance(hours=3)

    assert len(join_calls(school, method)) == 1, "a refusal is an answer: asking again cannot change it"
    assert school.emu.join_requests[(GROUP, PARENT)] == "pending"
    for leader in LEADERS:
        [told] = [m for m in school.emu.messages_to(leader) if "Telegram refused" in m.plain]
        assert f"Telegram refused to {verb} the join request of application #1 (Pat Parent <3)" in told.plain
        assert words in told.plain.lower() and f"Please {verb} the request by hand" in told.plain
    assert not [m for m in school.emu.messages_to(PARENT) if "Telegram refused" in m.plain]
    [entry] = [e for e in school.audit() if e.action == f"{verb} join request"]
    assert entry.outcome == "refused" and words in entry.detail.lower()
    [history] = await school.say(SLT, "/application 1")
    assert f"Telegram refused to {verb} the join request" in history.plain


async def test_pending_applications_are_chased_by_the_clock(school: BotHarness) -> None:
    await record_form(school)

    def reminders(who: int) -> list[Any]:  # each is edited, once decided, to say so
        return [m for m in school.emu.messages_to(who) if "Reminder" in m.plain or "was approved" in m.plain]

    await school.advance(hours=47, minutes=59)
    assert not reminders(SLT)
    await school.advance(minutes=2)
    assert [len(reminders(who)) for who in (SLT, SLT2, DEPUTY, HEAD)] == [1, 1, 1, 1]  # the Head decides too
    assert "waited 2 days" in reminders(SLT)[0].plain
    await school.restart()
    await school.advance(hours=1)
    assert len(reminders(SLT)) == 1  # once per period, across a restart
    await school.advance(hours=47)
    assert len(reminders(SLT)) == 2
    assert not [m for m in school.emu.messages_to(HEAD) if "waited over a week" in m.plain]
    await school.advance(days=3)  # a week since it arrived
    assert len([m for m in school.emu.messages_to(HEAD) if "waited over a week" in m.plain]) == 1
    await school.advance(days=1)
    assert len([m for m in school.emu.messages_to(HEAD) if "waited over a week" in m.plain]) == 1

    assert not [m for m in reminders(SLT) if m.buttons], "a reminder points to the card, the one place to decide"
    await school.press(SLT2, card(school, SLT2), "Approve")
    for message in [card(school, SLT), card(school, HEAD)]:
        assert "Approved by Sally Leader" in message.plain and not message.buttons
    assert all("was approved by Sally Leader" in m.plain for m in school.emu.messages_to(SLT) if m is not card(school, SLT))
    count = len(reminders(SLT))
    await school.advance(days=3)
    assert len(reminders(SLT)) == count


async def test_a_parent_who_does_not_answer_is_reminded_once(school: BotHarness) -> None:
    school.emu.join_request(PARENT, GROUP)
    await school.settle()
    await school.advance(hours=49)
    await school.advance(hours=49)
    nudges = [m for m in school.emu.messages_to(PARENT) if "A reminder about your request" in m.plain]
    assert len(nudges) == 1 and "child's full name" in nudges[0].plain

"""Parents' group applications, as the office, the senior leaders and parents meet them on their phones."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.applications import PaperForm
from bot.config import Config
from bot.records.applications import Child, Status
from bot.records.consent import Pupil
from tests.conftest import ADMIN, DEPUTY, HEAD, OFFICE, SLT, SLT2, STRANGER, BotHarness, make_config

GROUP = -100123
PARENT = 7001
PARENT2 = 7002
LEADERS = (HEAD, DEPUTY, SLT, SLT2)
PUPILS = [
    Pupil("P001", "Amelia", "Smith", class_name="Year 3"),
    Pupil("P002", "Oliver", "Smith-Jones", preferred_name="Ollie", class_name="Year 3"),
    Pupil("P003", "Noah", "Williams", class_name="Year 5"),
    Pupil("P004", "Amelia", "Jones", class_name="Year 1"),
]
PUPIL_NAMES = ("Amelia", "Smith", "Oliver", "Ollie", "Noah", "Williams", "Jones", "Zed")


@pytest.fixture
def config(data_dir: Path) -> Config:
    return make_config(data_dir, applications={"group_chat_id": GROUP})


@pytest.fixture
async def school(bot: BotHarness) -> BotHarness:
    bot.services.consents.replace_register(PUPILS, [])
    bot.emu.add_group(GROUP, "Parents of St Example's")
    bot.emu.add_user(PARENT, "Pat", "Parent <3", username="pat_parent", started=False)
    bot.emu.add_user(PARENT2, "Robin", "Other", started=False)
    return bot


async def record_form(
    bot: BotHarness,
    by: int = OFFICE,
    parent: str = "Jo Bloggs",
    children: tuple[tuple[str, str | None], ...] = (("Amelia Smith", "Amelia Smith (Year 3)"),),
    ref: str = "F-17",
    contact: str | None = None,
) -> Any:
    """Fill in /apply as office staff would; each child is (typed, button to press or None to flag it)."""
    await bot.say(by, "/apply")
    [relationship] = await bot.say(by, parent)
    await bot.press(by, relationship, "Mother")
    for number, (typed, choice) in enumerate(children):
        if number:
            await bot.press(by, bot.last(by), "Add another child")
        [matches] = await bot.say(by, typed)
        await bot.press(by, matches, choice or "Not on the register: flag it")
    await bot.press(by, bot.last(by), "That's all")
    await bot.press(by, bot.last(by), "Yes, signed")
    [contact_prompt] = await bot.say(by, ref)
    if contact is None:
        await bot.press(by, contact_prompt, "Skip")
    else:
        await bot.say(by, contact)
    summary = bot.last(by)
    await bot.press(by, summary, "Submit")
    return bot.last(by)


async def join_and_agree(bot: BotHarness, user: int = PARENT, child: str = "Amelia Smith") -> None:
    """A parent asks to join the group, names their child and agrees to the code of conduct."""
    bot.emu.join_request(user, GROUP)
    await bot.settle()
    [question] = await bot.say(user, child)
    await bot.press(user, question, "I agree")


def cards(bot: BotHarness, who: int, number: int = 1) -> list[Any]:
    return [m for m in bot.emu.messages_to(who) if f"Parents' group application #{number}" in m.plain]


def card(bot: BotHarness, who: int, number: int = 1) -> Any:
    return cards(bot, who, number)[0]


def join_calls(bot: BotHarness, method: str) -> list[tuple[int, int]]:
    return [(int(p["chat_id"]), int(p["user_id"])) for m, p in bot.emu.calls if m == method]


def audit_texts(bot: BotHarness) -> str:
    return "\n".join(f"{e.target} {e.detail}" for e in bot.audit())


async def test_office_records_a_paper_form_and_every_leader_gets_a_card(school: BotHarness) -> None:
    done = await record_form(
        school,
        parent="Jo <Bloggs> & Co",
        children=(("amelia smth", "Amelia Smith (Year 3)"), ("Zed Nobody", None)),
        contact="@jo_bloggs",
    )
    assert "Application #1 recorded and sent to the senior leaders" in done.plain
    assert "1 child not found on the register" in done.plain
    for leader in LEADERS:
        copy = card(school, leader)
        assert "Parent: Jo <Bloggs> & Co (Mother)" in copy.plain
        assert "Amelia Smith (Year 3) ✅ on the register" in copy.plain
        assert "Zed Nobody ⚠️ not found on the register" in copy.plain
        assert "Code of conduct (policy 2.2): signed ✅" in copy.plain
        assert "Paper form F-17, recorded by Olive Office" in copy.plain and "Contact: @jo_bloggs" in copy.plain
        assert [label for label, _ in copy.buttons] == ["Approve", "Reject", "Ask for information"]
    assert not cards(school, ADMIN) and not cards(school, OFFICE)
    recorded = [e for e in school.audit() if e.action == "record application"]
    assert [(e.actor_id, e.target) for e in recorded] == [(OFFICE, "application 1")]
    assert "P001" in recorded[0].detail and "not on register 1" in recorded[0].detail
    assert not any(name in audit_texts(school) for name in PUPIL_NAMES)


async def test_a_form_without_the_signed_code_of_conduct_cannot_be_submitted(school: BotHarness) -> None:
    await school.say(OFFICE, "/apply")
    [relationship] = await school.say(OFFICE, "Jo Bloggs")
    await school.press(OFFICE, relationship, "Father")
    [matches] = await school.say(OFFICE, "Noah Williams")
    await school.press(OFFICE, matches, "Noah Williams (Year 5)")
    await school.press(OFFICE, school.last(OFFICE), "That's all")
    question = school.last(OFFICE)
    await school.press(OFFICE, question, "No")
    assert "cannot be submitted" in question.plain and "policy 2.2" in question.plain
    assert [label for label, _ in question.buttons] == ["Yes, signed", "Cancel"]
    await school.press(OFFICE, question, "Cancel")
    assert "nothing was saved" in question.plain
    assert school.services.application_desk.get(1) is None
    assert not cards(school, SLT)
    with pytest.raises(ValueError, match=r"policy 2\.2"):
        school.services.application_desk.record_paper(
            PaperForm("Jo Bloggs", "Father", [Child("Noah", "P003")], conduct_signed=False), OFFICE, "Olive Office"
        )


async def test_long_answers_are_refused_kindly_and_the_form_can_be_cancelled_or_time_out(school: BotHarness) -> None:
    await school.say(ADMIN, "/apply")
    [refused] = await school.say(ADMIN, "x" * 101)
    assert "too long" in refused.plain and "100 characters" in refused.plain
    [relationship] = await school.say(ADMIN, "Jo Bloggs")
    assert "relationship" in relationship.plain
    [cancelled] = await school.say(ADMIN, "/cancel")
    assert "Cancelled: nothing was saved" in cancelled.plain

    await school.say(ADMIN, "/apply")
    await school.say(ADMIN, "Jo Bloggs")
    [timeout] = [job for job in school.app.job_queue.jobs() if job.name == "_trigger_timeout"]
    await timeout.run(school.app)
    await school.settle()
    assert "timed out after 30 minutes" in school.last(ADMIN).plain
    [after] = await school.say(ADMIN, "Grandparent")
    assert "Did you mean /checkpost?" in after.plain  # the form is gone: the text is not taken as an answer
    [stranger] = await school.say(STRANGER, "/apply")
    assert "only for staff" in stranger.plain
    assert school.services.application_desk.open_applications() == []


async def test_a_join_request_becomes_an_application_and_approval_lets_the_parent_in(school: BotHarness) -> None:
    school.emu.join_request(PARENT, GROUP)
    await school.settle()
    ask = school.last(PARENT)
    assert "Hello Pat Parent <3" in ask.plain and "child's full name" in ask.plain
    assert not cards(school, SLT)  # nothing reaches SLT before the applicant has answered

    [question] = await school.say(PARENT, "Amelia Smith")
    assert "code of conduct (policy 2.2)" in question.plain
    await school.press(PARENT, question, "I agree")
    assert "with the senior leaders" in question.plain
    for leader in LEADERS:
        copy = card(school, leader)
        assert "Telegram join request (@pat_parent)" in copy.plain
        assert "Parent: Pat Parent <3 (their Telegram name, not checked)" in copy.plain
        assert "Amelia Smith (Year 3) ✅" in copy.plain
    to_parent = "\n".join(m.plain for m in school.emu.messages_to(PARENT))
    assert "Year 3" not in to_parent and "Jones" not in to_parent  # a stranger never learns the register

    answer = await school.press(SLT, card(school, SLT), "Approve")
    assert answer and answer["text"] == "Approved."
    assert join_calls(school, "approveChatJoinRequest") == [(GROUP, PARENT)]
    assert school.emu.join_requests[(GROUP, PARENT)] == "approved"
    assert "has been approved" in school.last(PARENT).plain
    for leader in LEADERS:
        copy = card(school, leader)
        assert "Approved by Sam Leader at Wed 25 Nov 10:00" in copy.plain and not copy.buttons
    actions = [e.action for e in school.audit() if e.target == "application 1"]
    for step in (
        "join request",
        "applicant named children",
        "applicant code of conduct",
        "approve application",
        "approve join request",
        "application outcome sent",
    ):
        assert step in actions
    assert not any(name in audit_texts(school) for name in PUPIL_NAMES)


async def test_join_requests_to_other_groups_are_ignored(school: BotHarness) -> None:
    school.emu.add_group(-100999, "Football club")
    school.emu.join_request(PARENT, -100999)
    await school.settle()
    assert school.emu.messages_to(PARENT) == []
    assert school.services.application_desk.open_applications() == []
    assert school.emu.join_requests[(-100999, PARENT)] == "pending"


async def test_two_leaders_pressing_at_the_same_moment_make_exactly_one_decision(school: BotHarness) -> None:
    await record_form(school)
    mine, stale = card(school, SLT), card(school, SLT2)
    reject = dict(stale.buttons)["Reject"]
    first = school.emu.press(SLT, mine, "Approve")
    second = school.emu.press(SLT2, stale, data=reject)  # both taps arrive before either copy is edited
    await school.settle()
    assert (school.emu.callback_answer(first) or {})["text"] == "Approved."
    assert (school.emu.callback_answer(second) or {})["text"] == "Already decided by Sam Leader."
    assert school.services.application_desk.get(1).status is Status.APPROVED
    for leader in LEADERS:
        copy = card(school, leader)
        assert "Approved by Sam Leader" in copy.plain and not copy.buttons
    decisions = [(e.actor_id, e.action, e.outcome) for e in school.audit() if e.action.endswith("application")]
    assert (SLT, "approve application", "ok") in decisions
    assert (SLT2, "reject application", "refused: already decided") in decisions
    assert not [m for m in school.emu.messages_to(SLT2) if "reason" in m.plain]
    assert "was approved by Sam Leader" in school.last(OFFICE).plain


async def test_admins_office_and_strangers_cannot_decide(school: BotHarness) -> None:
    await record_form(school)
    copy = card(school, SLT)
    approve, reject = dict(copy.buttons)["Approve"], dict(copy.buttons)["Reject"]
    for person, expected in (
        (ADMIN, "only SLT members, the Deputy Head and the Head Teacher can do that"),
        (OFFICE, "Sorry, only"),
        (STRANGER, "not for you"),
    ):
        for tap, data in enumerate((approve, reject)):
            answer = await school.press(person, copy, data=data)
            if person != STRANGER or tap == 0:  # a stranger is answered once per window (flood limit)
                assert answer and expected in answer["text"]
    assert school.services.application_desk.get(1).status is Status.PENDING
    assert [label for label, _ in card(school, HEAD).buttons] == ["Approve", "Reject", "Ask for information"]
    refused = [
        e for e in school.audit() if e.action in ("approve application", "reject application") and e.outcome.startswith("refused")
    ]
    assert {e.actor_id for e in refused} == {ADMIN, OFFICE, STRANGER}


async def test_rejection_declines_the_join_request_and_the_reason_reaches_the_applicant(school: BotHarness) -> None:
    await join_and_agree(school)
    await school.press(HEAD, card(school, HEAD), "Reject")
    assert join_calls(school, "declineChatJoinRequest") == [(GROUP, PARENT)]
    assert school.emu.join_requests[(GROUP, PARENT)] == "declined"
    prompt = school.last(HEAD)
    assert "type a short reason" in prompt.plain and [label for label, _ in prompt.buttons] == ["Skip"]
    assert "not been approved" not in school.last(PARENT).plain  # the outcome waits for the reason

    [preview] = await school.say(HEAD, "We could not confirm <a link> to a pupil & family.")
    assert "not been approved" not in school.last(PARENT).plain  # nothing leaves before Send
    await school.press(HEAD, preview, "Send")
    assert "Reason recorded" in preview.plain
    told = school.last(PARENT)
    assert "has not been approved" in told.plain and "Reason: We could not confirm <a link> to a pupil & family." in told.plain
    for leader in LEADERS:
        assert "Rejected by Helen Head" in card(school, leader).plain
        assert "Reason: We could not confirm" in card(school, leader).plain


async def test_skipping_the_reason_tells_the_recorder_and_an_unanswered_prompt_times_out(school: BotHarness) -> None:
    await record_form(school)
    await record_form(
        school, parent="Sam Smith-Jones", children=(("Ollie Smith-Jones", "Ollie Smith-Jones (Year 3)"),), ref="F-18"
    )
    await school.press(SLT, card(school, SLT, 1), "Reject")
    await school.press(SLT, school.last(SLT), "Skip")
    assert "No reason given" in school.last(SLT).plain
    assert "Application #1 (Jo Bloggs), whose form you recorded, was rejected by Sam Leader." in school.last(OFFICE).plain

    await school.press(SLT2, card(school, SLT2, 2), "Reject")
    assert "#2" not in school.last(OFFICE).plain
    await school.advance(minutes=11)  # no reason typed: the outcome goes out without one
    assert "Application #2 (Sam Smith-Jones), whose form you recorded, was rejected" in school.last(OFFICE).plain
    [late] = await school.say(SLT2, "Too late now")
    assert "not sent" in late.plain and "The outcome was sent without one" in late.plain
    assert "Too late now" not in school.services.application_desk.get(2).reason


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

    def reminders(who: int) -> list[Any]:
        return [m for m in school.emu.messages_to(who) if "Reminder" in m.plain]

    await school.advance(hours=47, minutes=59)
    assert not reminders(SLT)
    await school.advance(minutes=2)
    assert [len(reminders(who)) for who in (SLT, SLT2, DEPUTY, HEAD)] == [1, 1, 1, 0]
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

    await school.press(SLT2, reminders(SLT2)[-1], "Approve")
    for message in [*reminders(SLT), card(school, HEAD)]:
        assert "Approved by Sally Leader" in message.plain and not message.buttons
    count = len(reminders(SLT))
    await school.advance(days=3)
    assert len(reminders(SLT)) == count


async def test_asking_for_information_reaches_the_applicant_and_their_answer_comes_back(school: BotHarness) -> None:
    await join_and_agree(school)
    await school.press(DEPUTY, card(school, DEPUTY), "Ask for information")
    assert "goes to the applicant" in school.last(DEPUTY).plain
    [preview] = await school.say(DEPUTY, "Which class is your child in?")
    await school.press(DEPUTY, preview, "Send")
    assert "Question sent to the applicant" in preview.plain
    assert "Which class is your child in?" in school.last(PARENT).plain
    [thanks] = await school.say(PARENT, "Year 3, with Mrs <Brown>")
    assert "passed your answer" in thanks.plain
    assert "replied:\nYear 3, with Mrs <Brown>" in school.last(DEPUTY).plain
    assert school.services.application_desk.get(1).status is Status.PENDING

    [history] = await school.say(SLT, "/application 1")
    assert "Derek Deputy asked: Which class is your child in?" in history.plain
    assert "Applicant replied: Year 3, with Mrs <Brown>" in history.plain
    [status] = await school.say(PARENT, "any news?")
    assert "with the senior leaders" in status.plain


async def test_a_question_about_a_paper_form_goes_to_whoever_recorded_it(school: BotHarness) -> None:
    await record_form(school)
    await school.press(SLT, card(school, SLT), "Ask for information")
    [preview] = await school.say(SLT, "Has the parent got a Telegram account?")
    await school.press(SLT, preview, "Send")
    assert "Olive Office (recorded the form)" in preview.plain
    relayed = school.last(OFFICE)
    assert "Sam Leader asks about application #1 (Jo Bloggs)" in relayed.plain
    assert "Has the parent got a Telegram account?" in relayed.plain
    await school.press(SLT2, card(school, SLT2), "Approve")
    answer = await school.press(SLT, card(school, SLT), data="1:app:ask:1")  # a stale copy
    assert answer and answer["text"] == "Already decided by Sally Leader."
    [after] = await school.say(SLT, "another question")
    assert "Did you mean /checkpost?" in after.plain


async def test_a_repeat_by_the_same_person_is_linked_not_duplicated(school: BotHarness) -> None:
    # The same parent's paper form twice (same name, same child): one application.
    await record_form(school)
    done = await record_form(school, by=ADMIN, parent="jo  bloggs", ref="F-99")
    assert "same parent as application #1" in done.plain
    assert school.services.application_desk.get(2) is None
    assert len(cards(school, SLT)) == 1
    assert "recorded by Olive Office, Ada Admin" in card(school, SLT).plain  # every copy updated
    await school.press(SLT, card(school, SLT), "Approve")
    assert "whose form you recorded, was approved" in school.last(ADMIN).plain
    assert "whose form you recorded, was approved" in school.last(OFFICE).plain

    # The same Telegram user asking twice: one application, and they are told where it stands.
    school.emu.join_request(PARENT2, GROUP)
    await school.settle()
    school.emu.join_request(PARENT2, GROUP)
    await school.settle()
    assert len(school.services.application_desk.open_applications()) == 1
    assert "child's full name" in school.last(PARENT2).plain
    assert any(e.detail == "repeat: linked" for e in school.audit())


async def test_a_join_request_from_the_parent_named_on_a_paper_form_joins_that_application(school: BotHarness) -> None:
    await record_form(school, contact="@Pat_Parent")
    school.emu.join_request(PARENT, GROUP)
    await school.settle()
    assert "with the senior leaders" in school.last(PARENT).plain
    assert school.services.application_desk.get(2) is None
    assert "Telegram join request (@pat_parent)" in card(school, HEAD).plain
    await school.press(HEAD, card(school, HEAD), "Approve")
    assert school.emu.join_requests[(GROUP, PARENT)] == "approved"
    assert "has been approved" in school.last(PARENT).plain

    # Decided before: a new request is a new application that shows the earlier one.
    school.emu.join_requests[(GROUP, PARENT)] = "pending"
    await join_and_agree(school)
    assert "Applied before: #1 (approved)" in card(school, SLT, 2).plain


async def test_only_the_applicant_can_answer_for_their_request(school: BotHarness) -> None:
    school.emu.join_request(PARENT, GROUP)
    await school.settle()
    [question] = await school.say(PARENT, "Amelia Smith")
    answer = await school.press(PARENT2, question, data=dict(question.buttons)["I agree"])
    assert answer and "no longer active" in answer["text"]
    await school.press(PARENT, question, "I do not agree")
    assert "cannot go to the senior leaders" in question.plain
    assert school.services.application_desk.get(1).status is Status.COLLECTING and not cards(school, SLT)
    [again] = await school.say(PARENT, "hello?")
    assert "Do you agree" in again.plain
    await school.press(PARENT, again, "I agree")
    assert len(cards(school, SLT)) == 1
    [too_late] = [school.emu.press(PARENT, question, "I agree")]
    await school.settle()
    assert "no longer active" in (school.emu.callback_answer(too_late) or {})["text"]


async def test_a_parent_who_does_not_answer_is_reminded_once(school: BotHarness) -> None:
    school.emu.join_request(PARENT, GROUP)
    await school.settle()
    await school.advance(hours=49)
    await school.advance(hours=49)
    nudges = [m for m in school.emu.messages_to(PARENT) if "A reminder about your request" in m.plain]
    assert len(nudges) == 1 and "child's full name" in nudges[0].plain


async def test_pending_lists_page_by_page_and_application_shows_history(school: BotHarness) -> None:
    apps = school.services.application_desk
    for n in range(12):
        filed = apps.record_paper(
            PaperForm(f"Parent {n} <&>", "Carer", [Child("Noah", "P003")], True, f"F-{n}"), OFFICE, "Olive Office"
        )
        assert filed.application.number == n + 1
    [first] = await school.say(OFFICE, "/pending")
    assert "Page 1 of 2" in first.plain and "#1 Parent 0 <&>: waiting under an hour for a decision" in first.plain
    await school.press(OFFICE, first, "Next ›")
    assert "Page 2 of 2" in first.plain and "#12" in first.plain
    [one] = await school.say(SLT, "/application 3")
    assert "Parents' group application #3" in one.plain and "Paper form F-2 recorded by Olive Office" in one.plain
    [usage] = await school.say(SLT, "/application x")
    assert "Usage" in usage.plain
    [refused] = await school.say(STRANGER, "/pending")
    assert "only for staff" in refused.plain
    assert ("view application", "application 3") in [(e.action, e.target) for e in school.audit()]


async def test_a_paper_form_completes_a_join_request_the_parent_never_answered(school: BotHarness) -> None:
    school.emu.join_request(PARENT, GROUP)
    await school.settle()
    done = await record_form(school, contact="t.me/pat_parent")
    assert "same parent as application #1" in done.plain
    assert "Amelia Smith (Year 3) ✅" in card(school, SLT).plain and "@pat_parent" in card(school, SLT).plain
    assert "with the senior leaders" in school.last(PARENT).plain
    [status] = await school.say(PARENT, "Amelia Smith")  # no longer asked for: they hear where it stands
    assert "with the senior leaders" in status.plain
    await school.press(SLT, card(school, SLT), "Reject")
    await school.press(SLT, school.last(SLT), "Skip")
    assert school.emu.join_requests[(GROUP, PARENT)] == "declined"
    assert "has not been approved" in school.last(PARENT).plain


async def test_a_leader_who_recorded_the_form_has_nobody_to_ask(school: BotHarness) -> None:
    await record_form(school, by=SLT)
    answer = await school.press(SLT, card(school, SLT), "Ask for information")
    assert answer and "you recorded this form yourself" in answer["text"]


# ---- identity is never a display name (issue 12, point 5) -------------------------------------


STRANGER_JO = 7003


def share_contact(bot: BotHarness, user: int, phone: str, owner: int | None = None) -> None:
    """The user shares a contact card in their private chat (their own unless `owner` says otherwise)."""
    contact = {"phone_number": phone, "first_name": "Jo", "user_id": owner or user}
    bot.emu._user_message(user, None, {"contact": contact}, None)


async def test_a_stranger_with_the_parents_name_is_kept_apart_from_the_vetted_form(school: BotHarness) -> None:
    await record_form(school)  # the office's vetted form for Jo Bloggs, child Amelia Smith
    school.emu.add_user(STRANGER_JO, "Jo", "Bloggs", started=False)
    await join_and_agree(school, STRANGER_JO, "Amelia Smith")

    assert school.services.application_desk.get(1).applicant_id == 0, "the form is not given to a display name"
    second = school.services.application_desk.get(2)
    assert second.status is Status.PENDING and second.same_name_as == 1
    for leader in LEADERS:
        assert "Same name as form #1 — verify before approving" in card(school, leader, 2).plain
        assert "verify" not in card(school, leader, 1).plain

    # Questions about the form go to the office, never to the unverified account.
    await school.press(SLT, card(school, SLT, 1), "Ask for information")
    [preview] = await school.say(SLT, "Does the parent have a court order?")
    await school.press(SLT, preview, "Send")
    await school.press(HEAD, card(school, HEAD, 1), "Approve")
    told = "\n".join(m.plain for m in school.emu.messages_to(STRANGER_JO))
    assert "court order" not in told and "approved" not in told
    assert join_calls(school, "approveChatJoinRequest") == [], "the Head's Approve of the form lets nobody in"
    assert school.emu.join_requests[(GROUP, STRANGER_JO)] == "pending"


async def test_a_form_recorded_after_a_same_name_join_request_marks_it_for_checking(school: BotHarness) -> None:
    school.emu.add_user(STRANGER_JO, "Jo", "Bloggs", started=False)
    await join_and_agree(school, STRANGER_JO, "Amelia Smith")
    done = await record_form(school)
    assert "Application #2 recorded" in done.plain, "not linked to the join request"
    assert school.services.application_desk.get(1).same_name_as == 2
    assert "Same name as form #2 — verify before approving" in card(school, SLT, 1).plain


async def test_the_username_on_the_form_links_and_a_phone_links_only_when_shared_by_its_owner(school: BotHarness) -> None:
    await record_form(school, parent="Robin Other", contact="07700 900123")
    assert "Phone: 07700900123" in card(school, SLT).plain
    school.emu.join_request(PARENT2, GROUP)
    await school.settle()
    assert "share your contact" in school.last(PARENT2).plain

    share_contact(school, PARENT2, "+44 7700 900123", owner=STRANGER)  # somebody else's card: proves nothing
    await school.settle()
    assert school.services.application_desk.get(2).status is Status.COLLECTING

    share_contact(school, PARENT2, "+44 7700 900123")
    await school.settle()
    assert "with the senior leaders" in school.last(PARENT2).plain
    assert school.services.application_desk.get(2).status is Status.LINKED
    assert school.services.application_desk.get(1).applicant_id == PARENT2
    await school.press(HEAD, card(school, HEAD), "Approve")
    assert school.emu.join_requests[(GROUP, PARENT2)] == "approved"
    assert "has been approved" in school.last(PARENT2).plain


async def test_the_contact_step_takes_only_what_can_be_verified(school: BotHarness) -> None:
    await school.say(OFFICE, "/apply")
    [relationship] = await school.say(OFFICE, "Jo Bloggs")
    await school.press(OFFICE, relationship, "Mother")
    [matches] = await school.say(OFFICE, "Amelia Smith")
    await school.press(OFFICE, matches, "Amelia Smith (Year 3)")
    await school.press(OFFICE, school.last(OFFICE), "That's all")
    await school.press(OFFICE, school.last(OFFICE), "Yes, signed")
    await school.say(OFFICE, "F-17")
    [refused] = await school.say(OFFICE, "Jo B on Facebook")
    assert "Telegram username" in refused.plain and "phone number" in refused.plain
    [summary] = await school.say(OFFICE, "@jo_bloggs, +44 7700 900123")
    assert "Telegram username: @jo_bloggs" in summary.plain and "Phone: 447700900123" in summary.plain


# ---- floods, prompts and who sees what (issue 12, points 15, 17, 18) --------------------------


async def test_a_flood_of_taps_from_the_applicant_does_not_grow_the_history(school: BotHarness) -> None:
    school.emu.join_request(PARENT, GROUP)
    await school.settle()
    [question] = await school.say(PARENT, "Amelia Smith")
    no = dict(question.buttons)["I do not agree"]
    for _ in range(30):
        school.emu.press(PARENT, question, data=no)
    await school.settle()
    apps = school.services.application_desk
    refusals = [e for e in apps.history(1) if "did not agree" in e.text]
    assert len(refusals) == 1
    audit_before = len(school.audit())
    for _ in range(30):
        school.emu.press(PARENT, question, data=no)
    await school.settle()
    assert len(apps.history(1)) == len(refusals) + 2  # received, named children, did not agree
    assert len(school.audit()) == audit_before
    yes = dict(question.buttons)["I agree"]
    for _ in range(10):
        school.emu.press(PARENT, question, data=yes)
    await school.settle()
    assert len(cards(school, SLT)) == 1
    assert not [e for e in school.audit() if e.outcome.startswith("refused")]
    for _ in range(5):  # withdrawing and asking again in a loop
        school.emu.join_request(PARENT, GROUP)
        await school.settle()
    assert len([e for e in apps.history(1) if "again" in e.text]) == 1


async def test_a_leaders_prompt_expires_and_typed_text_waits_for_send(school: BotHarness) -> None:
    await join_and_agree(school)
    await school.press(SLT, card(school, SLT), "Ask for information")
    await school.advance(minutes=20)
    [late] = await school.say(SLT, "Lunch at 1? Bring the court order file")
    assert "Your question about application #1 was not sent" in late.plain and "court order" not in late.plain
    assert not [m for m in school.emu.messages_to(PARENT) if "court order" in m.plain]

    await school.press(SLT, card(school, SLT), "Ask for information")
    [preview] = await school.say(SLT, "Which class is your child in?")
    assert "Which class is your child in?" in preview.plain and [label for label, _ in preview.buttons] == ["Send", "Cancel"]
    assert not [m for m in school.emu.messages_to(PARENT) if "Which class" in m.plain]
    await school.press(SLT, preview, "Cancel")
    assert not [m for m in school.emu.messages_to(PARENT) if "Which class" in m.plain]

    await school.press(SLT, card(school, SLT), "Ask for information")
    [preview] = await school.say(SLT, "Which year is your child in?")
    await school.advance(minutes=6)
    answer = await school.press(SLT, preview, "Send")
    assert answer and "time ran out" in answer["text"]
    assert not [m for m in school.emu.messages_to(PARENT) if "Which year" in m.plain]


async def test_only_leaders_read_an_applications_history(school: BotHarness) -> None:
    await record_form(school)
    await school.press(SLT, card(school, SLT), "Reject")
    [preview] = await school.say(SLT, "Father has a court order; do not admit")
    await school.press(SLT, preview, "Send")
    [refused] = await school.say(ADMIN, "/application 1")
    assert "for the senior leaders" in refused.plain and "court order" not in refused.plain
    [pending] = await school.say(ADMIN, "/pending")
    assert "Jo Bloggs" not in pending.plain
    [own] = await school.say(OFFICE, "/application 1")
    assert "Parents' group application #1" in own.plain and "History" not in own.plain
    [leader] = await school.say(HEAD, "/application 1")
    assert "History" in leader.plain and "court order" in leader.plain
    assert ("view application", "refused: not recorded by them") in [
        (e.action, e.outcome) for e in school.audit() if e.actor_id == ADMIN
    ]


async def test_the_longest_application_card_reminder_and_history_reach_every_phone(school: BotHarness) -> None:
    apps = school.services.application_desk
    children = [Child("🦊" * 100) for _ in range(8)]  # every field at its longest; emoji count twice
    form = PaperForm("🐧" * 100, "🦉" * 40, children, True, "🐝" * 40, "@long_username_here_12345", "447700900123")
    for recorder in (OFFICE, ADMIN, SLT2, DEPUTY):
        filed = apps.record_paper(form, recorder, "Olive Office")
    from handlers.applications import send_cards

    send_cards(school.runtime, filed.application)
    await school.settle()
    await school.press(SLT, card(school, SLT), "Ask for information")
    [preview] = await school.say(SLT, "🐙" * 500)
    await school.press(SLT, preview, "Send")
    await school.advance(hours=49)  # a reminder: a header above the whole card
    assert [m for m in school.emu.messages_to(SLT) if "Reminder" in m.plain]
    await school.press(HEAD, card(school, HEAD), "Reject")
    [preview] = await school.say(HEAD, "🦑" * 500)
    await school.press(HEAD, preview, "Send")
    [history] = await school.say(HEAD, "/application 1")
    assert "Rejected by" in history.plain
    await school.say(OFFICE, "/application 1")
    await school.say(HEAD, "/pending")
    assert not school.emu.unexpected_refusals(), school.emu.unexpected_refusals()


async def test_a_form_linked_by_username_gives_the_card_the_offices_name(school: BotHarness) -> None:
    school.emu.join_request(PARENT, GROUP)
    await school.settle()
    await record_form(school, parent="Patricia Parent", contact="@pat_parent")
    copy = card(school, SLT)
    assert "Parent: Patricia Parent (Mother)" in copy.plain and "not checked" not in copy.plain

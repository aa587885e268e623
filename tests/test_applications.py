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


STRANGER_JO = 7003


def share_contact(bot: BotHarness, user: int, phone: str, owner: int | None = None) -> None:
    """The user shares a contact card in their private chat (their own unless `owner` says otherwise)."""
    contact = {"phone_number": phone, "first_name": "Jo", "user_id": owner or user}
    bot.emu._user_message(user, None, {"contact": contact}, None)


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
    assert after.plain.startswith("Hello! Send /help")  # the form is gone: the text is not taken as an answer
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
    assert "code of conduct of the parents' group (policy 2.2)" in question.plain
    await school.press(PARENT, question, "I agree")
    assert "You agreed on" in question.plain and "with the senior leaders" in school.last(PARENT).plain
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
    await school.press(HEAD, card(school, HEAD), "Yes, reject")  # Reject asks once more
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
    await school.press(SLT, card(school, SLT, 1), "Yes, reject")  # Reject asks once more
    await school.press(SLT, school.last(SLT), "Skip")
    assert "No reason given" in school.last(SLT).plain
    assert "❌ Application #1 (Jo Bloggs), whose form you recorded, was rejected by Sam Leader." in school.last(OFFICE).plain

    await school.press(SLT2, card(school, SLT2, 2), "Reject")
    await school.press(SLT2, card(school, SLT2, 2), "Yes, reject")  # Reject asks once more
    assert "#2" not in school.last(OFFICE).plain
    await school.advance(minutes=11)  # no reason typed: the outcome goes out without one
    assert "Application #2 (Sam Smith-Jones), whose form you recorded, was rejected" in school.last(OFFICE).plain
    [late] = await school.say(SLT2, "Too late now")
    assert "not sent" in late.plain and "The outcome was sent without one" in late.plain
    assert "Too late now" not in school.services.application_desk.get(2).reason


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
    [after] = await school.say(SLT, "Is the parent on Telegram? The office has no number for them.")
    assert "Did you mean /checkpost?" in after.plain  # no question is waiting: a pasted text, offered the draft check


async def test_a_leader_who_recorded_the_form_has_nobody_to_ask(school: BotHarness) -> None:
    await record_form(school, by=SLT)
    answer = await school.press(SLT, card(school, SLT), "Ask for information")
    assert answer and "you recorded this form yourself" in answer["text"]


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


async def test_the_form_leaves_no_live_buttons_under_a_step_it_has_left(school: BotHarness) -> None:
    await school.say(OFFICE, "/apply")
    [relationship] = await school.say(OFFICE, "Jo Bloggs")
    await school.say(OFFICE, "Aunt")  # typed instead of tapped
    assert not relationship.buttons, "Mother/Father/Carer would do nothing now"
    [matches] = await school.say(OFFICE, "Amelia")
    [again] = await school.say(OFFICE, "Amelia Smith")  # typed again instead of choosing
    assert not matches.buttons and again.buttons
    await school.press(OFFICE, again, "Amelia Smith (Year 3)")
    await school.press(OFFICE, again, "That's all")
    await school.press(OFFICE, again, "Yes, signed")
    [contact] = await school.say(OFFICE, "F-17")
    [summary] = await school.say(OFFICE, "@jo_bloggs")  # typed instead of Skip
    assert not contact.buttons and [label for label, _ in summary.buttons] == ["Submit", "Cancel"]
    [cancelled] = await school.say(OFFICE, "/cancel")
    assert "nothing was saved" in cancelled.plain and not summary.buttons
    assert school.services.application_desk.get(1) is None

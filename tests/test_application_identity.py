"""Parents' group applications: who is the same person (a verified account, username or phone, never a display name)."""

from __future__ import annotations

from bot.records.applications import Status
from tests import test_applications
from tests.conftest import ADMIN, HEAD, OFFICE, SLT, STRANGER, BotHarness
from tests.test_applications import (
    GROUP,
    LEADERS,
    PARENT,
    PARENT2,
    STRANGER_JO,
    card,
    cards,
    join_and_agree,
    join_calls,
    record_form,
    share_contact,
)

# The parents' group, its register and its parents, as test_applications sets them up.
config, school = test_applications.config, test_applications.school


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
    await school.press(SLT, card(school, SLT), "Yes, reject")  # Reject asks once more
    await school.press(SLT, school.last(SLT), "Skip")
    assert school.emu.join_requests[(GROUP, PARENT)] == "declined"
    assert "has not been approved" in school.last(PARENT).plain


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


async def test_a_form_linked_by_username_gives_the_card_the_offices_name(school: BotHarness) -> None:
    school.emu.join_request(PARENT, GROUP)
    await school.settle()
    await record_form(school, parent="Patricia Parent", contact="@pat_parent")
    copy = card(school, SLT)
    assert "Parent: Patricia Parent (Mother)" in copy.plain and "not checked" not in copy.plain

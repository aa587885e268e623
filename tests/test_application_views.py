"""Parents' group applications: floods of taps, the leaders' views, and the longest card on every phone."""

from __future__ import annotations

from bot.applications import PaperForm
from bot.records.applications import Child
from tests import test_applications
from tests.conftest import ADMIN, DEPUTY, HEAD, OFFICE, SLT, SLT2, STRANGER, BotHarness
from tests.test_applications import (
    GROUP,
    PARENT,
    card,
    cards,
    record_form,
)

# The parents' group, its register and its parents, as test_applications sets them up.
config, school = test_applications.config, test_applications.school


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


async def test_only_leaders_read_an_applications_history(school: BotHarness) -> None:
    await record_form(school)
    await school.press(SLT, card(school, SLT), "Reject")
    await school.press(SLT, card(school, SLT), "Yes, reject")  # Reject asks once more
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
    await school.press(HEAD, card(school, HEAD), "Yes, reject")  # Reject asks once more
    [preview] = await school.say(HEAD, "🦑" * 500)
    await school.press(HEAD, preview, "Send")
    [history] = await school.say(HEAD, "/application 1")
    assert "Rejected by" in history.plain
    await school.say(OFFICE, "/application 1")
    await school.say(HEAD, "/pending")
    assert not school.emu.unexpected_refusals(), school.emu.unexpected_refusals()

"""Help that fits a phone, and no dead ends: what a busy Head, an admin or the office meets when
they ask for help, mistype a command or paste a draft with no command at all (issue 16, points 2 and 3)."""

from __future__ import annotations

from bot.shell.callbacks import pack
from tests.conftest import ADMIN, HEAD, OFFICE, SLT, STRANGER, BotHarness

REGISTER = (
    "pupil_id,first_name,last_name,preferred_name,class,consent_page,consent_group,consent_press,form_date,expires,withdrawn\n"
    "P001,Amelia,Smith,,3B,yes,yes,no,2025-09-01,,\n"
)


def commands_in(text: str) -> set[str]:
    return {word.strip(".,;?") for word in text.split() if word.startswith("/")}


async def test_the_heads_help_shows_a_handful_grouped_and_more_opens_the_rest_on_the_same_message(bot: BotHarness) -> None:
    [page] = await bot.say(HEAD, "/help")
    assert "You are the Head Teacher." in page.plain
    assert "If something goes wrong" in page.plain and "Parents' group" in page.plain
    daily = commands_in(page.plain)
    assert {"/incidents", "/pending", "/consent"} <= daily and "/grant" not in daily
    assert len(daily) <= 9, f"a handful, not {len(daily)}"
    mark = bot.emu.mark()
    await bot.press(HEAD, page, "More commands ›")
    assert bot.emu.since(mark) == [], "More edits the same message"
    assert {"/grant", "/revoke", "/staff", "/bans"} <= commands_in(page.plain)
    await bot.press(HEAD, page, "‹ Back")
    assert commands_in(page.plain) == daily


async def test_each_roles_phone_menu_is_its_everyday_help(bot: BotHarness) -> None:
    for who in (HEAD, SLT, ADMIN, OFFICE):
        [page] = await bot.say(who, "/start")
        menu = {"/" + c["command"] for c in bot.emu.commands_for(who)}
        assert menu == commands_in(page.plain.split("\n", 2)[2]) | {"/help"}, who
    assert {"/import", "/expiring", "/apply", "/pending"} <= {"/" + c["command"] for c in bot.emu.commands_for(OFFICE)}
    assert "/log" not in {"/" + c["command"] for c in bot.emu.commands_for(OFFICE)}


async def test_more_is_checked_again_for_the_role_the_person_has_now(bot: BotHarness) -> None:
    [page] = await bot.say(SLT, "/help")
    await bot.say(HEAD, f"/grant {SLT} admin")
    await bot.press(SLT, page, "More commands ›")
    assert "/grant" not in page.plain and "You are a page admin." in page.plain
    await bot.press(STRANGER, page, data=pack("help", "more"))
    assert "/grant" not in page.plain


async def test_a_pasted_draft_is_offered_the_draft_check_and_the_button_checks_that_text(bot: BotHarness) -> None:
    await bot.say(OFFICE, "/import")
    bot.emu.send_document(OFFICE, REGISTER.encode(), "register.csv", "text/csv")
    await bot.settle()
    await bot.press(OFFICE, bot.last(OFFICE), "Confirm")
    [offer] = await bot.say(ADMIN, "Well done Amelia Smith in 3B! Call 07700 900123")
    assert "Did you mean /checkpost?" in offer.plain and "understand" not in offer.plain
    assert len(offer.buttons[0][1] or "") <= 64 and "Amelia" not in (offer.buttons[0][1] or "")
    # Someone else pressing the same button (a forwarded screenshot of the data) learns nothing.
    forged = await bot.press(SLT, offer, data=offer.buttons[0][1])
    assert forged and "expired" in forged["text"] and "Amelia" not in offer.plain
    mark = bot.emu.mark()
    await bot.press(ADMIN, offer, "Check this text")
    assert bot.emu.since(mark) == [], "the check shows on the same message"
    assert "Amelia Smith" in offer.plain and "Phone number" in offer.plain and not offer.buttons


async def test_office_text_and_mistyped_commands_get_a_suggestion_and_cancel_says_nothing_is_running(bot: BotHarness) -> None:
    [office] = await bot.say(OFFICE, "hello")
    assert "/import" in office.plain and "understand" not in office.plain and not office.buttons
    [typo] = await bot.say(ADMIN, "/chekpost")
    assert typo.plain == "There is no /chekpost. Did you mean /checkpost?"
    [alias] = await bot.say(ADMIN, "/misuses")
    assert "Did you mean /log?" in alias.plain
    [other] = await bot.say(OFFICE, "/incidnts")
    assert "Did you mean /incidents" not in other.plain, "only commands of their own role are suggested"
    [nothing] = await bot.say(ADMIN, "/cancel")
    assert nothing.plain == "Nothing to cancel."
    [none] = await bot.say(HEAD, "/application 1")
    assert "There is no application #1." in none.plain and "Usage" not in none.plain
    [stranger] = await bot.say(STRANGER, "/chekpost")
    assert "only for staff" in stranger.plain and "checkpost" not in stranger.plain


async def test_a_refusal_names_who_may_and_the_role_as_people_say_it(bot: BotHarness) -> None:
    [refused] = await bot.say(OFFICE, "/rota")
    assert "moderation nudge" not in refused.plain
    assert "page admins, SLT members, the Deputy Head and the Head Teacher" in refused.plain
    assert "You are office staff." in refused.plain

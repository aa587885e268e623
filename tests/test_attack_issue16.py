"""Issue 16 as a busy Head, a deputy and SLT would judge it on a phone: what still buzzed twice,
spoke in the bot's own words or led nowhere, each found by walking the real bot and then fixed."""

from __future__ import annotations

from typing import Any

from tests import test_applications
from tests.conftest import ADMIN, DEPUTY, HEAD, OFFICE, SLT, SLT2, BotHarness
from tests.test_applications import cards, record_form

config, school = test_applications.config, test_applications.school


def with_buttons(bot: BotHarness, who: int) -> list[Any]:
    return [m for m in bot.emu.messages_to(who) if m.buttons]


async def test_a_waiting_application_pings_each_leader_in_two_lines_instead_of_a_new_card_every_two_days(
    school: BotHarness,
) -> None:
    await record_form(school)
    for _ in range(8):  # a reminder every 48 hours, and the Head's notice after a week
        await school.advance(days=1)
    for leader in (HEAD, DEPUTY, SLT, SLT2):
        [card] = cards(school, leader)
        assert with_buttons(school, leader) == [card], "one card to decide on, not one per reminder"
        pings = [m for m in school.emu.messages_to(leader) if "application #1 " in m.plain and m is not card]
        assert len(pings) == 4 + (leader == HEAD), "four reminders in eight days, and the Head's week notice"
        assert all(len(p.plain.splitlines()) <= 2 and "card above" in p.plain for p in pings)
    head_pings = [m.plain for m in school.emu.messages_to(HEAD)]
    assert any("For the Head Teacher" in p and "over a week" in p for p in head_pings)

    await school.press(SLT2, cards(school, SLT2)[0], "Approve")
    for leader in (HEAD, SLT):
        pings = [m for m in school.emu.messages_to(leader) if "Application #1 " in m.plain]
        assert pings and all("was approved by Sally Leader" in p.plain and "waited" not in p.plain for p in pings)


async def test_audit_past_its_last_page_answers_in_one_message_and_a_page_check_reads_as_a_day(bot: BotHarness) -> None:
    await bot.say(ADMIN, "/checked")  # Wednesday 25 November
    [page] = await bot.say(HEAD, "/audit 2")
    assert page.plain.startswith("The log has only 1 page; here is the last.\nAudit log")
    assert "Ada Admin recorded the page check for Wed 25 Nov" in page.plain and "2026-11-25" not in page.plain


async def test_the_weekly_digest_is_one_message_in_plain_words(bot: BotHarness) -> None:
    await bot.say(ADMIN, "/checked")  # Wednesday 25 November
    mark = bot.emu.mark()
    await bot.advance(days=5)  # Monday 30 November, after the digest's hour
    digest = [m for m in bot.emu.since(mark, HEAD) if "digest" in m.plain.lower() or "12 weeks" in m.plain]
    assert len(digest) == 1, "one buzz for the week's digest: the chart with the words as its caption"
    assert "moderation check" not in digest[0].plain and "recorded the page check" in digest[0].plain


async def test_cancel_while_an_import_preview_waits_cancels_it_and_a_second_file_retires_the_first(bot: BotHarness) -> None:
    from tests.test_import_bot import ROWS, csv, send_file

    [*_, first] = await send_file(bot, OFFICE, csv(*ROWS))
    [*_, second] = await send_file(bot, OFFICE, csv(*ROWS[:7]))
    assert "Confirm" in [label for label, _ in second.buttons]
    assert not first.buttons, "one Confirm in the chat: the file sent last"
    [cancelled] = await bot.say(OFFICE, "/cancel")
    assert cancelled.plain == "Import cancelled. The register is unchanged." and not second.buttons
    [nothing] = await bot.say(OFFICE, "/cancel")
    assert nothing.plain == "Nothing to cancel."
    assert not bot.services.consents.index().pupils, "nothing was loaded"


async def test_a_newer_retention_list_takes_the_delete_button_off_the_weekly_one(bot: BotHarness) -> None:
    from tests.test_retention import CHECK, OLD, closed_incident, previews_to

    await bot.say(HEAD, "/help")
    await closed_incident(bot, OLD)
    bot.clock.set(CHECK.replace(hour=8, minute=59))
    await bot.tick()
    bot.clock.set(CHECK)
    await bot.tick()
    [*older, weekly] = previews_to(bot, HEAD)
    assert weekly.buttons and not [m for m in older if m.buttons], "each week's list replaces the last one's buttons"
    [now] = await bot.say(HEAD, "/retention")
    assert not weekly.buttons and "Replaced by a newer list" in weekly.plain, "one list with a Delete button"
    await bot.press(HEAD, now, "Delete these records")
    assert "Deleted by Helen Head" in now.plain and not now.buttons


async def test_a_re_ping_reads_without_brackets_inside_brackets(bot: BotHarness) -> None:
    from tests.test_incidents import log_misuse

    await log_misuse(bot, ADMIN, "offensive")
    mark = bot.emu.mark()
    await bot.advance(minutes=31)
    [ping] = [m for m in bot.emu.since(mark, HEAD) if "Still waiting for you" in m.plain]
    assert "))" not in ping.plain


async def test_an_urgent_receipt_reads_without_two_brackets_side_by_side(bot: BotHarness) -> None:
    from tests.test_incidents import log_misuse

    await log_misuse(bot, ADMIN, "pupil")
    [receipt] = [m for m in bot.emu.messages_to(ADMIN) if "Logged as INC-0001" in m.plain]
    assert "Pupil named or described (6.2) — urgent." in receipt.plain and ") (" not in receipt.plain

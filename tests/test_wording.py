"""The bot's words as a Head reads them: counts, roles and times (bot.wording)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.roles import Role
from bot.wording import a_role, listing, plural, role_name, roles_named, verb, when, you_are
from emulator.records import SentMessage
from handlers.status import duration
from tests.conftest import ADMIN, HEAD, OFFICE, SLT, STRANGER, BotHarness, decline, make_config

LONDON = ZoneInfo("Europe/London")


def test_a_count_reads_with_the_right_noun() -> None:
    assert plural(1, "pupil") == "1 pupil"
    assert plural(0, "pupil") == "0 pupils"
    assert plural(2, "child") == "2 children"
    assert plural(1, "child") == "1 child"
    assert plural(3, "person") == "3 people"
    assert plural(2, "match") == "2 matches"
    assert plural(2, "reply") == "2 replies"
    assert plural(2, "day") == "2 days"
    assert plural(4, "staff") == "4 staff"
    assert plural(2, "form of consent", "forms of consent") == "2 forms of consent"
    assert verb(1, "is") == "is" and verb(2, "is") == "are" and verb(2, "was") == "were"


def test_roles_read_as_people_say_them() -> None:
    assert you_are(Role.ADMIN) == "You are a page admin."
    assert you_are(Role.SLT) == "You are an SLT member."
    assert you_are(Role.HEAD) == "You are the Head Teacher."
    assert role_name(Role.SLT) == "SLT member"
    assert a_role(Role.OFFICE) == "office staff"
    assert roles_named({Role.HEAD, Role.SLT, Role.ADMIN}) == "page admins, SLT members and the Head Teacher"
    assert listing(["one"]) == "one" and listing(["a", "b"]) == "a and b"


def test_times_read_as_today_yesterday_or_a_day_in_the_school_zone() -> None:
    now = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
    assert when(datetime(2026, 11, 30, 14, 35, tzinfo=UTC), now, LONDON) == "today 14:35"
    assert when(datetime(2026, 11, 29, 9, 10, tzinfo=UTC), now, LONDON) == "yesterday 09:10"
    assert when(datetime(2026, 11, 23, 14, 35, tzinfo=UTC), now, LONDON) == "Mon 23 Nov 14:35"
    assert when(datetime(2025, 11, 30, 14, 35, tzinfo=UTC), now, LONDON) == "Sun 30 Nov 2025 14:35"
    # Summer time: 23:30 UTC on 1 Jul is already 2 Jul, 00:30 in London.
    assert when(datetime(2026, 7, 1, 23, 30, tzinfo=UTC), datetime(2026, 7, 2, 8, 0, tzinfo=UTC), LONDON) == "today 00:30"


# ---- the same words on the phone, end to end through the emulator -----------------------------------

HEADER = (
    "pupil_id,first_name,last_name,preferred_name,class,consent_page,consent_group,consent_press,form_date,expires,withdrawn\n"
)
ONE_PUPIL = "P001,Amelia,Smith,,Year 3,no,yes,no,2025-09-05,,\n"


async def send_register(bot: BotHarness, rows: str) -> SentMessage:
    mark = bot.emu.mark()
    bot.emu.send_document(OFFICE, (HEADER + rows).encode(), "register.csv", "text/csv")
    await bot.settle()
    return bot.emu.since(mark, OFFICE)[-1]


async def test_one_of_everything_reads_in_the_singular(bot: BotHarness) -> None:
    preview = await send_register(bot, ONE_PUPIL + "P002,Ben,Jones,,Year 1,maybe,yes,no,2025-09-05,,\n")
    assert "1 row rejected" in preview.plain and "fix it in the export" in preview.plain
    await bot.press(OFFICE, preview, "Confirm")
    assert "1 pupil on roll." in preview.plain
    [ask] = await bot.say(ADMIN, "/check\nAmelia Smith")
    assert ask.plain.startswith("1 pupil listed.")
    await bot.press(ADMIN, ask, 0)
    assert "Do not upload: 1 of 1 pupil is not clear" in bot.last(ADMIN).plain
    [audit] = await bot.say(HEAD, "/audit")
    assert "(previewed, 1 row rejected)" in audit.plain
    for message in bot.emu.all_messages:
        assert "(s)" not in message.plain and "1 pupils" not in message.plain and "1 rows" not in message.plain


async def test_an_access_decision_reads_with_a_tick_or_a_cross_and_the_role_as_people_say_it(bot: BotHarness) -> None:
    [refusal] = await bot.say(STRANGER, "/start")
    await bot.press(STRANGER, refusal, "Request access")
    card = bot.last(SLT)
    await decline(bot, SLT, card)
    assert "❌ Declined by Sam Leader, Wed 25 Nov 10:00" in card.plain and "✔️" not in card.plain
    assert "Sorry, your access request was declined." in bot.last(STRANGER).plain
    await bot.say(HEAD, f"/grant {STRANGER} slt")
    assert "You now have access as an SLT member." in bot.last(STRANGER).plain
    [refused] = await bot.say(SLT, f"/revoke {HEAD}")
    assert "Only the Head Teacher can remove the Head Teacher." in refused.plain
    [staff] = await bot.say(HEAD, "/staff")
    assert "— SLT member" in staff.plain and "— page admin" in staff.plain and "Senior Leadership Team" not in staff.plain


def test_check_config_counts_read_right(data_dir: Any) -> None:
    config = make_config(data_dir, roles={"head": [HEAD], "deputy": [], "admins": [ADMIN], "slt": [SLT], "office": [OFFICE]})
    assert "Roles: 1 head, 0 deputies, 1 SLT, 1 admin, 1 office" in config.summary()
    assert "0 holiday ranges" in config.summary()


def test_status_uptime_reads_one_day_not_one_days() -> None:
    assert duration(timedelta(days=1, hours=2)) == "1 day 2 h"
    assert duration(timedelta(days=3)) == "3 days 0 h"

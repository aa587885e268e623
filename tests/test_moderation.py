"""The daily "moderate the page" nudge, as admins, SLT and the Head meet it on their phones.

The clock starts on Monday 23 November 2026 at 06:00 (London is on GMT, so local = UTC), the
page is moderated Monday to Friday, nudge 08:30, deadline 12:00.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from pathlib import Path
from types import SimpleNamespace

import pytest

from bot.clock import FakeClock, local_moment
from bot.config import Config
from bot.shell.callbacks import pack
from tests.conftest import (
    ADMIN,
    ADMIN2,
    DEPUTY,
    HEAD,
    OFFICE,
    SLT,
    SLT2,
    STRANGER,
    BotHarness,
    make_config,
    revoke,
)

MONDAY = date(2026, 11, 23)
TUESDAY, WEDNESDAY, THURSDAY, FRIDAY = (date(2026, 11, d) for d in (24, 25, 26, 27))
NEXT_MONDAY = date(2026, 11, 30)
WEEKDAYS_ONLY = ["mon", "tue", "wed", "thu", "fri"]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 23, 6, 0, tzinfo=UTC))


@pytest.fixture
def config(data_dir: Path) -> Config:
    return make_config(data_dir, moderation={"days": WEEKDAYS_ONLY})


async def at(bot: BotHarness, day: date, hhmm: str) -> None:
    """Move the clock to a school-local time and let the scheduler do what is due."""
    hour, minute = map(int, hhmm.split(":"))
    bot.clock.set(local_moment(day, time(hour, minute), bot.config.school.timezone))
    await bot.tick()


async def meet_everyone(bot: BotHarness) -> None:
    """Staff open the bot once, so it knows their names."""
    for user in (HEAD, DEPUTY, SLT, SLT2, ADMIN, ADMIN2, OFFICE):
        await bot.say(user, "/help")


def nudges_to(bot: BotHarness, user: int) -> list:
    return [m for m in bot.emu.messages_to(user) if "Moderate the page" in ((m.history[0].text or "") if m.history else m.plain)]


def missed_alerts(bot: BotHarness) -> list:
    return [m for m in bot.emu.messages_to(HEAD) if "has not been moderated today" in m.plain]


def record(bot: BotHarness, day: date):
    return bot.services.moderation.day(day)


# ---- the nudge and its answers -------------------------------------------------------------------


async def test_every_admin_is_nudged_at_nudge_time_and_one_answer_updates_every_copy(bot: BotHarness) -> None:
    await meet_everyone(bot)
    await at(bot, MONDAY, "08:29")
    assert nudges_to(bot, ADMIN) == [] and nudges_to(bot, ADMIN2) == []

    await at(bot, MONDAY, "08:30")
    [ada], [alan] = nudges_to(bot, ADMIN), nudges_to(bot, ADMIN2)
    assert "On duty today: Ada Admin, Alan Admin" in ada.plain and "by 12:00" in ada.plain
    assert [label for label, _ in ada.buttons] == ["Page checked, all fine", "Found a problem", "Remind me in an hour"]
    assert nudges_to(bot, SLT) == [] and nudges_to(bot, HEAD) == []  # nobody on the rota: every *admin*

    await at(bot, MONDAY, "09:10")
    answer = await bot.press(ADMIN2, alan, "Page checked, all fine")
    assert answer and "recorded as all fine" in answer["text"]
    for copy in (ada, alan):
        assert "Checked by Alan Admin at 09:10: all fine" in copy.plain and copy.buttons == []

    late_answer = await bot.press(ADMIN, ada, data=pack("mod", "ok", MONDAY.isoformat()))  # pressed before the edit arrived
    assert late_answer and "Already checked today by Alan Admin at 09:10" in late_answer["text"]
    saved = record(bot, MONDAY)
    assert (saved.checked_by, saved.outcome) == (ADMIN2, "fine")
    assert saved.checked_at == datetime(2026, 11, 23, 9, 10, tzinfo=UTC)

    await at(bot, MONDAY, "12:00")
    assert missed_alerts(bot) == []


async def test_found_a_problem_is_recorded_and_offers_log_it_now(bot: BotHarness) -> None:
    await meet_everyone(bot)
    await at(bot, MONDAY, "08:30")
    [ada] = nudges_to(bot, ADMIN)
    await at(bot, MONDAY, "08:45")
    await bot.press(ADMIN, ada, "Found a problem")

    offer = bot.last(ADMIN)
    assert "Please log what you found now" in offer.plain
    assert offer.buttons == [("Log it now", pack("log", "start"))]
    [alan] = nudges_to(bot, ADMIN2)
    assert "a problem was found" in alan.plain and "Checked by Ada Admin at 08:45: found a problem" in alan.plain
    assert record(bot, MONDAY).outcome == "problem"

    # Alan also spots something: nothing is re-recorded, but he can still log it.
    await bot.press(ADMIN2, alan, data=pack("mod", "problem", MONDAY.isoformat()))
    second = bot.last(ADMIN2)
    assert "Already checked today by Ada Admin" in second.plain
    assert second.buttons == [("Log it now", pack("log", "start"))]
    assert record(bot, MONDAY).checked_by == ADMIN


async def test_a_double_tap_records_one_answer(bot: BotHarness) -> None:
    await at(bot, MONDAY, "08:30")
    [ada] = nudges_to(bot, ADMIN)
    data = pack("mod", "ok", MONDAY.isoformat())
    await bot.press(ADMIN, ada, data=data)
    await bot.press(ADMIN, ada, data=data)
    checks = [e for e in bot.audit() if e.action == "moderation check"]
    assert [(e.actor_id, e.target, e.detail) for e in checks] == [(ADMIN, "2026-11-23", "fine")]


async def test_checked_command_works_before_the_nudge_and_then_no_nudge_is_needed(bot: BotHarness) -> None:
    await meet_everyone(bot)
    await at(bot, MONDAY, "07:50")
    [reply] = await bot.say(ADMIN, "/checked")
    assert "Checked by Ada Admin at 07:50: all fine" in reply.plain
    [again] = await bot.say(ADMIN2, "/checked problem")
    assert "Already checked today by Ada Admin at 07:50 (all fine)" in again.plain
    assert again.buttons == [("Log it now", pack("log", "start"))]
    [usage] = await bot.say(ADMIN, "/checked maybe")
    assert "Usage" in usage.plain

    await at(bot, MONDAY, "08:30")
    await at(bot, MONDAY, "12:00")
    assert nudges_to(bot, ADMIN) == [] and missed_alerts(bot) == []

    await at(bot, date(2026, 11, 28), "10:00")  # Saturday
    [weekend] = await bot.say(ADMIN, "/checked")
    assert "not a moderation day" in weekend.plain


async def test_remind_me_in_an_hour_comes_back_even_after_a_restart(bot: BotHarness) -> None:
    await meet_everyone(bot)
    await at(bot, MONDAY, "08:30")
    [ada] = nudges_to(bot, ADMIN)
    [alan] = nudges_to(bot, ADMIN2)
    await at(bot, MONDAY, "08:40")
    answer = await bot.press(ADMIN, ada, "Remind me in an hour")
    assert answer and "remind you at 09:40" in answer["text"]
    await bot.press(ADMIN2, alan, "Remind me in an hour")

    await bot.restart()
    await at(bot, MONDAY, "09:39")
    assert len(nudges_to(bot, ADMIN)) == 1
    await at(bot, MONDAY, "09:40")
    reminders = nudges_to(bot, ADMIN)[1:]
    assert len(reminders) == 1 and "Reminder" in reminders[0].plain and reminders[0].buttons

    await bot.press(ADMIN, reminders[0], "Page checked, all fine")
    for copy in [ada, alan, *reminders]:
        assert "Checked by Ada Admin at 09:40" in copy.plain and not copy.buttons
    await at(bot, MONDAY, "11:00")
    assert len(nudges_to(bot, ADMIN)) == 2 and len(nudges_to(bot, ADMIN2)) == 2  # one nudge + one reminder each


async def test_a_reminder_is_dropped_once_someone_else_has_checked(bot: BotHarness) -> None:
    await at(bot, MONDAY, "08:30")
    [alan] = nudges_to(bot, ADMIN2)
    await bot.press(ADMIN2, alan, "Remind me in an hour")
    await bot.say(ADMIN, "/checked")
    await at(bot, MONDAY, "09:30")
    assert len(nudges_to(bot, ADMIN2)) == 1
    answer = await bot.press(ADMIN2, alan, data=pack("mod", "remind", MONDAY.isoformat()))
    assert answer and "Already checked today" in answer["text"]


async def test_old_and_forged_nudge_buttons_change_nothing(bot: BotHarness) -> None:
    await at(bot, MONDAY, "08:30")
    [ada] = nudges_to(bot, ADMIN)
    await at(bot, TUESDAY, "07:00")
    answer = await bot.press(ADMIN, ada, "Page checked, all fine")  # Monday's nudge, on Tuesday
    assert answer and "That day is over" in answer["text"]
    answer = await bot.press(ADMIN, ada, data=pack("mod", "ok", "yesterday"))
    assert answer and "expired" in answer["text"]
    for person in (OFFICE, STRANGER):
        answer = await bot.press(person, ada, data=pack("mod", "ok", TUESDAY.isoformat()))
        assert answer and "Sorry" in answer["text"]
    assert not record(bot, MONDAY).checked and record(bot, TUESDAY) is None


# ---- the deadline --------------------------------------------------------------------------------


async def test_no_check_by_the_deadline_tells_the_head_once_naming_who_was_on_duty(bot: BotHarness) -> None:
    await meet_everyone(bot)
    await bot.say(SLT, f"/rota daily {ADMIN2} {ADMIN}")
    await at(bot, MONDAY, "08:30")
    await at(bot, MONDAY, "11:59")
    assert missed_alerts(bot) == []
    await at(bot, MONDAY, "12:00")
    [alert] = missed_alerts(bot)
    assert "Mon 23 Nov 2026" in alert.plain and "On duty: Alan Admin." in alert.plain
    assert [m for m in bot.emu.messages_to(DEPUTY) if "not been moderated" in m.plain] == []

    await at(bot, MONDAY, "12:30")
    await bot.restart()
    await at(bot, MONDAY, "12:31")
    assert len(missed_alerts(bot)) == 1

    await at(bot, MONDAY, "13:05")
    await bot.say(ADMIN2, "/checked")
    assert "Checked by Alan Admin at 13:05 (after the 12:00 deadline): all fine" in alert.plain
    [history] = await bot.say(HEAD, "/moderation")
    assert "Mon 23 Nov: 🕒 late, Alan Admin 13:05" in history.plain


# ---- restarts ------------------------------------------------------------------------------------


async def test_a_restart_after_the_nudge_does_not_send_it_again(bot: BotHarness) -> None:
    await at(bot, MONDAY, "08:30")
    await bot.stop()
    bot.clock.set(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    await bot.start()
    await bot.tick()
    assert len(nudges_to(bot, ADMIN)) == 1 and len(nudges_to(bot, ADMIN2)) == 1


async def test_a_restart_after_nudge_time_sends_todays_nudge_late(bot: BotHarness) -> None:
    await at(bot, MONDAY, "08:00")
    await bot.stop()  # down from 08:00 to 10:15: the 08:30 nudge never went
    bot.clock.set(datetime(2026, 11, 23, 10, 15, tzinfo=UTC))
    await bot.start()
    await bot.tick()
    [ada] = nudges_to(bot, ADMIN)
    assert "Please check it by 12:00" in ada.plain
    assert missed_alerts(bot) == []


async def test_a_restart_after_a_missed_deadline_escalates_at_once(bot: BotHarness) -> None:
    await meet_everyone(bot)
    await at(bot, MONDAY, "08:30")
    await bot.stop()
    bot.clock.set(datetime(2026, 11, 23, 14, 0, tzinfo=UTC))
    await bot.start()
    await bot.tick()
    [alert] = missed_alerts(bot)
    assert "Ada Admin, Alan Admin" in alert.plain
    assert len(nudges_to(bot, ADMIN)) == 1


async def test_a_bot_down_all_morning_nudges_late_and_tells_the_head_together(bot: BotHarness) -> None:
    await bot.stop()
    bot.clock.set(datetime(2026, 11, 23, 12, 30, tzinfo=UTC))
    await bot.start()
    await bot.tick()
    [ada] = nudges_to(bot, ADMIN)
    assert "The 12:00 deadline has passed" in ada.plain
    assert len(missed_alerts(bot)) == 1


async def test_a_bot_started_after_nudge_time_does_not_claim_today_was_missed(emu, data_dir: Path, config: Config) -> None:
    bot = BotHarness(emu, config, FakeClock(datetime(2026, 11, 23, 10, 0, tzinfo=UTC)))
    await bot.start()
    try:
        await at(bot, MONDAY, "12:00")
        assert nudges_to(bot, ADMIN) == [] and missed_alerts(bot) == []
        await at(bot, TUESDAY, "08:30")
        assert len(nudges_to(bot, ADMIN)) == 1
    finally:
        await bot.stop()


# ---- the rota ------------------------------------------------------------------------------------


async def test_anyone_on_duty_can_see_the_rota_by_name(bot: BotHarness) -> None:
    await meet_everyone(bot)
    [reply] = await bot.say(ADMIN, "/rota")
    assert "Nobody is on the rota: every page admin is nudged" in reply.plain
    assert "Today, Mon 23 Nov 2026: Ada Admin, Alan Admin (every admin)" in reply.plain
    assert "Sat 28 Nov 2026: no moderation" in reply.plain
    assert "To change the rota" not in reply.plain and reply.buttons == []
    [refused] = await bot.say(OFFICE, "/rota")
    assert "Sorry" in refused.plain


async def test_slt_sets_a_daily_rotation_that_skips_weekends_and_only_the_one_on_duty_is_nudged(
    bot: BotHarness,
) -> None:
    await meet_everyone(bot)
    [reply] = await bot.say(SLT, "/rota daily ada alan")
    assert "Rota changed" in reply.plain
    assert "Taking turns, one moderation day each (from 23 Nov 2026): Ada Admin, Alan Admin" in reply.plain
    assert "Today, Mon 23 Nov 2026: Ada Admin\n" in reply.plain
    for line in ("Tue 24 Nov 2026: Alan Admin", "Fri 27 Nov 2026: Ada Admin", "Sat 28 Nov 2026: no moderation"):
        assert line in reply.plain
    [entry] = [e for e in bot.audit() if e.action == "rota change"]
    assert (entry.actor_id, entry.detail) == (SLT, f"daily from 2026-11-23: {ADMIN},{ADMIN2}")

    await at(bot, MONDAY, "08:30")
    assert len(nudges_to(bot, ADMIN)) == 1 and nudges_to(bot, ADMIN2) == []
    await bot.say(SLT, "/rota daily alan")  # a change after today's nudge leaves today alone
    [reply] = await bot.say(ADMIN, "/rota")
    assert "Today, Mon 23 Nov 2026: Ada Admin\n" in reply.plain


async def test_fixed_weekdays_and_a_weekly_rotation(bot: BotHarness) -> None:
    await meet_everyone(bot)
    [reply] = await bot.say(HEAD, f"/rota fixed mon {ADMIN},{SLT} Tuesday {ADMIN2}")
    assert "Fixed days: Mon Ada Admin, Sam Leader; Tue Alan Admin. Other days: every page admin." in reply.plain
    assert "Wed 25 Nov 2026: Ada Admin, Alan Admin (every admin)" in reply.plain
    await at(bot, MONDAY, "08:30")
    assert len(nudges_to(bot, SLT)) == 1 and len(nudges_to(bot, ADMIN)) == 1 and nudges_to(bot, ADMIN2) == []

    [reply] = await bot.say(HEAD, f"/rota rotate weekly {ADMIN2} {ADMIN}")
    assert "Taking turns, one week each" in reply.plain
    assert "Fri 27 Nov 2026: Alan Admin" in reply.plain
    await at(bot, NEXT_MONDAY, "08:30")
    assert len(nudges_to(bot, ADMIN)) == 2  # Monday 23 (fixed) and Monday 30 (Ada's week)


async def test_only_admins_and_above_can_be_on_the_rota_and_mistakes_get_usage(bot: BotHarness) -> None:
    await meet_everyone(bot)
    [reply] = await bot.say(SLT, f"/rota daily {ADMIN} {OFFICE}")
    assert "Olive Office is office staff, not a page admin" in reply.plain
    [reply] = await bot.say(SLT, f"/rota weekly {STRANGER}")
    assert f"{STRANGER} has no access" in reply.plain
    for text in ("/rota sometimes", "/rota daily", f"/rota fixed {ADMIN} mon", "/rota fixed mon", "/rota daily zoe"):
        [reply] = await bot.say(SLT, text)
        assert "To change the rota" in reply.plain, text
    assert bot.services.moderation.rota().kind.value == "everyone"
    assert [e for e in bot.audit() if e.action == "rota change"] == []


async def test_admins_cannot_change_the_rota(bot: BotHarness) -> None:
    [reply] = await bot.say(ADMIN, f"/rota daily {ADMIN}")
    assert "only SLT and the Head Teacher can change the rota" in reply.plain
    assert bot.services.moderation.rota().kind.value == "everyone"
    [refusal] = [e for e in bot.audit() if e.action == "rota change"]
    assert refusal.outcome == "refused: role"
    answer = await bot.press(ADMIN, bot.last(ADMIN), data=pack("mod", "rota", "daily"))
    assert answer and "Sorry" in answer["text"]


async def test_rota_buttons_rotate_through_all_admins_and_a_double_tap_changes_nothing(bot: BotHarness) -> None:
    await meet_everyone(bot)
    [card] = await bot.say(HEAD, "/rota")
    weekly = dict(card.buttons)["Rotate weekly: all admins"]
    answer = await bot.press(HEAD, card, "Rotate weekly: all admins")
    assert answer and answer["text"] == "Rota changed."
    assert "Taking turns, one week each (from 23 Nov 2026): Ada Admin, Alan Admin" in card.plain
    answer = await bot.press(HEAD, card, data=weekly)
    assert answer and answer["text"] == "Nothing changed."
    assert len([e for e in bot.audit() if e.action == "rota change"]) == 1

    await bot.press(HEAD, card, "Clear: every admin")
    assert "Nobody is on the rota" in card.plain
    [reply] = await bot.say(HEAD, "/rota clear")
    assert "already like that" in reply.plain


async def test_someone_who_loses_access_drops_off_duty_and_every_admin_is_nudged(bot: BotHarness) -> None:
    await meet_everyone(bot)
    await bot.say(SLT, f"/rota daily {ADMIN}")
    await revoke(bot, HEAD, ADMIN)
    await at(bot, MONDAY, "08:30")
    assert nudges_to(bot, ADMIN) == [] and len(nudges_to(bot, ADMIN2)) == 1


# ---- a whole week, history and the digest -----------------------------------------------------


@pytest.fixture
def week_config(data_dir: Path) -> Config:
    return make_config(data_dir, moderation={"days": WEEKDAYS_ONLY, "holidays": ["2026-11-26"]})


async def test_a_whole_week_with_a_weekend_a_holiday_and_a_restart(emu, data_dir: Path, week_config: Config) -> None:
    bot = BotHarness(emu, week_config, FakeClock(datetime(2026, 11, 23, 6, 0, tzinfo=UTC)))
    await bot.start()
    try:
        await meet_everyone(bot)
        await bot.say(SLT, f"/rota daily {ADMIN} {ADMIN2}")

        async def day(when: date, who: int | None, check_at: str = "09:00") -> None:
            await at(bot, when, "08:30")
            if who is not None and check_at < "12:00":
                await at(bot, when, check_at)
                await bot.press(who, nudges_to(bot, who)[-1], "Page checked, all fine")
            await at(bot, when, "12:00")
            if who is not None and check_at >= "12:00":
                await at(bot, when, check_at)
                await bot.say(who, "/checked")
            await at(bot, when, "18:00")

        await day(MONDAY, ADMIN)  # Ada, on time
        await day(TUESDAY, None)  # Alan's day: nobody checks, the Head is told
        await at(bot, WEDNESDAY, "08:30")
        await bot.restart()  # a restart in the middle of the week, after Wednesday's nudge
        await day(WEDNESDAY, ADMIN, check_at="13:00")  # Ada again, late
        await day(THURSDAY, None)  # a holiday: no nudge, no alert
        await day(FRIDAY, ADMIN2)  # Alan: the rotation skipped the holiday
        for weekend in (date(2026, 11, 28), date(2026, 11, 29)):
            await at(bot, weekend, "08:30")
            await at(bot, weekend, "12:00")
        await at(bot, NEXT_MONDAY, "07:30")
        digest = bot.last(HEAD)
        await day(NEXT_MONDAY, ADMIN, check_at="08:45")

        days_nudged = {who: [m.plain.split(" — ")[1].split("\n")[0] for m in nudges_to(bot, who)] for who in (ADMIN, ADMIN2)}
        assert days_nudged == {
            ADMIN: ["Mon 23 Nov 2026", "Wed 25 Nov 2026", "Mon 30 Nov 2026"],
            ADMIN2: ["Tue 24 Nov 2026", "Fri 27 Nov 2026"],
        }
        tuesday, wednesday = missed_alerts(bot)
        assert "Tue 24 Nov 2026" in tuesday.plain and "On duty: Alan Admin." in tuesday.plain
        assert "Checked by Ada Admin at 13:00 (after the 12:00 deadline)" in wednesday.plain

        assert "Weekly digest" in digest.plain and "Mon 23 Nov to Sun 29 Nov 2026" in digest.plain
        assert "Checked on time on 2 of 4 days (50%); 1 late, 1 missed." in digest.plain
        assert "Current streak: 1 day in a row" in digest.plain
        assert "• recorded the page check: 3 times" in digest.plain and "• changed the moderation rota: 1 time" in digest.plain

        [history] = await bot.say(HEAD, "/moderation")
        lines = history.plain.splitlines()
        assert "Checked on time on 3 of 5 days (60%); 1 late, 1 missed." in history.plain
        assert "Current streak: 2 days in a row checked on time." in history.plain
        assert lines[-8:] == [
            "Mon 30 Nov: ✅ on time, Ada Admin 08:45",
            "Sun 29 Nov: · not a moderation day",
            "Sat 28 Nov: · not a moderation day",
            "Fri 27 Nov: ✅ on time, Alan Admin 09:00",
            "Thu 26 Nov: · not a moderation day",
            "Wed 25 Nov: 🕒 late, Ada Admin 13:00",
            "Tue 24 Nov: ❌ missed (on duty: Alan Admin)",
            "Mon 23 Nov: ✅ on time, Ada Admin 09:00",
        ]

        await bot.restart()  # the digest is keyed per week: never twice
        await at(bot, NEXT_MONDAY, "19:00")
        assert len([m for m in bot.emu.messages_to(HEAD) if "Weekly digest" in m.plain]) == 1
    finally:
        await bot.stop()


async def test_history_of_thirty_days_is_paginated_and_counts_missed_days(bot: BotHarness) -> None:
    await bot.say(ADMIN, "/checked")
    bot.clock.set(datetime(2027, 1, 4, 13, 0, tzinfo=UTC))  # six weeks on; the bot was not running
    [first] = await bot.say(ADMIN, "/moderation")
    assert "Page 1 of 2" in first.plain and "Mon 4 Jan: ❌ missed" in first.plain
    assert "Checked on time on 0 of 21 days (0%); 0 late, 21 missed." in first.plain
    assert "Current streak: 0 days" in first.plain
    await bot.press(ADMIN, first, "Next ›")
    assert "Page 2 of 2" in first.plain and "Sun 6 Dec: · not a moderation day" in first.plain


async def test_the_digest_counts_the_weeks_incidents_and_comes_late_after_downtime(bot: BotHarness) -> None:
    await at(bot, NEXT_MONDAY, "07:29")
    assert [m for m in bot.emu.messages_to(HEAD) if "Weekly digest" in m.plain] == []
    await bot.stop()  # down over the digest time
    bot.clock.set(datetime(2026, 11, 30, 9, 0, tzinfo=UTC))
    await bot.start()

    def incident(opened: datetime, closed: datetime | None = None) -> SimpleNamespace:
        return SimpleNamespace(opened_at=opened, closed_at=closed)

    in_week = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    bot.services.moderation_duty.incidents = SimpleNamespace(  # the incidents, as the digest reads them
        all=lambda: [
            incident(datetime(2026, 11, 20, 9, 0, tzinfo=UTC), in_week),  # opened the week before
            incident(in_week, in_week),
            incident(in_week),
            incident(datetime(2026, 11, 30, 7, 0, tzinfo=UTC)),  # this morning: next week's digest
        ]
    )
    await bot.tick()
    digest = bot.last(HEAD)
    assert "Weekly digest" in digest.plain and "Incidents: 2 opened, 2 closed." in digest.plain


# ---- a big team: every message stays within Telegram's limits (issue 12, point 12) ---------------

MANY = [5100 + n for n in range(30)]


def long_name(n: int) -> tuple[str, str]:
    """Telegram allows 64 characters for each part of a name: emoji count twice, and <&> need escaping."""
    return f"Ädmin{n:02d} 🦊<&>" + "é" * 50, "Øne 🐧" + "x" * 55


@pytest.fixture
def many_admins_config(data_dir: Path) -> Config:
    return make_config(data_dir, moderation={"days": WEEKDAYS_ONLY}, roles={"admins": [ADMIN, ADMIN2, *MANY]})


async def test_a_rota_of_thirty_admins_with_the_longest_names_is_split_between_lines(
    emu,
    many_admins_config: Config,
    clock: FakeClock,
) -> None:
    from tests.conftest import BotHarness as Harness

    bot = Harness(emu, many_admins_config, clock)
    for n, user in enumerate(MANY):
        emu.add_user(user, *long_name(n))
    await bot.start()
    try:
        await meet_everyone(bot)
        for user in MANY:
            await bot.say(user, "/help")
        await bot.say(SLT, "/rota daily " + " ".join(str(user) for user in MANY))
        shown = await bot.say(HEAD, "/rota")
        assert len(shown) >= 2, "too long for one message: sent as several"
        text = "\n".join(m.plain for m in shown)
        for n in range(30):
            assert f"Ädmin{n:02d} 🦊<&>" in text, n
        assert shown[-1].buttons, "the rota's buttons come under the last part"
        await bot.press(HEAD, shown[-1], "Rotate daily: all admins")
        await bot.press(HEAD, bot.last(HEAD), "Clear: every admin")
        await at(bot, MONDAY, "08:30")  # every admin nudged: the nudge names a few and counts the rest
        assert "and 24 more" in nudges_to(bot, MANY[0])[0].plain
        await at(bot, MONDAY, "12:01")  # nobody checked: the Head's alert names who was on duty
        await bot.say(HEAD, "/moderation")
        assert not emu.unexpected_refusals(), emu.unexpected_refusals()
    finally:
        await bot.stop()

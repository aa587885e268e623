"""One message per event: a tap changes the message it is on, a re-ping points to the one alert
kept up to date, and no old message keeps buttons for a step that is over.

Each test counts what a phone would show: new messages in a chat (each one buzzes) and edits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.clock import FakeClock
from bot.shell.callbacks import pack
from tests.conftest import ADMIN, ADMIN2, DEPUTY, HEAD, OFFICE, SLT, BotHarness
from tests.test_incidents import alerts_to, log_misuse, screenshot_bytes, title
from tests.test_moderation import MONDAY, at, meet_everyone, nudges_to


@dataclass
class Seen:
    """What one chat saw between two moments: messages that arrived, and messages changed in place."""

    new: list[Any]
    edited: list[Any]


class Watch:
    """Counts, for one chat, the new messages and the edits that follow a tap or a tick."""

    def __init__(self, bot: BotHarness, chat_id: int) -> None:
        self.bot, self.chat_id = bot, chat_id
        self.mark = bot.emu.mark()
        self.versions = {m.message_id: len(m.history) for m in bot.emu.messages_to(chat_id)}

    def seen(self) -> Seen:
        new = self.bot.emu.since(self.mark, self.chat_id)
        old = [m for m in self.bot.emu.messages_to(self.chat_id) if m.message_id in self.versions]
        return Seen(new, [m for m in old if len(m.history) > self.versions[m.message_id]])


@pytest.fixture
def clock() -> FakeClock:
    """Monday 06:00: the day's nudge is still to come."""
    return FakeClock(datetime(2026, 11, 23, 6, 0, tzinfo=UTC))


def with_buttons(bot: BotHarness, chat_id: int) -> list[Any]:
    return [m for m in bot.emu.messages_to(chat_id) if m.buttons]


# ---- /log: the flow's one message becomes the receipt ---------------------------------------------


async def test_confirming_a_log_turns_the_summary_into_the_receipt_without_a_new_message(bot: BotHarness) -> None:
    await bot.say(ADMIN, "/log")
    bot.emu.send_photo(ADMIN, screenshot_bytes())
    await bot.settle()
    step = bot.last(ADMIN)
    for tap in ("Done", title("bullying"), "Skip"):
        await bot.press(ADMIN, step, tap)
    watch = Watch(bot, ADMIN)
    answer = await bot.press(ADMIN, step, "Confirm")

    seen = watch.seen()
    assert seen.new == [], "no second message saying the same"
    assert seen.edited == [step]
    assert answer and answer["text"] == "Logged as INC-0001.", "a short pop-up on the message tapped"
    assert step.plain.startswith("📝 Logged as INC-0001") and "The Head Teacher has been alerted." in step.plain
    assert [label for label, _ in step.buttons] == ["Logged on CPOMS", "Parent contacted"]
    assert with_buttons(bot, ADMIN) == [step], "only the receipt can be tapped"

    await bot.press(HEAD, alerts_to(bot, HEAD, "INC-0001")[0], "Acknowledge")
    assert "Acknowledged by Helen Head" in step.plain, "the receipt is kept up to date"


async def test_a_typed_answer_leaves_no_buttons_on_the_step_before(bot: BotHarness) -> None:
    await bot.say(ADMIN, "/log")
    first = bot.last(ADMIN)
    bot.emu.send_photo(ADMIN, screenshot_bytes())
    await bot.settle()
    second = bot.last(ADMIN)
    bot.emu.send_photo(ADMIN, screenshot_bytes())
    await bot.settle()
    step = bot.last(ADMIN)
    assert not first.buttons and not second.buttons and "Got 2 screenshots" in step.plain
    await bot.press(ADMIN, step, "Done")
    await bot.press(ADMIN, step, title("other"))
    [summary] = await bot.say(ADMIN, "On the Christmas fair post")
    assert not step.buttons and with_buttons(bot, ADMIN) == [summary]
    [cancelled] = await bot.say(ADMIN, "/cancel")
    assert "nothing was logged" in cancelled.plain and not summary.buttons and with_buttons(bot, ADMIN) == []


async def test_a_log_begun_again_retires_the_unfinished_one(bot: BotHarness) -> None:
    [first] = await bot.say(ADMIN, "/log")
    [again] = await bot.say(ADMIN, "/log")
    assert not first.buttons and with_buttons(bot, ADMIN) == [again]


async def test_a_log_left_unfinished_across_a_restart_still_retires_its_buttons(bot: BotHarness) -> None:
    await bot.say(ADMIN, "/log")
    bot.emu.send_photo(ADMIN, screenshot_bytes())
    await bot.settle()
    step = bot.last(ADMIN)
    await bot.restart()
    [summary] = await bot.say(ADMIN, "not a picture")
    assert "Please send the screenshot" in summary.plain
    assert not step.buttons and with_buttons(bot, ADMIN) == [summary], "the flow's message is remembered on disk"


# ---- re-pings: one alert kept up to date, and a short ping ----------------------------------------


async def test_re_pings_point_to_the_one_alert_and_every_copy_follows_the_incident(bot: BotHarness) -> None:
    await log_misuse(bot, ADMIN, "pupil")  # urgent: re-pinged every 5 minutes, fallback from the 2nd
    [alert] = alerts_to(bot, HEAD, "INC-0001")
    for _ in range(3):
        watch = Watch(bot, HEAD)
        await bot.advance(minutes=5)
        seen = watch.seen()
        [ping] = seen.new
        assert not ping.photo and not ping.buttons and "Still waiting for you: INC-0001" in ping.plain
    assert alerts_to(bot, HEAD, "INC-0001") == [alert], "three re-pings, one alert"
    for leader in (DEPUTY, SLT):
        assert len(alerts_to(bot, leader, "INC-0001")) == 1
        assert len([m for m in bot.emu.messages_to(leader) if "INC-0001" in m.plain]) == 2, "one alert, then one ping"

    watch = Watch(bot, DEPUTY)
    await bot.press(HEAD, alert, "Acknowledge")
    seen = watch.seen()
    assert seen.new == [], "the deputy is not buzzed again"
    [deputy_alert] = alerts_to(bot, DEPUTY, "INC-0001")
    assert deputy_alert in seen.edited and "Acknowledge" not in [label for label, _ in deputy_alert.buttons]
    for person in (HEAD, DEPUTY, SLT):
        for message in bot.emu.messages_to(person):
            if "INC-0001" in message.plain and not message.photo:
                assert "Still waiting" not in message.plain and "acknowledged by Helen Head" in message.plain

    await bot.press(DEPUTY, deputy_alert, "Close")
    await bot.press(DEPUTY, deputy_alert, "Resolved")
    for person in (HEAD, DEPUTY, SLT):
        assert all(not m.buttons for m in bot.emu.messages_to(person) if "INC-0001" in m.plain), "nothing left to tap"


# ---- the moderation nudge ----------------------------------------------------------------------------


async def test_found_a_problem_turns_the_nudge_into_log_it_now_without_a_new_message(bot: BotHarness) -> None:
    await meet_everyone(bot)
    await at(bot, MONDAY, "08:30")
    [ada] = nudges_to(bot, ADMIN)
    [alan] = nudges_to(bot, ADMIN2)
    watch = Watch(bot, ADMIN)
    answer = await bot.press(ADMIN, ada, "Found a problem")

    seen = watch.seen()
    assert seen.new == [] and seen.edited == [ada]
    assert answer is not None and not answer.get("text"), "the nudge itself says it: no pop-up saying it again"
    assert "Please log what you found now" in ada.plain and ada.buttons == [("Log it now", pack("log", "start"))]
    assert "Checked by Ada Admin" in alan.plain and not alan.buttons, "the other copies are updated and lose their buttons"

    prompt = await bot.press(ADMIN, ada, "Log it now")
    assert prompt is not None and "Send me the screenshot" in bot.last(ADMIN).plain


# ---- one action, one label ---------------------------------------------------------------------------


async def test_an_action_reads_the_same_on_the_receipt_the_alert_and_the_record(bot: BotHarness) -> None:
    await log_misuse(bot, ADMIN, "bullying")
    await log_misuse(bot, ADMIN, "pupil")
    bullying, pupil = (next(m for m in bot.emu.messages_to(ADMIN) if f"Logged as INC-000{n}" in m.plain) for n in (1, 2))
    assert [label for label, _ in bullying.buttons] == ["Logged on CPOMS", "Parent contacted"]
    assert [label for label, _ in pupil.buttons] == ["Comment removed"]
    await bot.press(ADMIN, bullying, "Parent contacted")
    await bot.press(ADMIN, pupil, "Comment removed")
    for ref, done in (("INC-0001", "Parent contacted"), ("INC-0002", "Comment removed")):
        [alert] = alerts_to(bot, HEAD, ref)
        assert f"✅ {done} — Ada Admin" in alert.plain
    shown = await bot.say(HEAD, "/incident 1")
    assert any("✅ Parent contacted — Ada Admin" in m.plain for m in shown)
    everything = [m.plain for person in (ADMIN, HEAD) for m in bot.emu.messages_to(person)]
    assert not any("Parents informed" in text or "Deleted" in text for text in everything)


async def test_office_staff_asking_for_the_rota_are_told_in_plain_words(bot: BotHarness) -> None:
    for command in ("/rota", "/checked", "/moderation"):
        [refused] = await bot.say(OFFICE, command)
        assert "page admins" in refused.plain and "You are office staff" in refused.plain
        assert "moderation nudge" not in refused.plain and "allowed to" not in refused.plain


# ---- the ban questions ---------------------------------------------------------------------------------


async def test_the_ban_questions_end_in_one_message_and_leave_no_buttons_behind(bot: BotHarness) -> None:
    await log_misuse(bot, ADMIN, "outsider")
    [alert] = alerts_to(bot, HEAD, "INC-0001")
    await bot.press(HEAD, alert, "User banned")
    who = bot.last(HEAD)
    [why] = await bot.say(HEAD, "Troll <99>")
    assert not who.buttons, "the question answered by typing loses its Cancel"
    watch = Watch(bot, HEAD)
    answer = await bot.press(HEAD, why, title("outsider")[:60])
    seen = watch.seen()
    assert seen.new == [] and why in seen.edited and alert in seen.edited
    assert answer and answer["text"] == "Ban recorded."
    assert "is in the ban register for INC-0001" in why.plain and not why.buttons
    assert [m for m in bot.emu.messages_to(HEAD) if m.buttons] == [alert], "only the alert can be tapped"


async def test_cancel_under_a_ban_question_turns_that_question_into_the_answer(bot: BotHarness) -> None:
    await log_misuse(bot, ADMIN, "outsider")
    [alert] = alerts_to(bot, HEAD, "INC-0001")
    await bot.press(HEAD, alert, "User banned")
    who = bot.last(HEAD)
    watch = Watch(bot, HEAD)
    await bot.press(HEAD, who, "Cancel")
    seen = watch.seen()
    assert seen.new == [] and seen.edited == [who]
    assert "no ban was recorded" in who.plain and not who.buttons and not bot.services.incidents.bans()


async def test_checked_typed_after_the_nudge_is_answered_once_and_the_nudge_points_to_it(bot: BotHarness) -> None:
    await meet_everyone(bot)
    await at(bot, MONDAY, "08:30")
    [ada] = nudges_to(bot, ADMIN)
    [alan] = nudges_to(bot, ADMIN2)
    await at(bot, MONDAY, "08:45")
    watch = Watch(bot, ADMIN)
    [answer] = await bot.say(ADMIN, "/checked")
    seen = watch.seen()
    assert seen.new == [answer] and seen.edited == [ada]
    assert "Checked by Ada Admin at 08:45: all fine" in answer.plain
    assert "Answered with /checked: see below" in ada.plain and "Checked by" not in ada.plain, "not said twice"
    assert not ada.buttons
    assert "Checked by Ada Admin at 08:45: all fine" in alan.plain and not alan.buttons, "the others learn who checked"

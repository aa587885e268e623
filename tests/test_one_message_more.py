"""One message per event, the rest of it: the reporter learns the alert got through by an edit,
a /incident N record follows the incident, and no old nudge keeps buttons for a step that is over.

Each test counts what a phone would show: new messages in a chat (each one buzzes) and edits.
"""

from __future__ import annotations

from typing import Any

from telegram.ext import ConversationHandler

from handlers.incidents.messages import ALERTED, NOT_YET_ALERTED
from tests.conftest import ADMIN, ADMIN2, DEPUTY, HEAD, BotHarness
from tests.test_incidents import alerts_to, log_misuse, receipt, screenshot_bytes, title
from tests.test_moderation import MONDAY, at, meet_everyone, nudges_to
from tests.test_one_message import Watch, clock, with_buttons

__all__ = ["clock"]  # Monday 06:00, before the day's nudge (tests.test_one_message)


def live(bot: BotHarness, chat_id: int, since: Any) -> list[Any]:
    """The messages from `since` on that can still be tapped (/help's "More" before it is not the point)."""
    return [m for m in with_buttons(bot, chat_id) if m.message_id >= since.message_id]


def labels(message: Any) -> list[str]:
    return [label for label, _ in message.buttons]


# ---- the alert got through after all (point 1a) ----------------------------------------------------


async def test_the_reporter_learns_the_alert_got_through_by_edits_not_a_new_message(bot: BotHarness) -> None:
    bot.emu.block(HEAD)
    await log_misuse(bot, ADMIN, "pupil")
    mine = receipt(bot, ADMIN, "INC-0001")
    [note] = [m for m in bot.emu.messages_to(ADMIN) if NOT_YET_ALERTED in m.plain]

    await bot.say(HEAD, "/start")  # the Head opens the bot again: the alert goes at once
    assert alerts_to(bot, HEAD, "INC-0001")
    watch = Watch(bot, ADMIN)
    await bot.advance(minutes=1)
    await bot.advance(minutes=3)

    seen = watch.seen()
    assert seen.new == [], "no second message buzzes the reporter"
    assert mine in seen.edited and ALERTED in mine.plain, "the receipt says the Head has it"
    assert note in seen.edited and "INC-0001 has now reached the Head Teacher" in note.plain, (
        "the note is not left saying 'not yet'"
    )
    await bot.restart()
    await bot.advance(minutes=5)
    assert watch.seen().new == [], "told once, across a restart"


# ---- a /incident N record follows the incident (point 1b) ------------------------------------------


async def record_of(bot: BotHarness, leader: int, number: int) -> Any:
    """/incident N as a leader sees it: the record with its buttons (the screenshots come after it)."""
    shown = await bot.say(leader, f"/incident {number}")
    [record] = [m for m in shown if m.buttons]
    return record


async def test_a_record_on_screen_follows_the_incident_acted_on_elsewhere(bot: BotHarness) -> None:
    await log_misuse(bot, ADMIN, "outsider")
    record = await record_of(bot, HEAD, 1)
    assert labels(record) == ["Acknowledge"]
    theirs = await record_of(bot, DEPUTY, 1)  # the deputy acts from a record of their own

    watch = Watch(bot, HEAD)
    await bot.press(DEPUTY, theirs, "Acknowledge")
    seen = watch.seen()
    assert record in seen.edited and "Acknowledged by Derek Deputy" in record.plain
    assert "Acknowledge" not in labels(record) and "Close" in labels(record), "the Head's record offers what is next"
    assert seen.new == [], "an edit, not a new message"
    stale = dict(record.buttons)

    await bot.press(DEPUTY, theirs, "Close")
    await bot.press(DEPUTY, theirs, "Resolved")
    assert "Closed: Resolved by Derek Deputy" in record.plain
    assert not record.buttons, "nothing left to tap on the Head's record"
    assert watch.seen().new == []
    answer = await bot.press(HEAD, record, data=stale["User banned"])  # tapped before the edit arrived
    assert answer and "INC-0001 is already closed" in answer["text"]
    assert watch.seen().new == [] and not bot.services.incidents.bans(), "no ban questions on a closed incident"


async def test_a_tap_on_a_record_older_than_the_close_changes_nothing_and_says_so(bot: BotHarness) -> None:
    await log_misuse(bot, ADMIN, "bullying")
    record = await record_of(bot, HEAD, 1)
    await bot.press(HEAD, record, "Acknowledge")
    stale = dict(record.buttons)
    assert {"Parent contacted", "Close"} <= set(stale)
    theirs = await record_of(bot, DEPUTY, 1)
    await bot.press(DEPUTY, theirs, "Close")
    await bot.press(DEPUTY, theirs, "Resolved")
    before = len(bot.services.incident_log.actions(1))

    for label in ("Parent contacted", "Logged on CPOMS", "Close"):
        answer = await bot.press(HEAD, record, data=stale[label])  # tapped before the edit arrived
        assert answer and "INC-0001 is already closed: Resolved, by Derek Deputy" in answer["text"], label
        assert not record.buttons and "Closed: Resolved by Derek Deputy" in record.plain
    assert len(bot.services.incident_log.actions(1)) == before, "nothing recorded on a closed incident"


# ---- "Log it now" goes when the /log it began ends (point 1c) --------------------------------------


async def found_a_problem_and_log_it(bot: BotHarness) -> tuple[Any, Any]:
    """Ada finds a problem on the nudge and taps Log it now: the nudge, and the /log's own message."""
    await meet_everyone(bot)
    await at(bot, MONDAY, "08:30")
    [ada] = nudges_to(bot, ADMIN)
    await bot.press(ADMIN, ada, "Found a problem")
    await bot.press(ADMIN, ada, "Log it now")
    step = bot.last(ADMIN)
    assert "Send me the screenshot" in step.plain and labels(ada) == ["Log it now"], "the button stays while the log runs"
    return ada, step


async def test_log_it_now_goes_from_the_nudge_once_that_log_is_confirmed(bot: BotHarness) -> None:
    ada, _ = await found_a_problem_and_log_it(bot)
    bot.emu.send_photo(ADMIN, screenshot_bytes())
    await bot.settle()
    step = bot.last(ADMIN)
    for tap in ("Done", title("offensive"), "Skip"):
        await bot.press(ADMIN, step, tap)
    watch = Watch(bot, ADMIN)
    await bot.press(ADMIN, step, "Confirm")
    seen = watch.seen()
    assert seen.new == [] and ada in seen.edited
    assert not ada.buttons and "Please log what you found now" in ada.plain, "its words stay, its button goes"
    assert live(bot, ADMIN, ada) == [step], "only the receipt can be tapped"


async def test_log_it_now_goes_from_the_nudge_once_that_log_is_cancelled(bot: BotHarness) -> None:
    ada, _ = await found_a_problem_and_log_it(bot)
    [cancelled] = await bot.say(ADMIN, "/cancel")
    assert "nothing was logged" in cancelled.plain
    assert not ada.buttons and live(bot, ADMIN, ada) == []


async def test_log_it_now_goes_from_the_nudge_once_that_log_times_out(bot: BotHarness) -> None:
    ada, step = await found_a_problem_and_log_it(bot)
    flow = next(h for h in bot.app.handlers[0] if isinstance(h, ConversationHandler) and h.name == "incident_log")
    await flow.timeout_jobs[(ADMIN, ADMIN)].run(bot.app)  # what APScheduler does when the timeout is reached
    await bot.settle()
    assert "timed out" in step.plain
    assert not ada.buttons and live(bot, ADMIN, ada) == []


async def test_log_it_now_under_a_typed_checked_problem_goes_when_that_log_ends(bot: BotHarness) -> None:
    await meet_everyone(bot)
    await at(bot, MONDAY, "08:40")
    [answer] = await bot.say(ADMIN, "/checked problem")
    await bot.press(ADMIN, answer, "Log it now")
    await bot.say(ADMIN, "/cancel")
    assert not answer.buttons and live(bot, ADMIN, answer) == []


# ---- a reminder takes over from the nudge (point 1d) ------------------------------------------------


async def test_a_reminder_leaves_the_earlier_nudge_without_buttons(bot: BotHarness) -> None:
    await meet_everyone(bot)
    await at(bot, MONDAY, "08:30")
    [ada] = nudges_to(bot, ADMIN)
    [alan] = nudges_to(bot, ADMIN2)
    await at(bot, MONDAY, "08:40")
    await bot.press(ADMIN, ada, "Remind me in an hour")
    watch = Watch(bot, ADMIN)
    await at(bot, MONDAY, "09:40")
    seen = watch.seen()
    [reminder] = seen.new
    assert "Reminder" in reminder.plain and reminder.buttons
    assert seen.edited == [ada] and not ada.buttons and "reminder below, please answer there" in ada.plain
    assert live(bot, ADMIN, ada) == [reminder], "one live nudge for Ada today"
    assert alan.buttons, "Alan asked for no reminder: his nudge is his to answer"

    await bot.press(ADMIN, reminder, "Remind me in an hour")
    await at(bot, MONDAY, "10:40")
    [*_, second] = nudges_to(bot, ADMIN)
    assert second is not reminder and not reminder.buttons and live(bot, ADMIN, ada) == [second]
    await bot.press(ADMIN, second, "Page checked, all fine")
    for copy in (ada, reminder, second, alan):
        assert not copy.buttons


async def test_acknowledge_on_a_record_older_than_the_close_says_who_closed_it(bot: BotHarness) -> None:
    await log_misuse(bot, ADMIN, "offensive")
    record = await record_of(bot, HEAD, 1)
    stale = dict(record.buttons)["Acknowledge"]
    theirs = await record_of(bot, DEPUTY, 1)
    for tap in ("Acknowledge", "Close", "Resolved"):
        await bot.press(DEPUTY, theirs, tap)
    answer = await bot.press(HEAD, record, data=stale)
    assert answer and answer["text"] == "INC-0001 is already closed: Resolved, by Derek Deputy, today 06:00."
    assert not record.buttons and "Closed: Resolved by Derek Deputy" in record.plain

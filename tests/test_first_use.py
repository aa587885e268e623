"""What a newcomer meets on a first walk through the demo and the README, as a busy Head or admin would.

Each test is a place where the answer did not match what the person had just done.
"""

from __future__ import annotations

from tests.conftest import ADMIN, HEAD, BotHarness
from tests.test_incidents import labels, log_misuse


async def test_the_record_a_head_acts_from_shows_each_tap_at_once(bot: BotHarness) -> None:
    """/incident N, then Acknowledge and an action: the record itself says so, not only the alert."""
    await log_misuse(bot, ADMIN, "offensive")
    [record, *_] = await bot.say(HEAD, "/incident 1")

    await bot.press(HEAD, record, "Acknowledge")
    assert "Not yet acknowledged" not in record.plain
    assert "Acknowledged by Helen Head" in record.plain

    await bot.press(HEAD, record, "Comment removed")
    assert "Comment removed — Helen Head" in record.plain
    assert "Comment removed" not in labels(record), "a recorded action is no longer offered"


async def test_the_record_shows_what_someone_else_did_when_its_button_is_pressed_late(bot: BotHarness) -> None:
    await log_misuse(bot, ADMIN, "offensive")
    [record, *_] = await bot.say(HEAD, "/incident 1")
    alert = next(m for m in bot.emu.messages_to(HEAD) if m.photo and "misuse logged" in m.plain)
    await bot.press(HEAD, alert, "Acknowledge")
    await bot.press(HEAD, alert, "Comment removed")

    answer = await bot.press(HEAD, record, "Acknowledge")

    assert answer and "Already acknowledged" in answer["text"]
    assert "Comment removed — Helen Head" in record.plain and "Acknowledge" not in labels(record)


async def test_the_receipt_of_the_person_who_logged_it_is_not_turned_into_the_record(bot: BotHarness) -> None:
    await log_misuse(bot, ADMIN, "offensive")
    receipt = next(m for m in bot.emu.messages_to(ADMIN) if "Logged as INC-0001:" in m.plain)

    await bot.press(ADMIN, receipt, "Reported externally")

    assert receipt.plain.startswith("📝 Logged as INC-0001")
    assert "Evidence" not in receipt.plain


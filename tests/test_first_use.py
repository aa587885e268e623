"""What a newcomer meets on a first walk through the demo and the README, as a busy Head or admin would.

Each test is a place where the answer did not match what the person had just done.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from tests.conftest import ADMIN, HEAD, SLT, BotHarness
from tests.test_incidents import labels, log_misuse

ROOT = Path(__file__).resolve().parents[1]


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
    late = dict(record.buttons)["Acknowledge"]
    alert = next(m for m in bot.emu.messages_to(HEAD) if m.photo and "misuse logged" in m.plain)
    await bot.press(HEAD, alert, "Acknowledge")
    await bot.press(HEAD, alert, "Comment removed")

    answer = await bot.press(HEAD, record, data=late)  # tapped before the record's own update arrived

    assert answer and "Already acknowledged" in answer["text"]
    assert "Comment removed — Helen Head" in record.plain and "Acknowledge" not in labels(record)


async def test_the_receipt_of_the_person_who_logged_it_is_not_turned_into_the_record(bot: BotHarness) -> None:
    await log_misuse(bot, ADMIN, "offensive")
    receipt = next(m for m in bot.emu.messages_to(ADMIN) if "Logged as INC-0001:" in m.plain)

    await bot.press(ADMIN, receipt, "Reported externally")

    assert receipt.plain.startswith("📝 Logged as INC-0001")
    assert "Evidence" not in receipt.plain


def demo(*lines: str) -> str:
    """README command 1 with piped input, as a newcomer first drives it."""
    done = subprocess.run(
        [sys.executable, "-m", "bot", "demo"],
        input="".join(f"{line}\n" for line in lines),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    return done.stdout


def test_the_demos_register_shows_what_an_import_changes_and_who_is_told() -> None:
    """/csv sent the very register the demo starts with: the preview said "Unchanged: 6" and nothing else."""
    out = demo("/as office", "/csv", "/press 1")

    assert "New pupils: 1" in out and "Changed: 2" in out
    assert "Millie Jones (Year 1): no longer press and publicity" in out
    assert "↳ to head: bot> ⚠️ Photo consent withdrawn or narrowed" in out


def test_the_demo_shows_a_file_the_bot_sends() -> None:
    out = demo("/as head", "/export")

    assert "[file incidents-" in out and ".csv, " in out and " bytes] bot> 0 incidents" in out


async def test_an_application_number_that_does_not_exist_is_named_not_answered_with_usage(bot: BotHarness) -> None:
    [missing] = await bot.say(SLT, "/application 7")
    [usage] = await bot.say(SLT, "/application seven")

    assert missing.plain == "There is no application #7. /pending lists the ones waiting."
    assert usage.plain.startswith("Usage: /application N")


async def test_an_alert_older_than_the_outbox_keeps_stays_an_alert_when_pressed(bot: BotHarness) -> None:
    await log_misuse(bot, ADMIN, "offensive")
    alert = next(m for m in bot.emu.messages_to(HEAD) if m.photo and "misuse logged" in m.plain)
    await bot.press(HEAD, alert, "Acknowledge")
    bot.services.outbox.prune(bot.clock.now() + timedelta(days=1))  # as after 60 days

    answer = await bot.press(HEAD, alert, "Comment removed")

    assert answer and "Recorded: Comment removed" in answer["text"]
    assert "misuse logged" in alert.plain and "Category:" not in alert.plain


async def test_a_ban_begun_under_the_record_shows_on_the_record(bot: BotHarness) -> None:
    await log_misuse(bot, ADMIN, "offensive")
    [record, *_] = await bot.say(HEAD, "/incident 1")
    await bot.press(HEAD, record, "Acknowledge")

    await bot.press(HEAD, record, "User banned")
    [why] = await bot.say(HEAD, "Troll Account")
    await bot.press(HEAD, why, 0)  # the incident's category as the reason

    assert "Troll Account" in record.plain and "User banned" not in labels(record)


async def test_grant_with_a_word_that_is_not_a_role_says_so(bot: BotHarness) -> None:
    [answer] = await bot.say(SLT, "/grant 5005 teacher")

    assert answer.plain.startswith("“teacher” is not a role.\nUsage: /grant ID ROLE, where ROLE is one of admin, office")
    assert bot.services.staff.role_of(5005) is None


def test_the_demo_says_why_a_press_did_nothing() -> None:
    out = demo("/press 1", "/consent zoe", "/press 9")

    assert "Nothing to press: no message to you has buttons." in out
    assert "Give the number shown beside a button, from 1 to 2 (e.g. /press 1)" in out

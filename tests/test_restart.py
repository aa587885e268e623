"""Conversations survive a restart: a person carries on where they were when the bot comes back."""

from __future__ import annotations

import logging
import stat
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.config import Config
from bot.shell.persistence import FILE_NAME
from tests.conftest import ADMIN, DEPUTY, HEAD, OFFICE, SLT, BotHarness, make_config
from tests.test_applications import GROUP, PARENT, PUPILS, join_and_agree
from tests.test_applications import card as applications_card
from tests.test_consent_bot import load
from tests.test_incidents import alerts_to, log_misuse, screenshot_bytes, title


@pytest.fixture
async def school(bot: BotHarness) -> BotHarness:
    load(bot)
    return bot


async def test_a_check_waiting_for_names_carries_on_after_a_restart(school: BotHarness) -> None:
    [prompt] = await school.say(ADMIN, "/check")
    assert "one per line" in prompt.plain
    await school.restart()
    [ask] = await school.say(ADMIN, "Amelia Smith\namelia")  # taken as the names, not as a stray message
    assert "2 pupils listed" in ask.plain
    await school.restart()
    await school.press(ADMIN, ask, "parents' private group")  # the destination buttons still work
    report = school.last(ADMIN)
    assert "❌ “amelia” — not confirmed" in report.plain
    await school.restart()
    await school.press(ADMIN, report, "Amelia Smith (Year 3)")  # and so does confirming who "amelia" is
    assert "OK to upload" in school.last(ADMIN).plain


async def test_a_button_from_before_a_restart_never_opens_a_newer_question(school: BotHarness) -> None:
    [first] = await school.say(ADMIN, "/check\nGrace Lee")
    await school.restart()
    [second] = await school.say(ADMIN, "/check\nAmelia Smith")
    await school.press(ADMIN, first, "press and publicity")
    assert "Grace Lee" in first.plain and "Amelia" not in first.plain
    await school.press(ADMIN, second, "press and publicity")
    assert "Amelia Smith" in second.plain and "Grace" not in second.plain


async def test_a_check_left_longer_than_its_timeout_while_the_bot_was_down_is_not_resumed(school: BotHarness) -> None:
    await school.say(ADMIN, "/check")
    await school.stop()
    school.clock.advance(minutes=11)
    await school.start()
    [after] = await school.say(ADMIN, "Grace Lee")
    assert after.plain.startswith("Hello! Send /help")  # not taken as the check's names: the flow was not resumed


async def test_the_conversations_file_is_the_owners_alone(school: BotHarness) -> None:
    await school.say(ADMIN, "/check")
    path = school.config.storage.data_dir / FILE_NAME
    assert path.exists() and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "Grace" not in path.read_text()  # nothing typed yet: the state holds no pupil


async def test_a_damaged_conversations_file_ends_the_flows_and_the_bot_starts(
    school: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    await school.say(ADMIN, "/check")
    await school.stop()
    path = school.config.storage.data_dir / FILE_NAME
    path.write_bytes(b'{"version": 1, "conversations": {"consent_check": [{"key": [1005')
    with caplog.at_level(logging.WARNING):
        await school.start()
    assert any(FILE_NAME in r.getMessage() and "damaged" in r.getMessage() for r in caplog.records)
    assert path.with_name(FILE_NAME + ".damaged").exists()
    [after] = await school.say(ADMIN, "Grace Lee")
    assert after.plain.startswith("Hello! Send /help")  # the flow was ended, and the bot answers
    [again] = await school.say(ADMIN, "/check")  # and a new one works
    assert "one per line" in again.plain


async def test_a_log_with_three_screenshots_carries_on_after_a_restart_with_every_screenshot(bot: BotHarness) -> None:
    await bot.say(ADMIN, "/log")
    sent = [screenshot_bytes() for _ in range(3)]
    for shot in sent:
        bot.emu.send_photo(ADMIN, shot)
        await bot.settle()
        await bot.restart()  # a deploy between every step
    step = bot.last(ADMIN)
    assert "3" in step.plain
    state = (bot.config.storage.data_dir / FILE_NAME).read_bytes()
    assert state.count(b'"stored":"evidence/draft-') == 3 and b'"data"' not in state  # references, not pictures
    await bot.press(ADMIN, step, "Done")
    await bot.restart()
    await bot.press(ADMIN, step, title("offensive"))
    await bot.restart()
    [summary] = await bot.say(ADMIN, "Posted under the sports day photo")  # the note, after a restart
    await bot.restart()
    answer = await bot.press(ADMIN, summary, "Confirm")
    assert answer and answer["text"] == "Logged as INC-0001."
    incident = bot.services.incidents.get(1)
    assert incident.note == "Posted under the sports day photo" and len(incident.evidence) == 3
    stored = sorted(bot.services.incidents.evidence.read(item.path) for item in incident.evidence)
    assert stored == sorted(sent)
    assert not list((bot.config.storage.data_dir / "evidence").glob("draft-*"))  # the waiting copies are gone
    assert len(alerts_to(bot, HEAD, "INC-0001")) == 1


async def test_a_cancelled_log_leaves_no_screenshot_behind(bot: BotHarness) -> None:
    await bot.say(ADMIN, "/log")
    bot.emu.send_photo(ADMIN, screenshot_bytes())
    await bot.settle()
    assert list((bot.config.storage.data_dir / "evidence").glob("draft-*/*"))
    await bot.say(ADMIN, "/cancel")
    assert not list((bot.config.storage.data_dir / "evidence").glob("draft-*/*"))


async def test_the_ban_question_carries_on_after_a_restart(bot: BotHarness) -> None:
    await log_misuse(bot, ADMIN, "offensive")
    alert = alerts_to(bot, HEAD, "INC-0001")[0]
    await bot.press(HEAD, alert, "User banned")
    await bot.restart()
    [why] = await bot.say(HEAD, "angry_dad_1975")  # the name, not a stray message
    assert "angry_dad_1975" in why.plain
    await bot.restart()
    await bot.say(HEAD, "Repeated abuse of staff")
    [ban] = bot.services.incidents.bans()
    assert (ban.platform_name, ban.reason, ban.by) == ("angry_dad_1975", "Repeated abuse of staff", HEAD)


@pytest.fixture
def parents_config(data_dir: Path) -> Config:
    return make_config(data_dir, applications={"group_chat_id": GROUP})


@pytest.fixture
async def parents(emu: Any, parents_config: Config, clock: Any) -> AsyncIterator[BotHarness]:
    harness = BotHarness(emu, parents_config, clock)
    await harness.start()
    harness.services.consents.replace_register(PUPILS, [])
    emu.add_group(GROUP, "Parents of St Example's")
    emu.add_user(PARENT, "Pat", "Parent", username="pat_parent", started=False)
    yield harness
    await harness.stop()


async def test_an_apply_half_filled_in_carries_on_after_a_restart_at_every_step(parents: BotHarness) -> None:
    bot = parents
    await bot.say(OFFICE, "/apply")
    await bot.restart()
    [relationship] = await bot.say(OFFICE, "Jo Bloggs")
    await bot.restart()
    await bot.press(OFFICE, relationship, "Mother")
    await bot.restart()
    [matches] = await bot.say(OFFICE, "Amelia Smith")
    await bot.restart()
    await bot.press(OFFICE, matches, "Amelia Smith (Year 3)")
    await bot.restart()
    await bot.press(OFFICE, bot.last(OFFICE), "That's all")
    await bot.restart()
    await bot.press(OFFICE, bot.last(OFFICE), "Yes, signed")
    await bot.restart()
    [contact] = await bot.say(OFFICE, "F-17")
    await bot.restart()
    await bot.press(OFFICE, contact, "Skip")
    await bot.restart()
    await bot.press(OFFICE, bot.last(OFFICE), "Submit")
    application = bot.services.application_desk.get(1)
    assert application is not None and application.parent_name == "Jo Bloggs"
    assert [(c.name, c.pupil_id) for c in application.children] == [("Amelia Smith", "P001")]
    assert "Jo Bloggs" in applications_card(bot, SLT).plain


async def test_a_leaders_typed_question_and_reason_carry_on_after_a_restart(parents: BotHarness) -> None:
    bot = parents
    await join_and_agree(bot)
    await bot.press(DEPUTY, applications_card(bot, DEPUTY), "Ask for information")
    await bot.restart()
    [preview] = await bot.say(DEPUTY, "Which class is your child in?")  # the question, not a stray message
    await bot.restart()
    await bot.press(DEPUTY, preview, "Send")
    assert "Which class is your child in?" in bot.last(PARENT).plain
    await bot.press(HEAD, applications_card(bot, HEAD), "Reject")
    await bot.press(HEAD, applications_card(bot, HEAD), "Yes, reject")  # Reject asks once more
    await bot.restart()
    [reason] = await bot.say(HEAD, "We could not confirm the family")
    await bot.restart()
    await bot.press(HEAD, reason, "Send")
    assert "Reason: We could not confirm the family" in bot.last(PARENT).plain


async def test_a_flow_resumed_after_a_restart_still_ends_when_its_leader_is_lowered(bot: BotHarness) -> None:
    incident = await log_misuse(bot, kind="pupil")
    for _ in range(4):  # unacknowledged: re-pinged, then the deputy and SLT are alerted too
        await bot.advance(minutes=6)
    [alert, *_] = alerts_to(bot, SLT, incident.ref)
    await bot.press(SLT, alert, "User banned")
    await bot.restart()  # the role the ban began with is kept with the flow
    await bot.say(HEAD, f"/grant {SLT} admin")
    replies = await bot.say(SLT, "Sports Day Troll")
    assert replies and "Your access has changed" in replies[-1].plain
    assert bot.services.incidents.bans() == []


async def test_a_log_resumed_after_a_restart_and_then_left_times_out_at_its_next_step(bot: BotHarness) -> None:
    await bot.say(ADMIN, "/log")
    bot.emu.send_photo(ADMIN, screenshot_bytes())
    await bot.settle()
    step = bot.last(ADMIN)
    await bot.press(ADMIN, step, "Done")
    await bot.press(ADMIN, step, title("offensive"))
    await bot.restart()
    bot.clock.advance(minutes=16)  # no timer survived the restart: the next step notices the time
    replies = await bot.say(ADMIN, "A note typed long after")
    assert "timed out" in bot.last(ADMIN).plain and "nothing was logged" in bot.last(ADMIN).plain
    assert all("A note typed long after" not in m.plain for m in replies)
    assert bot.services.incidents.count() == 0
    assert not list((bot.config.storage.data_dir / "evidence").glob("draft-*/*"))


async def test_a_forwarded_screenshot_is_kept_on_disk_and_its_sender_survives_a_restart(bot: BotHarness) -> None:
    """A forward carries Telegram's origin; the flow's state must still be saved (it once was refused)."""
    bot.emu.send_photo(ADMIN, screenshot_bytes(), forward_origin={"type": "hidden_user", "sender_user_name": "Mum of Tom"})
    await bot.settle()
    await bot.press(ADMIN, bot.last(ADMIN), "Log misuse")
    state = (bot.config.storage.data_dir / FILE_NAME).read_text()
    assert "Mum of Tom" in state and '"hidden_user"' in state
    await bot.restart()
    step = bot.last(ADMIN)
    await bot.press(ADMIN, step, "Done")
    await bot.press(ADMIN, step, title("outsider"))
    await bot.press(ADMIN, step, "Skip")
    await bot.press(ADMIN, step, "Confirm")
    [evidence] = bot.services.incidents.get(1).evidence
    assert evidence.origin == "Mum of Tom" and evidence.origin_type == "hidden_user"

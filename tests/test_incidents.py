"""The misuse log and its escalation, as admins and the Head Teacher meet them on their phones."""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import re
import stat
from typing import Any

import pytest
from telegram.ext import ConversationHandler

from bot.config import Config
from bot.incidents import CATEGORIES, Draft, category
from bot.records.incidents import EvidenceKind, Incident
from bot.shell.callbacks import pack
from handlers.incidents.shared import FLOW_TIMEOUT
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
)

HEAD2 = 1010  # a second Head Teacher (a federation with co-heads)
_shots = itertools.count(1)


@pytest.fixture
def config(data_dir: Any) -> Config:
    """Two Head Teachers (co-heads): "the Head" means every Head."""
    return make_config(data_dir, roles={"head": [HEAD, HEAD2]})


@pytest.fixture
def emu(emu: Any) -> Any:
    emu.add_user(HEAD2, "Hugo", "Head")
    return emu


def screenshot_bytes() -> bytes:
    return b"\xff\xd8\xff\xe0 screenshot %d \xff\xd9" % next(_shots)


def title(key: str) -> str:
    return category(key).title


async def log_misuse(
    bot: BotHarness,
    user: int = ADMIN,
    kind: str = "offensive",
    note: str | None = None,
    shots: int = 1,
) -> Incident:
    """An admin logs misuse the usual way: /log, screenshots, Done, a category, a note or Skip, Confirm."""
    await bot.say(user, "/log")
    for _ in range(shots):
        bot.emu.send_photo(user, screenshot_bytes())
        await bot.settle()
    step = bot.last(user)
    await bot.press(user, step, "Done")
    await bot.press(user, step, title(kind))
    if note is None:
        await bot.press(user, step, "Skip")
        summary = step
    else:
        [summary] = await bot.say(user, note)
    answer = await bot.press(user, summary, "Confirm")
    assert answer is not None
    number = int(re.search(r"INC-(\d{4})", answer["text"]).group(1))  # type: ignore[union-attr]
    incident = bot.services.incidents.get(number)
    assert incident is not None
    return incident


def alerts_to(bot: BotHarness, chat_id: int, ref: str) -> list[Any]:
    """Every copy of an incident's alert in someone's chat (photo messages)."""
    return [m for m in bot.emu.messages_to(chat_id) if m.photo and m.caption and ref in m.caption]


def receipt(bot: BotHarness, user: int, ref: str) -> Any:
    return next(m for m in bot.emu.messages_to(user) if m.text and f"Logged as <b>{ref}</b>:" in m.text)


def labels(message: Any) -> list[str]:
    return [label for label, _ in message.buttons]


# ---- the logging flow ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", [c.key for c in CATEGORIES])
async def test_each_category_is_logged_end_to_end_and_the_head_gets_the_screenshot(bot: BotHarness, kind: str) -> None:
    incident = await log_misuse(bot, ADMIN, kind, note="Seen on the Christmas fair post")
    assert incident.ref == "INC-0001" and incident.category == kind
    [alert] = alerts_to(bot, HEAD, "INC-0001")
    assert alert.photo, "the Head gets the screenshot itself"
    expected = category(kind)
    assert expected.label in alert.plain and "Ada Admin" in alert.plain
    assert "Seen on the Christmas fair post" in alert.plain
    if expected.clause:
        assert f"(policy {expected.clause})" in alert.plain
    assert labels(alert)[:1] == ["Acknowledge"]
    assert {"Comment removed", "User banned", "Reported externally", "Close"} <= set(labels(alert))
    assert ("URGENT" in alert.plain) == (kind == "pupil")
    mine = receipt(bot, ADMIN, "INC-0001")
    expected_buttons = {
        "pupil": ["Comment removed"],
        "bullying": ["Logged on CPOMS", "Parent contacted"],
        "offensive": ["User banned", "Reported externally"],
        "outsider": ["User banned", "Reported externally"],
    }.get(kind, [])
    assert labels(mine) == expected_buttons
    if kind == "bullying":
        assert "log it on CPOMS" in mine.plain and "contact the parents" in mine.plain
    if kind == "pupil":
        assert "delete the comment now" in mine.plain
    steps = [e for e in bot.audit() if e.actor_id == ADMIN]
    assert [e.action for e in steps] == ["incident opened"], "one audit entry for the whole /log"
    assert "sha256 " in steps[0].detail, "the screenshots' hashes are in it"
    assert any(e.action == "incident alert" and e.target == "INC-0001" for e in bot.audit())


async def test_forwarded_photos_and_image_files_are_kept_as_write_once_evidence(bot: BotHarness) -> None:
    await bot.say(ADMIN, "/log")
    first, second = screenshot_bytes(), b"\x89PNG\r\n\x1a\n a png screenshot"
    bot.emu.send_photo(ADMIN, first, forward_origin={"type": "hidden_user", "sender_user_name": "Mum of <Tom> & co"})
    await bot.settle()
    bot.emu.send_document(ADMIN, second, "shot.png", "image/png")
    await bot.settle()
    bot.emu.send_photo(ADMIN, first)  # the same screenshot again, by mistake
    await bot.settle()
    step = bot.last(ADMIN)
    assert "already have that screenshot" in step.plain and "Got 2 screenshots" in step.plain
    await bot.press(ADMIN, step, "Done")
    await bot.press(ADMIN, step, title("outsider"))
    await bot.press(ADMIN, step, "Skip")
    assert "2 screenshots (1 forwarded)" in step.plain
    await bot.press(ADMIN, step, "Confirm")

    incident = bot.services.incidents.get(1)
    assert [e.kind for e in incident.evidence] == ["photo", "document"]
    for evidence, data in zip(incident.evidence, (first, second), strict=True):
        path = bot.services.db.data_dir / evidence.path
        assert path.parent.name == "INC-0001" and path.read_bytes() == data
        assert evidence.sha256 == hashlib.sha256(data).hexdigest() and evidence.size == len(data)
        assert stat.S_IMODE(path.stat().st_mode) == 0o400, "stored evidence is read-only"
        assert evidence.uploader_id == ADMIN and evidence.file_id and evidence.file_unique_id
    forwarded, plain = incident.evidence
    assert forwarded.origin == "Mum of <Tom> & co" and forwarded.origin_type == "hidden_user"
    assert forwarded.origin_date is not None and plain.origin_type == ""
    [alert] = alerts_to(bot, HEAD, "INC-0001")
    assert "forwarded from “Mum of <Tom> & co”" in alert.plain


async def test_an_image_file_alone_reaches_the_head_as_the_stored_copy(bot: BotHarness) -> None:
    await bot.say(ADMIN, "/log")
    bot.emu.send_document(ADMIN, b"\x89PNG\r\n\x1a\n only a file", "shot.png", "image/png")
    await bot.settle()
    step = bot.last(ADMIN)
    for tap in ("Done", title("other"), "Skip", "Confirm"):
        await bot.press(ADMIN, step, tap)
    [alert] = alerts_to(bot, HEAD, "INC-0001")
    assert bot.emu.files[alert.photo] == b"\x89PNG\r\n\x1a\n only a file"


async def test_a_photo_outside_any_flow_offers_log_misuse_or_check_consent(bot: BotHarness) -> None:
    bot.emu.send_photo(ADMIN, screenshot_bytes())
    await bot.settle()
    offer = bot.last(ADMIN)
    assert labels(offer) == ["Log misuse", "Check consent"]
    assert dict(offer.buttons)["Check consent"] == pack("con", "photo")
    assert bot.app.user_data[ADMIN]["last_photo"], "the consent check finds the photo here"

    await bot.press(ADMIN, offer, "Log misuse")
    assert "Got 1 screenshot" in offer.plain
    for tap in ("Done", title("parent"), "Skip", "Confirm"):
        await bot.press(ADMIN, offer, tap)
    assert len(bot.services.incidents.get(1).evidence) == 1

    mark = bot.emu.mark()
    bot.emu.send_photo(ADMIN, screenshot_bytes(), forward_origin={"type": "user", "sender_user": STRANGER}, caption="look")
    await bot.settle()
    assert any("Log misuse" in labels(m) for m in bot.emu.since(mark, ADMIN)), "a forward is offered even with a caption"

    mark = bot.emu.mark()
    bot.emu.send_photo(ADMIN, screenshot_bytes(), caption="Amelia Smith")
    await bot.settle()
    assert not any("Log misuse" in labels(m) for m in bot.emu.since(mark, ADMIN)), "a captioned photo is a consent check"


async def test_found_a_problem_under_the_nudge_starts_the_flow(bot: BotHarness) -> None:
    [helped] = await bot.say(ADMIN, "/help")
    await bot.press(ADMIN, helped, data=pack("log", "start"))
    prompt = bot.last(ADMIN)
    assert "Send me the screenshot" in prompt.plain and prompt.message_id != helped.message_id


async def test_forwarded_photo_keeps_who_sent_it(bot: BotHarness) -> None:
    await bot.say(ADMIN, "/misuse")
    bot.emu.send_photo(ADMIN, screenshot_bytes(), forward_origin={"type": "user", "sender_user": STRANGER})
    await bot.settle()
    step = bot.last(ADMIN)
    for tap in ("Done", title("offensive"), "Skip", "Confirm"):
        await bot.press(ADMIN, step, tap)
    [evidence] = bot.services.incidents.get(1).evidence
    assert evidence.origin == "Stan Stranger" and evidence.origin_type == "user"


async def test_a_long_note_is_refused_kindly_and_a_shorter_one_accepted(bot: BotHarness) -> None:
    await bot.say(ADMIN, "/report")
    bot.emu.send_photo(ADMIN, screenshot_bytes())
    await bot.settle()
    step = bot.last(ADMIN)
    await bot.press(ADMIN, step, "Done")
    await bot.press(ADMIN, step, title("staff"))
    [refused] = await bot.say(ADMIN, "x" * 1500)
    assert "please keep it under 1,000" in refused.plain and labels(refused) == ["Skip", "Cancel"]
    [summary] = await bot.say(ADMIN, "A member of staff posted from a personal account")
    assert "Ready to log" in summary.plain and "personal account" in summary.plain


@pytest.mark.parametrize("where", ["screenshots", "category", "note", "confirm"])
async def test_cancel_at_any_step_logs_nothing(bot: BotHarness, where: str) -> None:
    await bot.say(ADMIN, "/log")
    if where != "screenshots":
        bot.emu.send_photo(ADMIN, screenshot_bytes())
        await bot.settle()
        step = bot.last(ADMIN)
        taps = {"category": ["Done"], "note": ["Done", title("other")], "confirm": ["Done", title("other"), "Skip"]}[where]
        for tap in taps:
            await bot.press(ADMIN, step, tap)
    [cancelled] = await bot.say(ADMIN, "/cancel")
    assert "nothing was logged" in cancelled.plain
    assert bot.services.incidents.count() == 0 and not alerts_to(bot, HEAD, "INC-")
    assert any(e.action == "log misuse: cancel" for e in bot.audit())


async def test_an_unanswered_flow_times_out_cleanly(bot: BotHarness) -> None:
    await bot.say(ADMIN, "/log")
    bot.emu.send_photo(ADMIN, screenshot_bytes())
    await bot.settle()
    step = bot.last(ADMIN)
    flow = next(h for h in bot.app.handlers[0] if isinstance(h, ConversationHandler) and h.name == "incident_log")
    assert flow.conversation_timeout == FLOW_TIMEOUT
    job = flow.timeout_jobs[(ADMIN, ADMIN)]
    await job.run(bot.app)  # what APScheduler does when the timeout is reached
    await bot.settle()
    assert "timed out" in bot.last(ADMIN).plain and "nothing was logged" in bot.last(ADMIN).plain
    assert "timed out" in step.plain and not step.buttons, "the step that waited says so, without its buttons"
    answer = await bot.press(ADMIN, step, data=pack("log", "done"))
    assert answer and "This log has ended" in answer["text"]
    assert bot.services.incidents.count() == 0
    assert any(e.action == "log misuse: timed out" for e in bot.audit())


async def test_a_double_tap_on_confirm_logs_one_incident(bot: BotHarness) -> None:
    await bot.say(ADMIN, "/log")
    bot.emu.send_photo(ADMIN, screenshot_bytes())
    await bot.settle()
    step = bot.last(ADMIN)
    for tap in ("Done", title("offensive"), "Skip"):
        await bot.press(ADMIN, step, tap)
    confirm_data = dict(step.buttons)["Confirm"]
    first = await bot.press(ADMIN, step, data=confirm_data)
    second = await bot.press(ADMIN, step, data=confirm_data)
    assert first and first["text"] == "Logged as INC-0001."
    assert second and second["text"] == "Already logged as INC-0001."
    assert bot.services.incidents.count() == 1 and len(alerts_to(bot, HEAD, "INC-0001")) == 1
    forged = await bot.press(ADMIN2, step, data=confirm_data)  # someone else's summary
    assert forged and "not for you" in forged["text"]


async def test_only_staff_who_log_misuse_can_start(bot: BotHarness) -> None:
    [refused] = await bot.say(OFFICE, "/log")
    assert "Sorry" in refused.plain
    [stranger] = await bot.say(STRANGER, "/log")
    assert "only for staff" in stranger.plain
    assert bot.services.incidents.count() == 0


# ---- escalation --------------------------------------------------------------------------------


async def test_every_head_gets_the_alert_at_once(bot: BotHarness) -> None:
    await log_misuse(bot, ADMIN, "pupil")
    assert len(alerts_to(bot, HEAD, "INC-0001")) == 1 and len(alerts_to(bot, HEAD2, "INC-0001")) == 1
    assert not alerts_to(bot, DEPUTY, "INC-0001") and not alerts_to(bot, SLT, "INC-0001")


def pings_to(bot: BotHarness, chat_id: int, ref: str) -> list[Any]:
    """The short re-pings pointing to an alert someone already holds."""
    return [m for m in bot.emu.messages_to(chat_id) if m.text and ref in m.plain and "the alert above" in m.plain]


async def test_unacknowledged_alerts_are_resent_then_go_to_the_deputy_and_slt(bot: BotHarness) -> None:
    await log_misuse(bot, ADMIN, "offensive")
    await bot.advance(minutes=29)
    assert len(alerts_to(bot, HEAD, "INC-0001")) == 1
    await bot.advance(minutes=1)
    assert len(alerts_to(bot, HEAD, "INC-0001")) == 1, "one alert, kept up to date"
    [ping] = pings_to(bot, HEAD, "INC-0001")
    assert "Still waiting for you: INC-0001" in ping.plain and not ping.photo and not ping.buttons
    assert not alerts_to(bot, SLT, "INC-0001"), "the fallback waits for fallback_after re-sends"
    await bot.advance(minutes=30)
    assert len(alerts_to(bot, HEAD, "INC-0001")) == 1 and len(pings_to(bot, HEAD, "INC-0001")) == 2
    for leader in (DEPUTY, SLT, SLT2):
        [copy] = alerts_to(bot, leader, "INC-0001")
        assert labels(copy)[0] == "Acknowledge" and "Reminder 2: not yet acknowledged" in copy.plain
    await bot.advance(minutes=30)
    for leader in (DEPUTY, SLT, SLT2):
        assert len(alerts_to(bot, leader, "INC-0001")) == 1 and len(pings_to(bot, leader, "INC-0001")) == 1
    pings = [e for e in bot.audit() if e.action == "incident re-ping"]
    assert [e.detail for e in pings] == ["re-send 1", "re-send 2; deputy and SLT alerted", "re-send 3; deputy and SLT alerted"]


async def test_a_pupil_named_is_urgent_and_re_pinged_sooner(bot: BotHarness) -> None:
    await log_misuse(bot, ADMIN, "pupil")
    await bot.advance(minutes=5)
    assert len(alerts_to(bot, HEAD, "INC-0001")) == 1 and len(pings_to(bot, HEAD, "INC-0001")) == 1


async def test_head_acknowledges_from_one_device_and_every_copy_updates(bot: BotHarness) -> None:
    await log_misuse(bot, ADMIN, "pupil", note="Names a Year 4 pupil")
    await bot.advance(minutes=5)
    await bot.advance(minutes=5)  # two re-sends: the deputy and SLT have it too
    copies = [m for person in (HEAD, HEAD2, DEPUTY, SLT, SLT2) for m in alerts_to(bot, person, "INC-0001")]
    assert len(copies) == 5, "one alert each, however many re-pings"

    answer = await bot.press(HEAD2, alerts_to(bot, HEAD2, "INC-0001")[0], "Acknowledge")
    assert answer and "Acknowledged" in answer["text"]
    for copy in copies:
        assert "Acknowledged by Hugo Head, Wed 25 Nov 10:10" in copy.plain, copy.chat_id
        assert "Acknowledge" not in labels(copy) and "Comment removed" in labels(copy)
        assert "Reminder" not in copy.plain
    assert "Acknowledged by Hugo Head" in receipt(bot, ADMIN, "INC-0001").plain
    for ping in pings_to(bot, HEAD, "INC-0001") + pings_to(bot, HEAD2, "INC-0001"):
        assert "INC-0001 was acknowledged by Hugo Head" in ping.plain, "no ping still says waiting"

    late = await bot.press(HEAD, alerts_to(bot, HEAD, "INC-0001")[0], data=pack("inc", "ack", 1))
    assert late and "Already acknowledged by Hugo Head" in late["text"]
    sent = bot.emu.mark()
    await bot.advance(minutes=60)
    assert not [m for m in bot.emu.since(sent) if m.photo], "acknowledgement stops the re-pings"
    acks = [e for e in bot.audit() if e.action == "acknowledge incident"]
    assert [(e.actor_id, e.outcome) for e in acks] == [(HEAD2, "ok"), (HEAD, "already")]


async def test_only_head_deputy_and_slt_may_press_alert_buttons(bot: BotHarness) -> None:
    await log_misuse(bot, ADMIN, "offensive")
    alert = alerts_to(bot, HEAD, "INC-0001")[0]
    before = alert.caption
    for person in (ADMIN, ADMIN2, OFFICE, STRANGER):
        for data in (pack("inc", "ack", 1), pack("inc", "shut", 1, "resolved"), pack("inc", "close", 1)):
            bot.app.bot_data.pop("stranger_gate", None)  # a stranger is answered once per window: each is a first
            answer = await bot.press(person, alert, data=data)
            assert answer and "Sorry" in answer["text"], (person, data)
    refused = await bot.press(ADMIN2, alert, data=pack("inc", "do", 1, "removed"))
    assert refused and "only the Head Teacher" in refused["text"], "only the reporter besides leaders"
    for data in ("1:inc:ack:999", "1:inc:ack:abc", "1:inc:do:1:exploded", "1:inc:shut:1:vanished", "1:inc:ack", "2:inc:ack:1"):
        await bot.press(HEAD, alert, data=data)
    incident = bot.services.incidents.get(1)
    assert incident.state == "open" and not bot.services.incidents.actions(1)
    assert alert.caption == before
    refusals = [e for e in bot.audit() if e.outcome.startswith("refused")]
    assert len(refusals) >= 12


async def test_actions_are_recorded_once_with_who_and_when_on_every_copy(bot: BotHarness) -> None:
    await log_misuse(bot, ADMIN, "pupil")
    mine = receipt(bot, ADMIN, "INC-0001")
    answer = await bot.press(ADMIN, mine, "Comment removed")
    assert answer and answer["text"] == "Recorded: Comment removed."
    again = await bot.press(ADMIN, mine, data=pack("inc", "do", 1, "removed"))
    assert again and "Already recorded: Comment removed by Ada Admin" in again["text"]
    alert = alerts_to(bot, HEAD, "INC-0001")[0]
    assert "✅ Comment removed — Ada Admin, Wed 25 Nov 10:00" in alert.plain
    assert "Comment removed" not in labels(alert) and "Acknowledge" in labels(alert), (
        "a reporter's action is not an acknowledgement"
    )
    assert not labels(mine)

    await bot.press(HEAD, alert, "Reported externally")
    incident = bot.services.incidents.get(1)
    assert incident.state == "acknowledged" and incident.acknowledged_by == HEAD, "a leader's action acknowledges"
    kinds = [a.kind for a in bot.services.incidents.actions(1)]
    assert kinds == ["removed", "reported"]


async def test_bullying_prompts_cpoms_and_parents(bot: BotHarness) -> None:
    await log_misuse(bot, ADMIN2, "bullying")
    mine = receipt(bot, ADMIN2, "INC-0001")
    await bot.press(ADMIN2, mine, "Logged on CPOMS")
    await bot.press(ADMIN2, mine, "Parent contacted")
    assert [a.kind for a in bot.services.incidents.actions(1)] == ["cpoms", "parent"]
    assert "✅ Logged on CPOMS — Alan Admin" in mine.plain and "✅ Parent contacted — Alan Admin" in mine.plain
    alert = alerts_to(bot, HEAD, "INC-0001")[0]
    assert "Logged on CPOMS" not in labels(alert) and "✅ Logged on CPOMS" in alert.plain


async def test_ban_flow_fills_the_ban_register(bot: BotHarness) -> None:
    await log_misuse(bot, ADMIN, "outsider")
    mine = receipt(bot, ADMIN, "INC-0001")
    await bot.press(ADMIN, mine, "User banned")
    assert "Who was banned?" in bot.last(ADMIN).plain
    [why] = await bot.say(ADMIN, "Troll <99> & Friends")
    assert "Troll <99> & Friends" in why.plain
    await bot.press(ADMIN, why, title("outsider")[:60])
    assert "is in the ban register for INC-0001" in bot.last(ADMIN).plain
    [ban] = bot.services.incidents.bans()
    assert (ban.platform_name, ban.by, ban.number) == ("Troll <99> & Friends", ADMIN, 1)
    assert ban.reason == "Someone unconnected to the school (6.3), policy 6.4"
    alert = alerts_to(bot, HEAD, "INC-0001")[0]
    assert "✅ User banned: “Troll <99> & Friends” — Ada Admin" in alert.plain and "User banned" not in labels(alert)

    again = await bot.press(HEAD, alert, data=pack("inc", "ban", 1))
    assert again and "Already recorded" in again["text"]
    assert len(bot.services.incidents.bans()) == 1
    assert [a.kind for a in bot.services.incidents.actions(1)] == ["banned"]

    [register] = await bot.say(SLT, "/bans")
    assert "Troll <99> & Friends" in register.plain and "INC-0001" in register.plain and "Ada Admin" in register.plain
    [refused] = await bot.say(ADMIN, "/bans")
    assert "Sorry" in refused.plain


async def test_head_bans_with_a_typed_reason_and_can_cancel(bot: BotHarness) -> None:
    await log_misuse(bot, ADMIN, "offensive")
    alert = alerts_to(bot, HEAD, "INC-0001")[0]
    await bot.press(HEAD, alert, "User banned")
    [cancelled] = await bot.say(HEAD, "/cancel")
    assert "no ban was recorded" in cancelled.plain and not bot.services.incidents.bans()
    await bot.press(HEAD, alert, "User banned")
    await bot.say(HEAD, "angry_dad_1975")
    await bot.say(HEAD, "Repeated abuse of staff")
    [ban] = bot.services.incidents.bans()
    assert ban.reason == "Repeated abuse of staff" and ban.by_name == "Helen Head"
    assert bot.services.incidents.get(1).state == "acknowledged"


async def test_close_with_an_outcome_updates_every_copy_and_stops_reminders(bot: BotHarness) -> None:
    await log_misuse(bot, ADMIN, "parent")
    alert = alerts_to(bot, HEAD, "INC-0001")[0]
    await bot.press(HEAD, alert, "Close")
    assert labels(alert) == ["Resolved", "No further action", "Referred on", "« Back"]
    assert bot.services.incidents.get(1).state == "open", "nothing changes until an outcome is chosen"
    await bot.press(HEAD, alert, "« Back")
    assert labels(alert)[0] == "Acknowledge"
    await bot.press(HEAD, alert, "Close")
    await bot.press(HEAD, alert, "No further action")
    for copy in alerts_to(bot, HEAD, "INC-0001") + alerts_to(bot, HEAD2, "INC-0001"):
        assert "🔒 Closed: No further action by Helen Head" in copy.plain and not copy.buttons
    again = await bot.press(HEAD2, alerts_to(bot, HEAD2, "INC-0001")[0], data=pack("inc", "shut", 1, "resolved"))
    assert again and "already closed" in again["text"]
    sent = bot.emu.mark()
    await bot.advance(hours=2)
    assert not bot.emu.since(sent)


# ---- delivery that survives faults and restarts ----------------------------------------------------


async def test_alert_saved_before_sending_is_delivered_once_after_a_restart(bot: BotHarness) -> None:
    # Three failures outlast the rate limiter's quick retries, so the alert waits in the outbox.
    bot.emu.fail_next("sendPhoto", 500, "Internal Server Error", count=3)
    await log_misuse(bot, ADMIN, "pupil")
    assert not alerts_to(bot, HEAD, "INC-0001")
    [pending] = [c for c in bot.runtime.delivery.thread_copies("inc:1") if c.chat_id == HEAD]
    assert pending.state == "pending"
    await bot.restart()
    await bot.advance(seconds=10)
    assert len(alerts_to(bot, HEAD, "INC-0001")) == 1
    await bot.advance(seconds=60)
    assert len(alerts_to(bot, HEAD, "INC-0001")) == 1


async def test_bot_stopped_before_sending_delivers_the_alert_once_after_restart(bot: BotHarness) -> None:
    bot.runtime.delivery.kick = lambda: None  # type: ignore[method-assign]  # the process dies before its send round starts
    await log_misuse(bot, ADMIN, "offensive")
    assert not alerts_to(bot, HEAD, "INC-0001") and bot.services.outbox.pending_count() >= 2
    await bot.restart()
    await bot.tick()
    assert len(alerts_to(bot, HEAD, "INC-0001")) == 1
    assert receipt(bot, ADMIN, "INC-0001")


async def test_incident_saved_without_its_alert_queued_is_alerted_after_restart(bot: BotHarness) -> None:
    incidents = bot.services.incident_log
    shot = incidents.take_screenshot(
        "crashdraft", b"evidence", "AgACAgQAAxkBAAI999999", "AQAD999999", EvidenceKind.DOCUMENT, "image/png", ".png"
    )
    draft, _ = Draft("crashdraft", ADMIN, bot.clock.now(), category="pupil").add(shot)
    incidents.confirm(draft, "Ada Admin")  # the process died right after saving
    await bot.restart()
    await bot.tick()
    [alert] = alerts_to(bot, HEAD, "INC-0001")
    assert bot.emu.files[alert.photo] == b"evidence"
    await bot.tick()
    assert len(alerts_to(bot, HEAD, "INC-0001")) == 1


async def test_timers_come_back_from_storage_after_a_restart(bot: BotHarness) -> None:
    await log_misuse(bot, ADMIN, "pupil")
    await bot.restart()
    await bot.advance(minutes=5)
    assert len(pings_to(bot, HEAD, "INC-0001")) == 1


async def test_a_head_who_cannot_be_reached_is_reported_to_the_reporter_and_slt_once(bot: BotHarness) -> None:
    bot.emu.block(HEAD)
    bot.emu.block(HEAD2)
    await log_misuse(bot, ADMIN, "pupil")
    await bot.advance(minutes=4)
    assert not [m for m in bot.emu.messages_to(SLT) if "has not reached the Head" in (m.text or "")]
    await bot.advance(minutes=1)
    for person in (ADMIN, SLT, SLT2, DEPUTY):
        warnings = [m for m in bot.emu.messages_to(person) if "has not reached the Head Teacher" in (m.text or "")]
        assert len(warnings) == 1, person
    for _ in range(6):
        await bot.advance(minutes=1)
    assert len([m for m in bot.emu.messages_to(ADMIN) if "has not reached" in (m.text or "")]) == 1
    await bot.say(HEAD, "/start")  # the Head opens the bot again
    await bot.advance(minutes=2)
    assert alerts_to(bot, HEAD, "INC-0001")
    assert any(e.action == "head unreachable" for e in bot.audit())


async def test_a_rate_limited_alert_waits_and_arrives(bot: BotHarness) -> None:
    bot.emu.fail_next("sendPhoto", 429, "Too Many Requests: retry after 1", retry_after=1)
    await log_misuse(bot, ADMIN, "staff")
    await bot.advance(seconds=5)
    assert len(alerts_to(bot, HEAD, "INC-0001")) == 1


async def test_fifty_incidents_through_a_flaky_network_each_alert_arrives_and_nothing_doubles(bot: BotHarness) -> None:
    from emulator import FaultPlan

    # Real 429s (retry_after 1 s, as Telegram sends them): the tests' wait_scale=0 retries them at once.
    bot.emu.faults = FaultPlan(rate=0.2, seed=20261125, kinds=("429", "500", "drop"))
    kinds = [c.key for c in CATEGORIES]
    refs = []
    for n in range(50):
        reporter = ADMIN if n % 2 else ADMIN2
        refs.append(await patiently_log(bot, reporter, kinds[n % len(kinds)]))
        await drain(bot)
        alert = alerts_to(bot, HEAD, refs[-1])[-1]
        await patiently_press(bot, HEAD, alert, pack("inc", "ack", int(refs[-1][4:])), ("Acknowledged", "Already acknowledged"))
        removed = pack("inc", "do", int(refs[-1][4:]), "removed")
        await patiently_press(bot, HEAD, alert, removed, ("Recorded", "Already recorded"))
        await bot.press(HEAD, alert, data=removed)  # and once more, a double tap
        await drain(bot)
    bot.emu.faults = None
    await drain(bot)

    incidents = bot.services.incidents.all()
    assert len(incidents) == 50 and sorted(refs) == [f"INC-{n:04d}" for n in range(1, 51)]
    assert len({i.draft_id for i in incidents}) == 50
    actions = bot.services.incidents.all_actions()
    assert len(actions) == len({(a.number, a.kind) for a in actions}) == 50
    for incident in incidents:
        assert incident.state == "acknowledged", incident.ref
        copies = alerts_to(bot, HEAD, incident.ref)
        assert copies, f"{incident.ref} never reached the Head"
        assert any("Acknowledged by Helen Head" in c.plain for c in copies)
    assert not [i for i in bot.emu.injected if i.kind not in ("429", "500", "drop")]
    assert len(bot.emu.injected) > 100, "the network really was flaky"
    assert all(item.state != "failed" for item in bot.runtime.delivery.thread_copies("inc:1"))
    # A retried edit that had already landed (a dropped answer) is "not modified": Telegram says
    # the same, and the delivery layer treats it as done.
    bot.emu.refusals[:] = [r for r in bot.emu.refusals if "message is not modified" not in r.description]


async def drain(bot: BotHarness, rounds: int = 80) -> None:
    """Let durable delivery retry (its backoff runs on the test clock) until nothing waits."""
    for _ in range(rounds):
        if bot.services.outbox.pending_count() == 0:
            return
        await bot.advance(seconds=20)
    raise AssertionError("the outbox never emptied")


async def patiently(bot: BotHarness, act: Any, seen: Any, tries: int = 15) -> Any:
    """A person on a bad connection: do it again until the phone shows the result."""
    for _ in range(tries):
        mark = bot.emu.mark()
        await act()
        found = seen(mark)
        if found:
            return found
    raise AssertionError("gave up after retrying")


async def patiently_press(bot: BotHarness, user: int, message: Any, data: str, wanted: tuple[str, ...]) -> None:
    answers: list[str] = []

    async def tap() -> None:
        answer = await bot.press(user, message, data=data)
        answers.append((answer or {}).get("text") or "")

    await patiently(bot, tap, lambda _: any(w in answers[-1] for w in wanted))


async def patiently_log(bot: BotHarness, user: int, kind: str) -> str:
    """The whole flow, each step retried until its answer shows (as a person would)."""

    def newest(mark: int, words: str) -> Any:
        return next((m for m in reversed(bot.emu.since(mark, user)) if m.text and words in m.text), None)

    await patiently(bot, lambda: bot.say(user, "/log"), lambda mark: newest(mark, "Send me the screenshot"))
    shot = screenshot_bytes()

    async def send() -> None:
        bot.emu.send_photo(user, shot)
        await bot.settle()

    step = await patiently(bot, send, lambda mark: newest(mark, "Got 1 screenshot"))

    async def tap(label: str) -> None:
        await bot.press(user, step, data=dict(step.buttons)[label])

    await patiently(bot, lambda: tap("Done"), lambda _: "Other" in labels(step))
    await patiently(bot, lambda: tap(title(kind)), lambda _: "Skip" in labels(step))
    await patiently(bot, lambda: tap("Skip"), lambda _: "Confirm" in labels(step))
    confirm_data = dict(step.buttons)["Confirm"]
    result: dict[str, str] = {}

    async def confirm() -> None:
        answer = await bot.press(user, step, data=confirm_data)
        found = re.search(r"INC-\d{4}", (answer or {}).get("text") or "") or re.search(r"INC-\d{4}", step.text or "")
        if found:
            result["ref"] = found.group()

    await patiently(bot, confirm, lambda _: result.get("ref"))
    return result["ref"]


# ---- reading the log -----------------------------------------------------------------------------


def seed(bot: BotHarness, count: int, kind: str = "offensive") -> None:
    """Incidents logged earlier (straight through the domain: the flow has its own tests)."""
    incidents = bot.services.incident_log
    for n in range(count):
        file_id, unique_id = f"AgACAgQAAxkBAAI{800000 + n}", f"AQAD{800000 + n}"
        shot = incidents.take_screenshot(
            f"seed{n}", screenshot_bytes(), file_id, unique_id, EvidenceKind.PHOTO, "image/jpeg", ".jpg"
        )
        draft, _ = Draft(f"seed{n}", ADMIN, bot.clock.now(), category=kind, note=f"note {n}").add(shot)
        incident, _ = incidents.confirm(draft, "Ada Admin")
        bot.services.incidents.mark_alert_posted(incident.number)
        bot.clock.advance(minutes=1)


async def test_incidents_lists_open_ones_first_in_pages(bot: BotHarness) -> None:
    seed(bot, 25)
    incidents = bot.services.incident_log
    for number in (24, 25):
        incidents.close(number, "resolved", HEAD, "Helen Head")
    [first] = await bot.say(SLT, "/incidents")
    assert "Page 1 of 3" in first.plain and "23 not closed, 25 in all" in first.plain
    assert first.plain.index("INC-0023") < first.plain.index("INC-0014")
    await bot.press(SLT, first, "Next ›")
    await bot.press(SLT, first, "Next ›")
    assert "INC-0025" in first.plain and "closed" in first.plain and "Page 3 of 3" in first.plain
    [refused] = await bot.say(ADMIN, "/incidents")
    assert "Sorry" in refused.plain


async def test_the_ban_register_comes_in_pages_newest_first(bot: BotHarness) -> None:
    seed(bot, 12, kind="outsider")
    incidents = bot.services.incident_log
    for number in range(1, 13):
        incidents.record_ban(number, f"troll_{number}", "Abuse", ADMIN, "Ada Admin")
        bot.clock.advance(minutes=1)
    [first] = await bot.say(HEAD, "/bans")
    assert "Ban register</b> (12)" in first.text and "Page 1 of 2" in first.plain
    assert first.plain.index("troll_12") < first.plain.index("troll_3")
    await bot.press(HEAD, first, "Next ›")
    assert "• troll_1 — Abuse" in first.plain and "troll_12" not in first.plain and "Page 2 of 2" in first.plain


async def test_incident_record_shows_the_evidence_and_resends_it_to_leaders(bot: BotHarness) -> None:
    await log_misuse(bot, ADMIN, "pupil", note="Names <a pupil> & her class", shots=2)
    replies = await bot.say(DEPUTY, "/incident INC-0001")
    record, *photos = replies
    incident = bot.services.incidents.get(1)
    assert "Names <a pupil> & her class" in record.plain and "Pupil named or described (policy 6.2)" in record.plain
    for evidence in incident.evidence:
        assert evidence.sha256 in record.plain
    assert record.plain.count("✅ intact") == 2
    assert [p.caption for p in photos] == ["INC-0001 · screenshot 1 of 2", "INC-0001 · screenshot 2 of 2"]
    for photo, evidence in zip(photos, incident.evidence, strict=True):
        assert bot.emu.files[photo.photo] == (bot.services.db.data_dir / evidence.path).read_bytes()
    [same] = (await bot.say(HEAD, "/incident 1"))[:1]
    assert "INC-0001" in same.plain
    [refused] = await bot.say(ADMIN, "/incident 1")
    assert "Sorry" in refused.plain
    [missing] = await bot.say(SLT, "/incident 99")
    assert "no incident INC-0099" in missing.plain
    [usage] = await bot.say(SLT, "/incident")
    assert "Usage" in usage.plain
    views = [e for e in bot.audit() if e.action == "view incident"]
    assert [(e.actor_id, e.target) for e in views][:2] == [(DEPUTY, "INC-0001"), (HEAD, "INC-0001")]


async def test_a_changed_evidence_file_is_shown_as_changed(bot: BotHarness) -> None:
    await log_misuse(bot, ADMIN, "offensive")
    [evidence] = bot.services.incidents.get(1).evidence
    path = bot.services.db.data_dir / evidence.path
    path.chmod(0o600)
    path.write_bytes(b"tampered")
    record, telegram_copy = await bot.say(SLT, "/incident 1")
    assert "❌ stored copy missing or changed" in record.plain
    assert "Telegram's copy" in telegram_copy.caption


async def test_export_gives_the_head_a_spreadsheet_safe_csv(bot: BotHarness) -> None:
    await log_misuse(bot, ADMIN, "bullying", note='=HYPERLINK("http://x") said Tom & Jerry')
    await bot.press(ADMIN, receipt(bot, ADMIN, "INC-0001"), "Logged on CPOMS")
    await log_misuse(bot, ADMIN2, "other")
    [document] = await bot.say(HEAD, "/export")
    assert document.document["file_name"] == "incidents-2026-11-25.csv"
    rows = list(csv.DictReader(io.StringIO(bot.emu.files[document.document["file_id"]].decode("utf-8-sig"))))
    assert [r["ref"] for r in rows] == ["INC-0001", "INC-0002"]
    first = rows[0]
    assert (first["category"], first["clause"]) == ("Bullying between pupils", "10.1")
    assert (first["state"], first["reporter"]) == ("open", "Ada Admin")
    assert first["note"].startswith("'=HYPERLINK"), "a note never runs as a formula"
    assert first["cpoms_by"] == "Ada Admin (Wed 25 Nov 10:00)" and first["removed_by"] == ""
    assert any(e.action == "export incidents" and e.actor_id == HEAD for e in bot.audit())


async def test_every_step_of_an_incident_leaves_an_audit_entry_without_its_content(bot: BotHarness) -> None:
    await log_misuse(bot, ADMIN, "outsider", note="Tom Smith in Year 4 was named")
    await bot.advance(minutes=30)
    alert = alerts_to(bot, HEAD, "INC-0001")[0]
    for tap in ("Acknowledge", "Comment removed", "User banned"):
        await bot.press(HEAD, alert, tap)
    await bot.say(HEAD, "troll_account")
    await bot.say(HEAD, "Abuse")
    await bot.press(HEAD, alert, "Close")
    await bot.press(HEAD, alert, "Resolved")
    for command in ("/incident 1", "/incidents", "/bans", "/export"):
        await bot.say(SLT, command)
    trail = [(e.actor_id, e.actor_role, e.action) for e in bot.audit()]
    expected = [
        (ADMIN, "admin", "incident opened"),
        (0, "system", "incident alert"),
        (0, "system", "incident re-ping"),
        (HEAD, "head", "acknowledge incident"),
        (HEAD, "head", "incident action removed"),
        (HEAD, "head", "incident action banned"),
        (HEAD, "head", "close incident"),
        (SLT, "slt", "view incident"),
        (SLT, "slt", "list incidents"),
        (SLT, "slt", "list bans"),
        (SLT, "slt", "export incidents"),
    ]
    steps = iter(trail)
    for entry in expected:
        assert entry in steps, f"{entry} missing or out of order"
    for entry in bot.audit():
        assert "Tom Smith" not in f"{entry.target} {entry.detail}", "the audit log never holds what was posted"
        assert "troll_account" not in f"{entry.target} {entry.detail}"


# ---- what Telegram would refuse ----------------------------------------------------------------------


async def test_long_notes_and_names_keep_the_alert_caption_within_telegram_limits(bot: BotHarness) -> None:
    bot.emu.add_user(ADMIN, "Ada &<" * 10, "Admin😀" * 9)
    await log_misuse(bot, ADMIN, "pupil", note="&<😀>" * 250)  # 1000 characters, 1250 UTF-16 units
    incident = bot.services.incidents.get(1)
    await bot.press(ADMIN, receipt(bot, ADMIN, "INC-0001"), "Comment removed")
    alert = alerts_to(bot, HEAD, "INC-0001")[0]
    for tap in ("Acknowledge", "Reported externally"):
        await bot.press(HEAD, alert, tap)
    await bot.press(HEAD, alert, "User banned")
    await bot.say(HEAD, "x" * 100)
    await bot.say(HEAD, "y" * 200)
    await bot.advance(minutes=30)
    assert incident.note in (await bot.say(SLT, "/incident 1"))[0].plain
    assert "&<😀>" in alert.plain and "…" in alert.plain, "the note is clipped, escaped, in the caption"
    # The fixture fails the test if Telegram would have refused any caption or text.


def test_the_fullest_alert_caption_still_fits_telegrams_limit() -> None:
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from bot.records.incidents import Action, Ban, Evidence
    from emulator import parse_html, utf16_len
    from handlers.incidents.messages import alert_caption

    at = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    long_name = "Ω&<" * 30
    evidence = tuple(
        Evidence(
            f"evidence/INC-0001/{n}.jpg",
            "0" * 64,
            1,
            "f",
            "u",
            EvidenceKind.PHOTO,
            "image/jpeg",
            ADMIN,
            at,
            f"{long_name}{n}",
            "user",
            at,
        )
        for n in range(10)
    )
    incident = Incident(1, "d", "pupil", True, ADMIN, long_name, "😀&" * 500, at, evidence, pings=99)
    actions = [Action(1, kind, HEAD, long_name, at) for kind in ("removed", "banned", "reported", "parent", "cpoms")]
    ban = Ban(1, "x" * 100, "y" * 200, HEAD, long_name, at)
    caption = alert_caption(incident, actions, ban, ZoneInfo("Europe/London"), reminder=99)
    plain, _ = parse_html(caption)
    assert utf16_len(plain) <= 1024 and "Note: 😀&amp;" in caption and "Reminder 99" in caption


def test_references_are_read_the_way_staff_type_them() -> None:
    from bot.incidents import parse_ref

    assert [parse_ref(t) for t in ("42", "INC-0042", "inc 42", "#42", "inc-7", " 0042 ")] == [42, 42, 42, 42, 7, 42]
    assert [parse_ref(t) for t in ("", "INC-", "0", "forty", "INC-00x1")] == [None] * 5


def test_a_damaged_evidence_file_is_replaced_by_the_same_screenshot_stored_again(tmp_path: Any) -> None:
    from storage.evidence import EvidenceStore

    store = EvidenceStore(tmp_path / "evidence")
    kept = store.keep("INC-0001", b"original", ".jpg")
    assert store.keep("INC-0001", b"original", ".jpg") == kept, "storing the same bytes again is harmless"
    path = tmp_path / kept.path
    path.chmod(0o600)
    path.write_bytes(b"changed")
    path.chmod(0o400)
    # A damaged copy no longer blocks the next /log of the screenshot: only its own bytes replace it.
    assert store.keep("INC-0001", b"original", ".jpg") == kept
    assert path.read_bytes() == b"original"

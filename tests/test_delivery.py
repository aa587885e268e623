"""Durable delivery when people, roles, Telegram and the disk do not cooperate.

Each story runs the real bot against the emulator: access ends while a message waits, someone
never opened the bot or blocked it, a reporter waits to hear that the Head has the alert, the
disk fills up just after an alert went out, and Telegram refuses a screenshot or a text.
"""

from __future__ import annotations

import errno
import struct
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import pytest

from bot.clock import local_moment
from bot.config import Config
from bot.records.consent import Pupil
from handlers.incidents.messages import ALERTED, NOT_YET_ALERTED
from tests.conftest import ADMIN, ADMIN2, DEPUTY, HEAD, OFFICE, SLT, SLT2, BotHarness, make_config, revoke
from tests.test_incidents import alerts_to, log_misuse, title

HEAD2 = 1010  # listed as a Head in the config, but has never opened the bot
LEADERS = (HEAD, DEPUTY, SLT, SLT2)
PUPIL_NOTE = "Amelia Smith named under the fair photo"
TELEGRAM_WORDS = ("Forbidden", "blocked by the user", "can't initiate", "chat not found", "Telegram:")


@pytest.fixture
def config(data_dir: Path) -> Config:
    return make_config(data_dir, roles={"head": [HEAD, HEAD2]})


@pytest.fixture
def emu(emu: Any) -> Any:
    emu.add_user(HEAD2, "Hugo", "Head", started=False)
    return emu


def copies_to(bot: BotHarness, thread: str, chat_id: int) -> list[Any]:
    return [c for c in bot.runtime.delivery.thread_copies(thread) if c.chat_id == chat_id]


def texts_to(bot: BotHarness, chat_id: int) -> list[str]:
    return [m.plain for m in bot.emu.messages_to(chat_id)]


# ---- access that really ends (issue 12, point 1) ---------------------------------------------------


async def test_a_revoked_head_who_never_opened_the_bot_never_gets_the_queued_alert(bot: BotHarness) -> None:
    await log_misuse(bot, ADMIN, "pupil", note=PUPIL_NOTE)
    [waiting] = copies_to(bot, "inc:1", HEAD2)
    assert waiting.state == "pending", "Telegram will not let the bot write to someone who never opened it"

    await revoke(bot, HEAD, HEAD2)
    assert bot.services.staff.role_of(HEAD2) is None
    refusal = await bot.say(HEAD2, "/start")
    assert refusal and "Amelia" not in " ".join(m.plain for m in refusal)
    for _ in range(6):
        await bot.advance(minutes=2)

    for message in bot.emu.messages_to(HEAD2):
        assert "INC-0001" not in message.plain and "Amelia" not in message.plain and not message.photo
    assert {c.state for c in copies_to(bot, "inc:1", HEAD2)} == {"cancelled"}
    cancelled = [e for e in bot.audit() if e.action == "delivery cancelled"]
    assert cancelled and {e.target for e in cancelled} == {f"user {HEAD2}"}
    assert not any("Amelia" in f"{e.target} {e.outcome} {e.detail}" for e in cancelled)
    assert len(alerts_to(bot, HEAD, "INC-0001")) >= 1, "the Head who is still a Head has it"


PUPILS = [Pupil("P001", "Amelia", "Smith", class_name="Year 3")]


async def record_form(bot: BotHarness) -> None:
    """The office records Jo Bloggs's paper form for Amelia Smith (Year 3)."""
    await bot.say(OFFICE, "/apply")
    [relationship] = await bot.say(OFFICE, "Jo Bloggs")
    await bot.press(OFFICE, relationship, "Father")
    [matches] = await bot.say(OFFICE, "Amelia Smith")
    await bot.press(OFFICE, matches, "Amelia Smith (Year 3)")
    await bot.press(OFFICE, bot.last(OFFICE), "That's all")
    await bot.press(OFFICE, bot.last(OFFICE), "Yes, signed")
    [contact] = await bot.say(OFFICE, "F-17")
    await bot.press(OFFICE, contact, "Skip")
    await bot.press(OFFICE, bot.last(OFFICE), "Submit")


def card(bot: BotHarness, who: int) -> Any:
    return next(m for m in bot.emu.messages_to(who) if "Parents' group application #1" in m.plain)


@pytest.mark.parametrize("change", ["revoked", "lowered to admin"])
async def test_a_leader_whose_access_ends_sees_no_more_edits_of_their_application_card(bot: BotHarness, change: str) -> None:
    bot.services.consents.replace_register(PUPILS, [])
    for leader in LEADERS:
        await bot.say(leader, "/help")
    await record_form(bot)
    held = card(bot, SLT2)
    before = held.plain

    await (revoke(bot, HEAD, SLT2) if change == "revoked" else bot.say(HEAD, f"/grant {SLT2} admin"))
    assert bot.services.staff.role_of(SLT2) is (None if change == "revoked" else bot.services.staff.role_of(ADMIN))
    await bot.press(SLT, card(bot, SLT), "Reject")
    await bot.press(SLT, card(bot, SLT), "Yes, reject")  # Reject asks once more
    await bot.say(SLT, "Father has a court order; do not admit")
    if "Send" in [label for label, _ in bot.last(SLT).buttons]:
        await bot.press(SLT, bot.last(SLT), "Send")  # the typed reason is shown back before it is kept
    await bot.advance(minutes=5)

    assert "Rejected by Sam Leader" in card(bot, HEAD).plain
    assert held.plain == before and not held.history, "the card they still hold is never edited again"
    assert not any("court order" in text for text in texts_to(bot, SLT2))
    edits = [p for m, p in bot.emu.calls if m.startswith("editMessage") and int(p.get("chat_id", 0)) == SLT2]
    assert not edits


# ---- people the bot cannot reach (point 2) -----------------------------------------------------------


MONDAY, TUESDAY, WEDNESDAY = date(2026, 11, 23), date(2026, 11, 24), date(2026, 11, 25)


async def at(bot: BotHarness, day: date, hhmm: str) -> None:
    hour, minute = map(int, hhmm.split(":"))
    bot.clock.set(local_moment(day, time(hour, minute), bot.config.school.timezone))
    await bot.tick()


def unreachable_notices(bot: BotHarness, who: int) -> list[str]:
    return [text for text in texts_to(bot, who) if "I cannot reach Alan Admin" in text]


class TestUnreachableAdmin:
    @pytest.fixture
    def clock(self) -> Any:
        from bot.clock import FakeClock

        return FakeClock(datetime(2026, 11, 23, 6, 0, tzinfo=UTC))  # Monday 06:00 in London

    async def test_an_admin_who_blocked_the_bot_is_given_up_on_the_leaders_are_told_once_and_nudges_wait(
        self, bot: BotHarness
    ) -> None:
        for person in (*LEADERS, ADMIN, ADMIN2):
            await bot.say(person, "/help")
        bot.emu.block(ADMIN2)
        await bot.settle()

        await at(bot, MONDAY, "08:30")
        assert bot.services.outbox.by_key(f"nudge:{MONDAY}:{ADMIN2}").state == "pending"
        await at(bot, MONDAY, "09:20")
        assert not unreachable_notices(bot, HEAD), "not before the configured hour"
        await at(bot, MONDAY, "09:31")
        assert bot.services.outbox.by_key(f"nudge:{MONDAY}:{ADMIN2}").state == "failed"
        for leader in LEADERS:
            [notice] = unreachable_notices(bot, leader)
            assert "Alan Admin" in notice and "open me in Telegram and send /start" in notice
        for _ in range(4):
            await bot.advance(minutes=30)
        assert [len(unreachable_notices(bot, leader)) for leader in LEADERS] == [1] * 4, "told once"

        await at(bot, TUESDAY, "08:30")
        assert bot.services.outbox.by_key(f"nudge:{TUESDAY}:{ADMIN2}") is None, "no nudge queued meanwhile"
        assert bot.services.outbox.by_key(f"nudge:{TUESDAY}:{ADMIN}").state == "sent"

        await bot.say(ADMIN2, "/help")  # they open the bot again
        await at(bot, WEDNESDAY, "08:30")
        assert bot.services.outbox.by_key(f"nudge:{WEDNESDAY}:{ADMIN2}").state == "sent"
        for person in (*LEADERS, ADMIN, ADMIN2, OFFICE):
            for text in texts_to(bot, person):
                assert not any(word in text for word in TELEGRAM_WORDS), text
        assert any(e.action == "unreachable" and e.target == f"user {ADMIN2}" for e in bot.audit())


# ---- telling the reporter the truth about the alert (point 3) ----------------------------------------


async def test_an_alert_that_cannot_reach_a_head_is_said_so_and_followed_up_once_it_does(bot: BotHarness) -> None:
    bot.emu.block(HEAD)
    await log_misuse(bot, ADMIN, "pupil")
    said = texts_to(bot, ADMIN)
    assert f"Logged as INC-0001. {NOT_YET_ALERTED}" in said
    assert not any(ALERTED in text for text in said)

    await bot.advance(minutes=5)
    [warning] = [t for t in texts_to(bot, SLT) if "has not reached the Head Teacher" in t]
    assert not any(word in warning for word in TELEGRAM_WORDS)

    await bot.say(HEAD, "/start")  # the Head opens the bot again: the alert goes at once
    assert alerts_to(bot, HEAD, "INC-0001")
    await bot.advance(minutes=1)
    await bot.advance(minutes=3)
    reached = [t for t in texts_to(bot, ADMIN) if "INC-0001 has now reached the Head Teacher" in t]
    assert len(reached) == 1


# ---- a full disk just after an alert went out (point 9) ----------------------------------------------


async def test_an_alert_sent_while_the_disk_is_full_is_sent_once(bot: BotHarness, monkeypatch: Any) -> None:
    import storage.atomic as atomic

    real_write = atomic.atomic_write_bytes
    disk = {"full": False}

    def write(path: Path, payload: bytes) -> None:
        if disk["full"] and path.name == "outbox.json":
            raise OSError(errno.ENOSPC, "No space left on device")
        real_write(path, payload)

    def fill_disk_after_the_photo(method: str) -> None:
        if method == "sendPhoto":
            disk["full"] = True  # Telegram took the alert; recording "sent" will fail

    monkeypatch.setattr(atomic, "atomic_write_bytes", write)
    bot.emu.on_call.append(fill_disk_after_the_photo)
    await log_misuse(bot, ADMIN, "pupil")
    assert disk["full"] and bot.services.outbox.unsaved
    for _ in range(5):
        await bot.advance(seconds=30)
    assert len(alerts_to(bot, HEAD, "INC-0001")) == 1

    disk["full"] = False
    bot.emu.on_call.remove(fill_disk_after_the_photo)
    await bot.advance(seconds=30)
    assert not bot.services.outbox.unsaved
    await bot.restart()
    await bot.advance(seconds=30)
    assert len(alerts_to(bot, HEAD, "INC-0001")) == 1
    [copy] = copies_to(bot, "inc:1", HEAD)
    assert copy.state == "sent"


# ---- Telegram refusing what we send (point 11 and its siblings) ---------------------------------------


def png(width: int, height: int) -> bytes:
    """A PNG header with these dimensions (enough for Telegram, and the emulator, to judge it)."""
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + struct.pack(">II", width, height) + b"\x08\x02\0\0\0"


async def log_image_file(bot: BotHarness, data: bytes, kind: str = "pupil") -> None:
    await bot.say(ADMIN, "/log")
    bot.emu.send_document(ADMIN, data, "long-scroll.png", "image/png")
    await bot.settle()
    step = bot.last(ADMIN)
    for tap in ("Done", title(kind), "Skip", "Confirm"):
        await bot.press(ADMIN, step, tap)


def alert_messages(bot: BotHarness, chat_id: int) -> list[Any]:
    return [m for m in bot.emu.messages_to(chat_id) if "INC-0001" in m.plain and m.buttons]


@pytest.mark.parametrize("size", [(600, 13_000), (9_000, 2_000), (100, 2_100)])
async def test_a_screenshot_telegram_will_not_take_as_a_photo_reaches_the_head_as_a_file(
    bot: BotHarness, size: tuple[int, int]
) -> None:
    await log_image_file(bot, png(*size))
    [alert] = alert_messages(bot, HEAD)
    assert alert.document and not alert.photo
    assert "URGENT" in alert.plain and "Acknowledge" in [label for label, _ in alert.buttons]
    assert any(r.description.endswith("PHOTO_INVALID_DIMENSIONS") for r in bot.emu.refusals)
    assert any(t.startswith("📝 Logged as INC-0001") and ALERTED in t for t in texts_to(bot, ADMIN)), "said in the receipt"
    await bot.press(HEAD, alert, "Acknowledge")
    assert "Acknowledged by Helen Head" in alert.plain
    shown = await bot.say(HEAD, "/incident 1")
    assert [m.document for m in shown if m.document], "the record's screenshot comes as a file too"


async def test_a_photo_over_ten_megabytes_goes_as_a_file(bot: BotHarness) -> None:
    await log_image_file(bot, png(1000, 1000) + b"\0" * (10 * 1024 * 1024))
    [alert] = alert_messages(bot, HEAD)
    assert alert.document


async def test_a_picture_telegram_finds_too_large_is_tried_once_then_sent_as_a_file(bot: BotHarness) -> None:
    bot.emu.fail_next("sendPhoto", 413, "Request Entity Too Large")
    await log_image_file(bot, png(1000, 800))
    [alert] = alert_messages(bot, HEAD)
    assert alert.document
    assert len([1 for method, p in bot.emu.calls if method == "sendPhoto" and int(p["chat_id"]) == HEAD]) == 1


async def test_a_picture_refused_as_photo_and_as_file_reaches_the_head_as_text_with_buttons(bot: BotHarness) -> None:
    bot.emu.fail_next("sendPhoto", 400, "Bad Request: IMAGE_PROCESS_FAILED")
    bot.emu.fail_next("sendDocument", 400, "Bad Request: wrong file identifier/HTTP URL specified")
    await log_misuse(bot, ADMIN, "pupil", note=PUPIL_NOTE)
    [alert] = alert_messages(bot, HEAD)
    assert alert.text and not alert.photo and not alert.document
    assert "could not be attached" in alert.plain and "/incident 1" in alert.plain
    assert "Acknowledge" in [label for label, _ in alert.buttons]
    [copy] = copies_to(bot, "inc:1", HEAD)
    assert copy.state == "sent" and copy.delivered_as == "text"

    await bot.press(HEAD, alert, "Acknowledge")
    assert "Acknowledged by Helen Head" in alert.plain and "/incident 1" in alert.plain


async def test_an_alert_whose_stored_screenshot_is_gone_still_reaches_the_head(bot: BotHarness) -> None:
    bot.runtime.delivery.kick = lambda: None  # type: ignore[method-assign]  # nothing is sent until the stored copy is gone
    await log_image_file(bot, png(800, 600))
    [evidence] = bot.services.incidents.get(1).evidence
    (bot.services.db.data_dir / evidence.path).unlink()
    del bot.runtime.delivery.kick
    await bot.tick()
    [alert] = alert_messages(bot, HEAD)
    assert alert.text and "could not be attached" in alert.plain
    assert "Acknowledge" in [label for label, _ in alert.buttons]


async def test_an_edit_telegram_cannot_parse_still_updates_the_copy_in_plain_text(bot: BotHarness) -> None:
    await log_misuse(bot, ADMIN, "offensive")
    [alert] = alerts_to(bot, HEAD, "INC-0001")
    bot.emu.fail_next("editMessageCaption", 400, "Bad Request: can't parse entities: Can't find end tag")
    await bot.press(HEAD, alert, "Acknowledge")
    assert "Acknowledged by Helen Head" in alert.plain and alert.parse_mode is None
    assert not [i for i in bot.services.outbox.pending() if i.chat_id == HEAD]


async def test_a_text_telegram_cannot_parse_arrives_as_plain_text(bot: BotHarness) -> None:
    bot.emu.fail_next("sendMessage", 400, 'Bad Request: can\'t parse entities: Unsupported start tag "x" at byte offset 0')
    bot.runtime.delivery.post("test:parse", HEAD, "<b>Weekly digest</b>: 3 incidents &amp; 2 checks")
    await bot.settle()
    last = bot.last(HEAD)
    assert last.text == "Weekly digest: 3 incidents & 2 checks" and last.parse_mode is None


async def test_a_text_over_the_limit_arrives_shortened(bot: BotHarness) -> None:
    bot.runtime.delivery.post("test:long", HEAD, "<b>Rota</b>\n" + "Ada Admin, page checked\n" * 300)
    await bot.settle()
    last = bot.last(HEAD)
    assert last.plain.startswith("Rota") and last.plain.endswith("…") and len(last.plain) <= 4096
    assert bot.services.outbox.by_key("test:long").state == "sent"
    bot.emu.refusals[:] = [r for r in bot.emu.refusals if "message is too long" not in r.description]


async def test_any_other_refusal_ends_the_item_loudly_and_is_not_retried(bot: BotHarness) -> None:
    bot.emu.fail_next("sendMessage", 400, "Bad Request: BUTTON_TYPE_INVALID")
    bot.runtime.delivery.post("test:odd", HEAD, "An update")
    await bot.settle()
    for _ in range(3):
        await bot.advance(minutes=5)
    assert bot.services.outbox.by_key("test:odd").state == "failed"
    assert len([1 for m, p in bot.emu.calls if m == "sendMessage" and p.get("text") == "An update"]) == 1
    assert any(e.action == "delivery failed" and e.target == f"user {HEAD}" for e in bot.audit())


def test_a_damaged_unreachable_record_stops_start_up_naming_the_outbox(tmp_path: Path) -> None:
    from bot.clock import FakeClock
    from bot.services import Services
    from storage.atomic import DamagedDataFile
    from tests.conftest import START

    data_dir = tmp_path / "data"
    Services.open(make_config(data_dir), FakeClock(START)).close()
    (data_dir / "outbox.json").write_text('{"outbox": {}, "unreachable": {"1": {"chat_id": 1005}}}')
    with pytest.raises(DamagedDataFile) as stopped:
        Services.open(make_config(data_dir), FakeClock(START))
    assert "outbox.json" in str(stopped.value)


# ---- background sends are the Application's own tasks (issue 13, point 4) --------------------------


async def test_a_message_queued_just_before_a_stop_is_sent_before_the_bot_lets_go_of_its_data(bot: BotHarness) -> None:
    for n in range(40):
        bot.runtime.delivery.post(f"shutdown:{n}", HEAD, f"Sent as the bot stops ({n})")
    await bot.stop()  # no settle: stop() itself waits for the send round it started
    assert len([t for t in texts_to(bot, HEAD) if t.startswith("Sent as the bot stops")]) == 40

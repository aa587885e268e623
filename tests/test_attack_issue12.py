"""Issue 12 attacked: a revoked or lowered person, a forged button, a stranger named like staff.

Each test is a way the fixes of issue 12 could still be got round on a bad day; each failed before
the fix beside it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ADMIN, ADMIN2, HEAD, OFFICE, SLT, SLT2, STRANGER, BotHarness, decline, revoke
from tests.test_applications import GROUP, PARENT, card, config, join_and_agree, record_form, school
from tests.test_incidents import alerts_to, log_misuse

__all__ = ["config", "school"]


def everything_shown(bot: BotHarness, user: int, mark: int = 0) -> str:
    return "\n".join(
        piece
        for m in bot.emu.since(mark, user)
        for v in [*m.history, m]
        for piece in (v.plain, *(label for label, _ in v.buttons))
    )


async def test_a_leader_revoked_after_asking_never_gets_the_applicants_answer(school: BotHarness) -> None:
    await join_and_agree(school)
    await school.press(SLT, card(school, SLT), "Ask for information")
    [preview] = await school.say(SLT, "Is there anything we should know?")
    await school.press(SLT, preview, "Send")
    await revoke(school, HEAD, SLT)
    mark = school.emu.mark()
    await school.say(PARENT, "Yes: the father has a court order against him")
    await school.advance(minutes=10)
    assert "court order" not in everything_shown(school, SLT, mark)
    for leader in (HEAD, SLT2):  # the answer still reaches the leaders who may decide
        assert "replied:\nYes: the father has a court order" in everything_shown(school, leader, mark)


async def test_office_revoked_after_recording_a_form_never_hears_the_outcome_or_a_question(school: BotHarness) -> None:
    await record_form(school)
    await revoke(school, HEAD, OFFICE)
    mark = school.emu.mark()
    await school.press(SLT, card(school, SLT), "Ask for information")
    [preview] = await school.say(SLT, "Did the mother mention the court order?")
    await school.press(SLT, preview, "Send")
    assert "no longer has access" in preview.plain and "Olive Office" not in preview.plain
    await school.press(SLT2, card(school, SLT2), "Reject")
    await school.press(SLT2, card(school, SLT2), "Yes, reject")  # Reject asks once more
    [preview] = await school.say(SLT2, "Father has a court order; do not admit")
    await school.press(SLT2, preview, "Send")
    await school.advance(minutes=10)
    shown = everything_shown(school, OFFICE, mark)
    assert "court order" not in shown and "Jo Bloggs" not in shown and "application #1" not in shown


async def test_a_reporter_revoked_after_logging_hears_nothing_more_of_the_incident(bot: BotHarness) -> None:
    bot.emu.block(HEAD)  # the alert cannot reach the Head: the reporter would be told so, later
    await bot.settle()
    incident = await log_misuse(bot, kind="pupil", note="Amelia Smith named under the post")
    await revoke(bot, SLT, ADMIN)
    mark = bot.emu.mark()
    for _ in range(8):
        await bot.advance(minutes=10)
    await bot.say(HEAD, "/start")  # the Head unblocks: the alert reaches them now
    await bot.advance(minutes=1)
    shown = everything_shown(bot, ADMIN, mark)
    assert incident.ref not in shown, shown


async def test_an_admin_revoked_after_asking_for_a_reminder_is_not_reminded(bot: BotHarness) -> None:
    await bot.advance(hours=22, minutes=31)  # Thursday 08:31: the nudges go out
    nudge = next(m for m in bot.emu.messages_to(ADMIN) if "Moderate the page" in m.plain)
    answer = await bot.press(ADMIN, nudge, "Remind me in an hour")
    assert answer and "remind you" in answer["text"]
    await revoke(bot, HEAD, ADMIN)
    mark = bot.emu.mark()
    await bot.advance(minutes=70)
    assert "Reminder" not in everything_shown(bot, ADMIN, mark)


async def test_a_head_who_blocked_the_bot_gets_the_open_alert_once_they_come_back(bot: BotHarness) -> None:
    bot.emu.block(HEAD)
    await bot.settle()
    incident = await log_misuse(bot, kind="offensive")
    for _ in range(15):  # two and a half hours: past the give-up time, the re-pings and the fallback
        await bot.advance(minutes=10)
    assert alerts_to(bot, SLT, incident.ref), "the fallback reached SLT"
    await bot.say(HEAD, "/start")  # the Head unblocks the bot
    for _ in range(4):
        await bot.advance(minutes=10)
    [*_, alert] = alerts_to(bot, HEAD, incident.ref)
    assert "Acknowledge" in [label for label, _ in alert.buttons]


async def test_a_line_cut_short_by_a_power_cut_does_not_swallow_the_next_audit_entry(bot: BotHarness) -> None:
    await revoke(bot, SLT, ADMIN)
    await bot.stop()
    [month_file] = sorted((bot.config.storage.data_dir / "audit").glob("audit-*.jsonl"))
    with open(month_file, "ab") as f:
        f.write(b'{"at":"2026-11-25T10:00:00+00:00","actor_id":1001,"act')  # the power went here
    await bot.start()
    await revoke(bot, HEAD, ADMIN2)
    assert [e.target for e in bot.audit() if e.actor_id == HEAD and e.action == "revoke"] == [f"user {ADMIN2}"]


async def test_a_flood_of_distinct_strangers_requesting_access_cannot_bury_the_leaders(school: BotHarness) -> None:
    strangers = range(30_000, 30_014)
    for user in strangers:
        [prompt] = await school.say(user, "/start")
        school.emu.press(user, prompt, "Request access")
    await school.settle()
    cards = [m for m in school.emu.messages_to(HEAD) if "Access request" in m.plain]
    assert len(cards) == school.config.access.max_waiting_requests == 10
    assert school.services.staff.waiting_requests() == 10
    told = [user for user in strangers if "try again in a day or two" in school.last(user).plain]
    assert told == list(strangers)[10:]
    await decline(school, SLT, next(m for m in school.emu.messages_to(SLT) if "Access request" in m.plain))
    [prompt] = await school.say(30_500, "/start")
    await school.press(30_500, prompt, "Request access")
    assert "sent to the senior leaders" in school.last(30_500).plain  # room again once one is decided


async def test_audit_lines_of_the_wrong_shape_are_skipped_not_fatal_to_reading_the_log(bot: BotHarness) -> None:
    await revoke(bot, SLT, ADMIN)
    [month_file] = sorted((bot.config.storage.data_dir / "audit").glob("audit-*.jsonl"))
    with open(month_file, "ab") as f:
        f.write(b'{"at":"2026-11-25T10:00:00","actor_id":1,"actor_role":"head","action":"naive time"}\n')
        f.write(b'{"at":"2026-11-25T10:00:00+00:00","actor_id":"x","actor_role":5,"action":["list"]}\n')
        f.write(b'{"at":12,"actor_id":1,"actor_role":"head","action":"number for a time"}\n')
    [page] = await bot.say(HEAD, "/audit")
    assert "Audit log" in page.plain and "removed user 1005's access" in page.plain  # the revoke, in plain English
    assert "naive time" not in page.plain and "number for a time" not in page.plain
    week = bot.services.db.audit.between(bot.clock.now().replace(day=1), bot.clock.now().replace(day=28))
    assert [e.action for e in week if e.actor_id == SLT] == ["revoke"]


async def test_a_join_requester_learns_no_pupil_name_or_class_from_what_they_type(school: BotHarness) -> None:
    school.emu.join_request(PARENT, GROUP)
    await school.settle()
    mark = school.emu.mark()
    for typed in ("Smith", "Amelia Smth", "amelia", "Ollie", "P001", "Year 3"):
        await school.say(PARENT, typed)
    shown = everything_shown(school, PARENT, mark)
    for secret in ("Oliver", "Jones", "Williams", "Year 3 ", "(Year", "P00", "Smith-Jones", "Amelia Smith"):
        assert secret not in shown, (secret, shown)


async def test_a_revocation_whose_audit_line_the_disk_refuses_is_not_made_and_the_head_is_told(
    bot: BotHarness, monkeypatch: Any
) -> None:
    """Sensitive changes are audited or not made: a change made but unaudited, with the Head told it
    was not saved, is memory, disk and the person's word all disagreeing."""
    import errno

    def full(entry: Any) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    [asked] = await bot.say(HEAD, f"/revoke {ADMIN}")
    mark = bot.emu.mark()
    with monkeypatch.context() as patch:
        patch.setattr(bot.services.db.audit, "append", full)
        await bot.press(HEAD, asked, asked.buttons[0][0])
    told = [asked.plain, *(m.plain for m in bot.emu.since(mark, HEAD))]
    said_done = any("Done" in t for t in told)
    revoked = bot.services.staff.role_of(ADMIN) is None
    audited = any(e.action == "revoke" and e.outcome == "ok" for e in bot.audit())
    assert said_done == revoked == audited, (told, revoked, audited)
    assert not revoked
    await revoke(bot, HEAD, ADMIN)
    assert bot.services.staff.role_of(ADMIN) is None
    assert [e.target for e in bot.audit() if e.action == "revoke" and e.outcome == "ok"] == [f"user {ADMIN}"]


async def test_a_granted_access_request_whose_audit_line_the_disk_refuses_waits_on_the_card_again(
    school: BotHarness, monkeypatch: Any
) -> None:
    import errno

    bot = school

    [prompt] = await bot.say(STRANGER, "/start")
    await bot.press(STRANGER, prompt, "Request access")
    card = bot.last(SLT)
    await bot.press(SLT, card, "Make admin")

    def full(entry: Any) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    with monkeypatch.context() as patch:
        patch.setattr(bot.services.db.audit, "append", full)
        await bot.press(SLT, card, "Yes, make Stan Stranger a page admin")
    assert bot.services.staff.role_of(STRANGER) is None
    assert bot.services.staff.pending_request(STRANGER) is not None
    await bot.press(SLT, card, "Yes, make Stan Stranger a page admin")
    assert bot.services.staff.role_of(STRANGER) is not None
    assert [e.target for e in bot.audit() if e.action == "grant" and e.outcome == "ok"] == [f"user {STRANGER}"]


async def test_a_join_requester_flooding_the_private_chat_gets_bounded_replies_and_audit_lines(school: BotHarness) -> None:
    await join_and_agree(school)
    lines_before = len(school.audit())
    mark = school.emu.mark()
    for number in range(200):
        school.emu.send_text(PARENT, f"any news? {number}")
    await school.settle()
    replies = school.emu.since(mark, PARENT)
    assert len(replies) <= 5, len(replies)
    assert len(school.audit()) - lines_before <= 5
    school.clock.advance(minutes=10)
    [status] = await school.say(PARENT, "any news now?")
    assert "with the senior leaders" in status.plain


async def test_a_head_lowered_to_admin_cannot_act_on_an_alert_they_still_hold(bot: BotHarness) -> None:
    await bot.say(HEAD, f"/grant {SLT} head")
    incident = await log_misuse(bot, kind="offensive")
    [alert] = alerts_to(bot, SLT, incident.ref)
    await bot.say(HEAD, f"/grant {SLT} admin")
    bot.clock.advance(minutes=10)
    for button in ("Acknowledge", "Comment removed", "User banned", "Close"):
        await bot.press(SLT, alert, button)
    for forged in (
        f"1:inc:vack:{incident.number}",
        f"1:inc:shut:{incident.number}:resolved",
        f"1:inc:do:{incident.number}:removed",
    ):
        await bot.press(SLT, alert, data=forged)
    after = bot.services.incidents.get(incident.number)
    assert after is not None and after.state == "open"
    assert bot.services.incidents.actions(incident.number) == [] and bot.services.incidents.bans() == []


async def test_a_picture_refused_on_every_ping_still_reaches_every_leader_and_every_copy_is_updated(bot: BotHarness) -> None:
    bot.emu.fail_next("sendPhoto", 400, "Bad Request: IMAGE_PROCESS_FAILED", count=100)
    bot.emu.fail_next("sendDocument", 400, "Bad Request: wrong file identifier/HTTP URL specified", count=100)
    incident = await log_misuse(bot, kind="pupil")
    for _ in range(4):  # re-pinged, then the deputy and SLT are alerted too
        await bot.advance(minutes=6)
    head_copies = [m for m in bot.emu.messages_to(HEAD) if incident.ref in m.plain and m.buttons]
    slt_copies = [m for m in bot.emu.messages_to(SLT) if incident.ref in m.plain and m.buttons]
    assert len(head_copies) == 1 and len(slt_copies) == 1, "one alert each, however many re-pings"
    assert all("could not be attached" in m.plain for m in head_copies + slt_copies)
    await bot.press(SLT, slt_copies[-1], "Acknowledge")
    await bot.advance(minutes=1)
    for copy in head_copies + slt_copies:
        assert "Acknowledged by Sam Leader" in copy.plain, copy.plain
        assert "could not be attached" in copy.plain


def test_check_config_hides_a_token_pasted_into_the_bot_api_address(tmp_path: Any) -> None:
    from bot.config import parse_config
    from tests.conftest import TOKEN, raw_config

    for token in (TOKEN, "987654:short-but-real"):
        raw = raw_config(tmp_path / "data", telegram={"token": token, "base_url": f"https://api.telegram.org/bot{token}/"})
        summary = parse_config(raw, tmp_path, env={}).summary()
        assert token not in summary and "[token]" in summary


@pytest.mark.parametrize(
    ("name", "table", "record"),
    [
        ("staff", "access_requests", {"user_id": 9001, "status": "pending"}),
        ("incidents", "actions", {"number": 1, "kind": "removed"}),
        ("incidents", "bans", {"number": 1, "platform_name": "Troll"}),
        ("outbox", "unreachable", {"chat_id": 1001, "since": "not a time"}),
        ("moderation", "days", {"day": "2026-11-25", "nudged_at": "not a time"}),
        ("moderation", "reminders", {"day": "2026-11-25", "due_at": "2026-11-25T09:00:00+00:00"}),
        ("moderation", "moderation_meta", {"tracking_since": "not a time"}),
        ("applications", "events", {"number": 1, "text": "Form recorded"}),
    ],
)
def test_a_broken_record_in_any_table_stops_start_up_naming_its_file(
    tmp_path: Path, name: str, table: str, record: dict[str, Any]
) -> None:
    """test_damaged damages each file's main table; a record elsewhere in the file that its queries
    find but cannot read would else surface later, in the middle of /application, a nudge or the
    weekly digest, and again at every tick."""
    from bot.clock import FakeClock
    from bot.services import Services
    from storage.atomic import DamagedDataFile
    from tests.conftest import START, make_config
    from tests.test_damaged import fill

    data_dir = tmp_path / "data"
    fill(data_dir)
    path = data_dir / f"{name}.json"
    tables = json.loads(path.read_bytes())
    tables[table] = {"1": record}
    path.write_text(json.dumps(tables))
    with pytest.raises(DamagedDataFile) as stopped:
        Services.open(make_config(data_dir), FakeClock(START))
    assert str(path) in str(stopped.value)


async def test_names_that_look_like_html_reach_every_card_as_typed(school: BotHarness) -> None:
    """Telegram refuses HTML it cannot parse; the outbox would then fall back to plain text, so the
    fixture's check for refusals is what tells an unescaped name apart."""
    from tests.conftest import DEPUTY, PEOPLE

    bot = school

    odd = {user: (f"<b>{name.split()[0]}", "&amp; </i><a href='x'>") for user, name in PEOPLE.items()}
    for user, (first, last) in odd.items():
        bot.emu.add_user(user, first, last)
    for user in (HEAD, DEPUTY, SLT, SLT2, ADMIN, ADMIN2, OFFICE):
        await bot.say(user, "/start")
    incident = await log_misuse(bot, kind="pupil", note="<script>Amelia</script> & co")
    [alert] = alerts_to(bot, HEAD, incident.ref)
    await bot.press(HEAD, alert, "Acknowledge")
    await bot.press(HEAD, alert, "Comment removed")
    assert "Acknowledged by <b>Helen &amp; </i><a href='x'>" in alert.plain
    await bot.say(HEAD, "/staff")
    await bot.say(HEAD, f"/incident {incident.number}")
    await bot.say(HEAD, "/incidents")
    await bot.say(HEAD, "/rota")
    await bot.say(HEAD, f"/rota daily {ADMIN} {ADMIN2}")
    await bot.advance(hours=22, minutes=31)  # Thursday's nudges name who is on duty
    on_duty, nudge = next((u, m) for u in (ADMIN, ADMIN2) for m in bot.emu.messages_to(u) if "Moderate the page" in m.plain)
    await bot.press(on_duty, nudge, "Page checked, all fine")
    [prompt] = await bot.say(STRANGER, "/start")
    await bot.press(STRANGER, prompt, "Request access")
    await decline(bot, SLT, bot.last(SLT))
    await bot.say(HEAD, "/audit")


async def test_a_failure_while_handling_a_group_message_is_never_apologised_for_in_the_group(
    school: BotHarness, monkeypatch: Any
) -> None:
    import errno

    from tests.conftest import STRANGER

    def full(entry: Any) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    school.app.bot.rate_limiter._group_max_rate = 0  # several commands in one group, seconds apart
    with monkeypatch.context() as patch:
        patch.setattr(school.services.db.audit, "append", full)
        for user in (STRANGER, ADMIN, HEAD):
            await school.say(user, "/consent Amelia Smith", chat_id=GROUP)
            await school.say(user, "/incidents", chat_id=GROUP)
    assert school.emu.messages_to(GROUP) == []


async def test_a_parent_sending_join_request_after_join_request_grows_nothing(school: BotHarness) -> None:
    await join_and_agree(school)
    history = len(school.services.application_desk.history(1))
    lines = len(school.audit())
    mark = school.emu.mark()
    for _ in range(40):  # cancel and ask again, over and over
        school.emu.join_request(PARENT, GROUP)
    await school.settle()
    assert len(school.services.application_desk.history(1)) <= history + 1
    assert len(school.audit()) - lines <= 2
    assert len(school.emu.since(mark, PARENT)) <= 2
    assert [m for m in school.emu.since(mark) if m.chat_id in (HEAD, SLT, SLT2)] == []


async def test_a_stranger_asking_for_access_under_a_staff_members_name_is_flagged_on_the_card(school: BotHarness) -> None:
    for leader in (HEAD, SLT):
        await school.say(leader, "/start")  # the bot learns the names staff use on Telegram
    school.emu.add_user(30_777, "HELEN", "head.", username="helen_head_school")
    [prompt] = await school.say(30_777, "/start")
    await school.press(30_777, prompt, "Request access")
    card = school.last(SLT)
    assert "Access request" in card.plain
    assert "Staff already has this name: Helen Head (Head Teacher, id 1001)" in card.plain
    [prompt] = await school.say(30_778, "/start")
    await school.press(30_778, prompt, "Request access")
    assert "already has this name" not in school.last(SLT).plain


async def test_a_stranger_forging_an_applicants_buttons_gets_bounded_audit_lines(school: BotHarness) -> None:
    from tests.conftest import STRANGER

    await join_and_agree(school)  # application 1 is the parent's
    [prompt] = await school.say(STRANGER, "/start")
    lines = len(school.audit())
    for _ in range(30):
        for data in ("1:apj:yes:1", "1:apj:no:1", "1:apj:yes:999"):
            school.emu.press(STRANGER, prompt, data=data)
    await school.settle()
    assert len(school.audit()) - lines <= 3


async def test_an_applicant_sharing_their_contact_over_and_over_gets_one_reply_per_window(school: BotHarness) -> None:
    from tests.test_applications import share_contact

    await join_and_agree(school)
    mark = school.emu.mark()
    for _ in range(30):
        share_contact(school, PARENT, "+44 7700 900999")
    await school.settle()
    assert len(school.emu.since(mark, PARENT)) <= 2

"""Attacks on conversations kept across a restart (issue 13, point 5): a hand-edited, damaged or
forged conversations.json, a value the codec cannot keep, a disk that refuses the write.

Each test here failed before its fix: a zoneless time or a folder in the file's place stopped the
bot starting; one person's unkeepable value cost everyone their unfinished flows; a forged draft
made /cancel delete a folder outside the data folder and Confirm copy any file into evidence;
a refused save of the flows was not counted, so the leaders' disk alarm stayed silent.
"""

from __future__ import annotations

import errno
import logging
import os
from pathlib import Path
from typing import Any

import orjson
import pytest

from bot.shell.persistence import FILE_NAME
from tests import test_restart
from tests.conftest import ADMIN, ADMIN2, DEPUTY, HEAD, OFFICE, SLT, BotHarness, revoke
from tests.test_applications import PARENT, join_and_agree, record_form
from tests.test_applications import card as applications_card
from tests.test_consent_bot import load
from tests.test_incidents import alerts_to, log_misuse, screenshot_bytes, title
from tests.test_restart_coverage import PROVEN

# The parents' group and its register, as tests/test_restart.py sets them up.
parents_config, parents = test_restart.parents_config, test_restart.parents


@pytest.fixture
async def school(bot: BotHarness) -> BotHarness:
    load(bot)
    return bot


def state_file(bot: BotHarness) -> Path:
    return bot.config.storage.data_dir / FILE_NAME


def edit_kept(bot: BotHarness, change: Any) -> None:
    """Change the stopped bot's conversations.json as a careless hand (or a damaged disk) would."""
    document = orjson.loads(state_file(bot).read_bytes())
    change(document)
    state_file(bot).write_bytes(orjson.dumps(document))


def each_conversation(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [entry for entries in document["conversations"].values() for entry in entries]


async def test_one_persons_unkeepable_value_costs_only_them_their_flow(
    school: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    await school.say(ADMIN2, "/check")
    school.app.user_data[ADMIN2]["views"] = {"Amelia Smith"}  # a set: the codec keeps no sets
    await school.say(ADMIN2, "/cancel")  # a step of theirs hands the value to the store
    await school.say(ADMIN2, "/check")
    with caplog.at_level(logging.ERROR):
        await school.say(ADMIN, "/check")  # someone else's step, after that
    await school.restart()
    [ask] = await school.say(ADMIN, "Amelia Smith")  # theirs survived the restart
    assert "1 pupil listed" in ask.plain, ask.plain
    [error] = [r.getMessage() for r in caplog.records if "cannot be kept" in r.getMessage()][:1]
    assert "'views': set" in error and "Amelia" not in error  # which key and type, never the value


async def test_a_zoneless_time_in_the_file_ends_the_flows_and_the_bot_starts(school: BotHarness) -> None:
    await school.say(ADMIN, "/check")
    await school.stop()
    edit_kept(school, lambda doc: [e.update(at="2026-11-25T10:00:00") for e in each_conversation(doc)])
    await school.start()  # this raised TypeError from PTB's initialize(): the bot did not start
    assert state_file(school).with_name(FILE_NAME + ".damaged").exists()
    [again] = await school.say(ADMIN, "/check")
    assert "one per line" in again.plain


async def test_a_list_as_a_kept_step_does_not_fail_every_message_of_its_person(school: BotHarness) -> None:
    await school.say(ADMIN, "/check")
    await school.stop()
    edit_kept(school, lambda doc: [e.update(state=["names"]) for e in each_conversation(doc)])
    await school.start()
    replies = await school.say(ADMIN, "Grace Lee")
    assert replies and all("Something went wrong" not in m.plain for m in replies)


async def test_a_folder_in_place_of_the_file_does_not_stop_the_bot(bot: BotHarness) -> None:
    await bot.stop()
    state_file(bot).unlink(missing_ok=True)
    state_file(bot).mkdir()  # a careless deploy's volume mount, say
    await bot.start()
    [prompt] = await bot.say(ADMIN, "/log")
    assert "screenshot" in prompt.plain
    assert state_file(bot).is_file()  # the flows are kept again, the folder set aside
    assert state_file(bot).with_name(FILE_NAME + ".damaged").is_dir()


async def test_a_kept_step_the_bot_no_longer_has_is_ended_not_kept_for_ever(school: BotHarness) -> None:
    await school.say(ADMIN, "/check")
    await school.stop()
    edit_kept(school, lambda doc: [e.update(state="names_renamed") for e in each_conversation(doc)])
    await school.start()
    await school.say(ADMIN, "Grace Lee")
    assert orjson.loads(state_file(school).read_bytes())["conversations"] == {}


async def _confirm_with_stored_path(bot: BotHarness, forged: str) -> None:
    """A /log whose kept screenshots all point at `forged`, taken through to Confirm, then /cancel."""

    def forge(fields: dict[str, Any]) -> None:
        for shot in fields["screenshots"]["tuple"]:
            shot["fields"]["stored"] = forged

    step = await _forged_log(bot, forge)
    await bot.press(ADMIN, step, "Done")
    await bot.press(ADMIN, step, title("offensive"))
    await bot.press(ADMIN, step, "Skip")
    await bot.press(ADMIN, step, "Confirm")
    await bot.say(ADMIN, "/cancel")


async def _forged_log(bot: BotHarness, forge: Any) -> Any:
    """A /log with one screenshot, then the stopped bot's draft rewritten by `forge`."""
    await bot.say(ADMIN, "/log")
    bot.emu.send_photo(ADMIN, screenshot_bytes())
    await bot.settle()
    step = bot.last(ADMIN)
    await bot.stop()

    def rewrite(document: dict[str, Any]) -> None:
        for key, value in document["users"][str(ADMIN)]["map"]:
            if key == "incident_draft":
                forge(value["fields"])

    edit_kept(bot, rewrite)
    await bot.start()
    return step


async def test_a_forged_draft_id_never_makes_cancel_delete_outside_the_evidence_folder(bot: BotHarness) -> None:
    victim = bot.config.storage.data_dir.parent / "victim"
    victim.mkdir()
    (victim / "precious.txt").write_text("keep me")
    drafts: list[str] = []

    def forge(fields: dict[str, Any]) -> None:
        drafts.append(fields["id"])
        fields["id"] = f"{fields['id']}/../../../victim"  # draft-<id>/../../../victim: the data folder's sibling

    await _forged_log(bot, forge)
    await bot.say(ADMIN, "/cancel")
    assert (victim / "precious.txt").read_text() == "keep me"


async def test_a_forged_screenshot_path_never_brings_another_file_into_evidence(bot: BotHarness) -> None:
    secret = bot.config.storage.data_dir.parent / "secret.txt"
    secret.write_bytes(b"not a screenshot: a file from elsewhere on the machine")
    for forged in ("../secret.txt", str(secret), "evidence/../../secret.txt"):
        await _confirm_with_stored_path(bot, forged)
        kept = [p.read_bytes() for p in (bot.config.storage.data_dir / "evidence").rglob("*") if p.is_file()]
        assert secret.read_bytes() not in kept, forged
        assert all(secret.read_bytes() not in m.raw.get("text", "") for m in bot.emu.messages_to(HEAD))


async def test_a_refused_save_of_the_flows_rings_the_leaders_disk_alarm(bot: BotHarness, monkeypatch: pytest.MonkeyPatch) -> None:
    import storage.atomic

    real = storage.atomic.write_new_file
    full = False

    def refusing(*args: Any, **kwargs: Any) -> None:
        if full:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real(*args, **kwargs)

    for module in ("storage.atomic", "storage.evidence", "handlers.errors"):
        monkeypatch.setattr(f"{module}.write_new_file", refusing)
    await bot.say(ADMIN, "/log")
    full = True
    await bot.say(ADMIN, "sorry, where do I send it?")  # a step only the conversations file records
    await bot.app.bot_data["disk_alarm"].check(bot.clock.now())  # the alarm's own timed work, nothing else
    await bot.settle()
    alarms = [m.plain for m in bot.emu.messages_to(HEAD) if "cannot save anything new" in m.plain]
    assert len(alarms) == 1 and "disk is full" in alarms[0]
    full = False


async def test_a_log_whose_time_ran_out_while_the_bot_was_down_is_ended_and_its_screenshots_go(bot: BotHarness) -> None:
    await bot.say(ADMIN, "/log")
    bot.emu.send_photo(ADMIN, screenshot_bytes())
    await bot.settle()
    await bot.stop()
    bot.clock.advance(minutes=20)
    await bot.start()
    assert "timed out" in bot.last(ADMIN).plain and "nothing was logged" in bot.last(ADMIN).plain
    assert not list((bot.config.storage.data_dir / "evidence").glob("draft-*/*"))  # a misuse screenshot kept for ever
    assert b"incident_draft" not in state_file(bot).read_bytes()
    [prompt] = await bot.say(ADMIN, "/log")  # and the next one starts cleanly
    assert "screenshot" in prompt.plain


async def test_flows_of_two_people_that_ran_out_while_down_each_tell_their_own_person(school: BotHarness) -> None:
    await school.say(ADMIN, "/check")
    await school.say(ADMIN2, "/check")
    await school.say(HEAD, "/check")
    await school.stop()
    school.clock.advance(minutes=11)
    await school.start()
    await school.restart()  # a second start does not tell them again
    for person in (ADMIN, ADMIN2, HEAD):
        told = [m.plain for m in school.emu.messages_to(person) if "timed out" in m.plain]
        assert told == ["The consent check timed out. Send /check to start again."], person
    assert orjson.loads(state_file(school).read_bytes())["conversations"] == {}


async def test_a_log_resumed_at_a_restart_and_never_touched_again_still_times_out(bot: BotHarness) -> None:
    await bot.say(ADMIN, "/log")
    bot.emu.send_photo(ADMIN, screenshot_bytes())
    await bot.settle()
    await bot.restart()  # its PTB timer died with the old process; nobody comes back to it
    bot.clock.advance(minutes=16)
    [job] = bot.app.job_queue.get_jobs_by_name("lapsed flows")
    await job.run(bot.app)  # what APScheduler does when the waiting time is up
    await bot.settle()
    assert "timed out" in bot.last(ADMIN).plain
    assert not list((bot.config.storage.data_dir / "evidence").glob("draft-*/*"))


# ---- every conversation, driven with every kind of input, is on disk exactly as in memory -------------------

CHANNEL = {"id": -100777, "type": "channel", "title": "Local <b>news</b>"}
ORIGINS = (
    {"type": "user", "sender_user": PARENT},
    {"type": "hidden_user", "sender_user_name": "Mum of Tom"},
    {"type": "chat", "sender_chat": {"id": -100555, "type": "supergroup", "title": "Year 3 parents"}},
    {"type": "channel", "chat": CHANNEL, "message_id": 12, "author_signature": "Ed"},
)


def inputs(bot: BotHarness, who: int) -> list[Any]:
    """Everything a person can send at a step: text, photos (forwarded from anyone), image and other files."""
    shot = screenshot_bytes
    sends: list[Any] = [
        lambda: bot.emu.send_text(who, "Amelia Smith"),
        lambda: bot.emu.send_text(who, "x" * 5000),
        lambda: bot.emu.send_text(who, "Forwarded words", forward_origin=ORIGINS[1]),
        lambda: bot.emu.send_photo(who, shot()),
        lambda: bot.emu.send_photo(who, shot(), caption="Amelia Smith at sports day"),
        lambda: bot.emu.send_document(who, shot(), "shot.png", "image/png"),
        lambda: bot.emu.send_document(who, b"%PDF-1.4 form", "form.pdf", "application/pdf"),
    ]
    sends += [lambda origin=origin: bot.emu.send_photo(who, shot(), forward_origin=origin) for origin in ORIGINS]
    return sends


def assert_kept(bot: BotHarness) -> None:
    """conversations.json says what memory says: each person's flow state, and each conversation's step."""
    store = bot.app.persistence
    document = orjson.loads(state_file(bot).read_bytes()) if state_file(bot).exists() else {"users": {}, "conversations": {}}
    on_disk = {int(uid): store.codec.decode(state) for uid, state in document["users"].items()}
    for uid, state in bot.app.user_data.items():
        kept = {key: value for key, value in state.items() if key not in store.transient}
        assert on_disk.get(uid, {}) == kept, f"user {uid}: {sorted(kept)} not kept as it is"
    for flow in store.flows.values():
        in_memory = {tuple(key): step for key, step in flow[0]._conversations.items()}
        kept_steps = {tuple(e["key"]): store.codec.decode(e["state"]) for e in document["conversations"].get(flow[0].name, [])}
        assert kept_steps == in_memory, flow[0].name


async def _start_log(bot: BotHarness) -> int:
    await bot.say(ADMIN, "/log")
    return ADMIN


async def _start_check(bot: BotHarness) -> int:
    await bot.say(ADMIN, "/check")
    return ADMIN


async def _start_apply(bot: BotHarness) -> int:
    await bot.say(OFFICE, "/apply")
    return OFFICE


async def _start_ban(bot: BotHarness) -> int:
    await log_misuse(bot, ADMIN, "offensive")
    await bot.press(HEAD, alerts_to(bot, HEAD, "INC-0001")[0], "User banned")
    return HEAD


async def _start_note(bot: BotHarness) -> int:
    await join_and_agree(bot)
    await bot.press(DEPUTY, applications_card(bot, DEPUTY), "Ask for information")
    return DEPUTY


async def _start_answer(bot: BotHarness) -> int:
    await record_form(bot)
    await bot.press(SLT, applications_card(bot, SLT), "Ask for information")
    [preview] = await bot.say(SLT, "Which class?")
    await bot.press(SLT, preview, "Send")
    question = next(m for m in reversed(bot.emu.messages_to(OFFICE)) if "whose form you recorded" in m.plain)
    await bot.press(OFFICE, question, "Answer")
    return OFFICE


STARTS = {
    "incident_log": _start_log,
    "consent_check": _start_check,
    "application_form": _start_apply,
    "incident_ban": _start_ban,
    "application_note": _start_note,
    "application_answer": _start_answer,
}


def test_every_conversation_is_walked_here() -> None:
    assert set(STARTS) == PROVEN  # a new flow joins this walk too


@pytest.mark.parametrize("flow", sorted(STARTS))
async def test_every_input_at_every_step_is_kept_on_disk_as_in_memory(parents: BotHarness, flow: str) -> None:
    bot = parents
    who = await STARTS[flow](bot)
    assert_kept(bot)
    for _ in range(3):  # a few steps in: every input at each, then the first button of what came back
        for send in inputs(bot, who):
            send()
            await bot.settle()
            assert_kept(bot)
        last = bot.last(who)
        if last.buttons:
            await bot.press(who, last, 0)
            assert_kept(bot)
        await bot.restart()
        assert_kept(bot)


async def test_a_log_ended_by_a_revocation_after_a_restart_leaves_no_screenshot_behind(bot: BotHarness) -> None:
    await bot.say(ADMIN, "/log")
    bot.emu.send_photo(ADMIN, screenshot_bytes())
    await bot.settle()
    step = bot.last(ADMIN)
    await bot.restart()
    await revoke(bot, HEAD, ADMIN)
    bot.clock.advance(minutes=10)
    await bot.press(ADMIN, step, "Done")  # refused: the flow ends here
    assert not list((bot.config.storage.data_dir / "evidence").glob("draft-*/*"))  # nothing would ever remove them
    assert b"incident_draft" not in state_file(bot).read_bytes()


async def test_a_forged_draft_never_files_another_incidents_or_drafts_screenshot(bot: BotHarness) -> None:
    first = await log_misuse(bot, ADMIN, "offensive")
    theirs = first.evidence[0].path  # evidence/INC-0001/...: another incident's screenshot
    for forged in (theirs, "evidence/draft-0123456789ab/0123456789abcdef.jpg", f"evidence/draft-x/../{theirs[9:]}"):
        await _confirm_with_stored_path(bot, forged)
        assert bot.services.incidents.count() == 1, forged


async def test_a_record_changed_by_a_deploy_ends_only_its_persons_flows(school: BotHarness) -> None:
    await school.say(ADMIN, "/log")
    school.emu.send_photo(ADMIN, screenshot_bytes())
    await school.settle()
    step = school.last(ADMIN)
    await school.say(ADMIN2, "/check")
    await school.stop()

    def older_draft(document: dict[str, Any]) -> None:  # written by a version whose Draft had one more field
        for key, value in document["users"][str(ADMIN)]["map"]:
            if key == "incident_draft":
                value["fields"]["colour"] = "red"

    edit_kept(school, older_draft)
    await school.start()
    [ask] = await school.say(ADMIN2, "Amelia Smith")  # everyone else carries on
    assert "1 pupil listed" in ask.plain
    answer = await school.press(ADMIN, step, "Done")  # only the unreadable person's flow has ended
    assert answer and "This log has ended" in answer["text"]
    assert state_file(school).with_name(FILE_NAME + ".damaged").exists()


async def test_screenshots_of_a_draft_no_flow_holds_are_deleted_and_a_live_ones_kept(bot: BotHarness) -> None:
    evidence = bot.config.storage.data_dir / "evidence"
    await bot.say(ADMIN2, "/log")  # someone in the middle of a /log
    bot.emu.send_photo(ADMIN2, screenshot_bytes())
    await bot.settle()
    step = bot.last(ADMIN2)
    await bot.stop()
    left = evidence / "draft-0123456789ab"  # what a kill between saving a screenshot and saving its flow leaves
    left.mkdir()
    (left / "42a6e333c7e874fd.jpg").write_bytes(b"\xff\xd8 a pupil's photo \xff\xd9")
    await bot.start()
    await bot.tick()
    assert not left.exists()
    await bot.press(ADMIN2, step, "Done")  # the live draft keeps its screenshot
    await bot.press(ADMIN2, step, title("offensive"))
    await bot.press(ADMIN2, step, "Skip")
    answer = await bot.press(ADMIN2, step, "Confirm")
    assert answer and answer["text"] == "Logged as INC-0001."
    assert len(bot.services.incidents.get(1).evidence) == 1


async def test_an_apply_ended_by_a_revocation_after_a_restart_keeps_no_family_on_disk(parents: BotHarness) -> None:
    bot = parents
    await bot.say(OFFICE, "/apply")
    [relationship] = await bot.say(OFFICE, "Jo Bloggs")
    await bot.press(OFFICE, relationship, "Mother")
    await bot.say(OFFICE, "Amelia Smith")
    await bot.restart()
    await revoke(bot, HEAD, OFFICE)
    bot.clock.advance(minutes=10)
    await bot.say(OFFICE, "Oliver")  # refused: the flow ends here
    kept = state_file(bot).read_text()
    assert "Jo Bloggs" not in kept and "P001" not in kept  # nothing would ever remove them


async def test_a_ban_question_ended_by_a_lowered_role_after_a_restart_keeps_nothing(bot: BotHarness) -> None:
    incident = await log_misuse(bot, kind="pupil")
    for _ in range(4):  # unacknowledged: the deputy and SLT are alerted too
        await bot.advance(minutes=6)
    [alert, *_] = alerts_to(bot, SLT, incident.ref)
    await bot.press(SLT, alert, "User banned")
    await bot.say(SLT, "Sports Day Troll")
    await bot.restart()
    await bot.say(HEAD, f"/grant {SLT} admin")
    await bot.say(SLT, "They posted a pupil's photo")  # refused: the flow ends here
    assert "Sports Day Troll" not in state_file(bot).read_text()

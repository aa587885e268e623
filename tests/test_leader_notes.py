"""A leader's typed reason or question is a conversation like every other flow: kept across a restart,
timed out the same way, cancelled with /cancel, and never sent from a stale or someone else's button."""

from __future__ import annotations

import json

from bot.shell.persistence import FILE_NAME
from tests import test_applications
from tests.conftest import ADMIN, DEPUTY, HEAD, OFFICE, SLT, SLT2, BotHarness
from tests.test_applications import PARENT, card, join_and_agree, record_form

# The parents' group, its register and its parents, as test_applications sets them up.
config, school = test_applications.config, test_applications.school


def to_parent(bot: BotHarness, words: str) -> list[str]:
    return [m.plain for m in bot.emu.messages_to(PARENT) if words in m.plain]


def stored(bot: BotHarness, name: str) -> str:
    return (bot.config.storage.data_dir / name).read_text()


async def test_a_typed_question_is_kept_with_the_conversation_and_forgotten_once_sent(school: BotHarness) -> None:
    await join_and_agree(school)
    await school.press(SLT, card(school, SLT), "Ask for information")
    [preview] = await school.say(SLT, "Which class is Amelia in?")
    assert "Which class is Amelia in?" in stored(school, FILE_NAME)  # the draft lives with the conversation
    assert "Which class" not in stored(school, "applications.json") and "prompts" not in stored(school, "applications.json")
    await school.restart()
    await school.press(SLT, preview, "Send")
    assert len(to_parent(school, "Which class is Amelia in?")) == 1
    assert "Which class is Amelia in?" not in stored(school, FILE_NAME)  # sent: nothing of it is kept for later


async def test_a_question_resumed_after_a_restart_and_then_left_is_not_sent(school: BotHarness) -> None:
    await join_and_agree(school)
    await school.press(SLT, card(school, SLT), "Ask for information")
    [preview] = await school.say(SLT, "Is the court order still in force?")
    send = dict(preview.buttons)["Send"]
    await school.restart()
    school.clock.advance(minutes=6)  # no timer survived the restart: the next step notices the time
    answer = await school.press(SLT, preview, "Send")
    assert answer and "time ran out" in answer["text"]
    assert "was not sent" in school.last(SLT).plain
    assert not to_parent(school, "court order")
    assert not preview.buttons, "the timed-out preview keeps no Send"
    late = await school.press(SLT, preview, data=send)  # and again: the conversation has ended
    assert late and "Nothing to send" in late["text"]
    assert not to_parent(school, "court order")


async def test_a_reason_after_a_restart_is_still_only_the_rejecting_leaders(school: BotHarness) -> None:
    await join_and_agree(school)
    await school.press(HEAD, card(school, HEAD), "Reject")
    await school.press(HEAD, card(school, HEAD), "Yes, reject")  # Reject asks once more
    [preview] = await school.say(HEAD, "We could not confirm the family")
    await school.restart()
    # Another leader replays the Head's Send in their own chat: they have no reason under way.
    forged = await school.press(SLT, preview, data=dict(preview.buttons)["Send"])
    assert forged and "Nothing to send" in forged["text"]
    office = await school.press(OFFICE, preview, data=dict(preview.buttons)["Send"])
    assert office and office["text"].startswith("Sorry, only")
    assert not to_parent(school, "could not confirm")
    await school.press(HEAD, preview, "Send")
    assert len(to_parent(school, "Reason: We could not confirm the family")) == 1


async def test_a_leader_revoked_during_a_restart_cannot_send_the_question_they_began(school: BotHarness) -> None:
    await join_and_agree(school)
    await school.press(SLT2, card(school, SLT2), "Ask for information")
    await school.restart()
    await school.say(HEAD, f"/grant {SLT2} admin")
    replies = await school.say(SLT2, "Please send your passport")
    assert replies and "Your access has changed" in replies[-1].plain
    assert not to_parent(school, "passport")


async def test_cancel_ends_a_question_and_a_press_elsewhere_leaves_a_reason_under_way(school: BotHarness) -> None:
    await join_and_agree(school)
    await school.press(SLT, card(school, SLT), "Ask for information")
    [cancelled] = await school.say(SLT, "/cancel")
    assert "Cancelled: your question about application #1 was not sent" in cancelled.plain
    [stray] = await school.say(SLT, "Which class?")
    assert "Send this question" not in stray.plain and not to_parent(school, "Which class")  # no longer a question

    await record_form(school, parent="Sam Smith-Jones", children=(("Ollie Smith-Jones", "Ollie Smith-Jones (Year 3)"),))
    ask_about_2 = dict(card(school, HEAD, 2).buttons)["Ask for information"]
    await school.press(HEAD, card(school, HEAD, 1), "Reject")
    await school.press(HEAD, card(school, HEAD, 1), "Yes, reject")  # Reject asks once more
    await school.press(HEAD, card(school, HEAD, 2), "Approve")  # another card meanwhile
    refused = await school.press(HEAD, card(school, HEAD, 2), data=ask_about_2)  # decided: nothing starts
    assert refused and "Already decided" in refused["text"]
    [preview] = await school.say(HEAD, "No child of theirs at the school")
    assert "application #1" in preview.plain
    await school.press(HEAD, preview, "Send")
    assert len(to_parent(school, "Reason: No child of theirs at the school")) == 1


async def test_a_question_waiting_for_an_answer_in_a_schema_1_folder_is_answered_after_the_upgrade(
    school: BotHarness,
) -> None:
    await join_and_agree(school)
    await school.stop()
    data = school.config.storage.data_dir
    # The folder as the previous version left it: the applicant's awaited answer in a "prompts" table.
    tables = json.loads((data / "applications.json").read_text())
    tables["prompts"] = {"1": {"user_id": PARENT, "kind": "answer", "number": 1, "asked_at": "2026-11-25T10:00:00+00:00"}}
    tables["prompts"]["1"].update({"asked_by": DEPUTY, "draft": ""})
    (data / "applications.json").write_text(json.dumps(tables))
    meta = json.loads((data / "meta.json").read_text())
    meta["meta"]["1"]["schema_version"] = 1
    (data / "meta.json").write_text(json.dumps(meta))

    await school.start()
    assert "prompts" not in json.loads(stored(school, "applications.json"))
    [thanks] = await school.say(PARENT, "She is in Year 3, class Oak")
    assert "passed your answer" in thanks.plain
    assert "She is in Year 3, class Oak" in school.last(DEPUTY).plain
    assert all("class Oak" not in m.plain for m in school.emu.messages_to(ADMIN))


async def test_a_reason_prompt_lost_on_the_way_still_takes_the_typed_reason(school: BotHarness) -> None:
    await join_and_agree(school)
    school.emu.fail_next("sendMessage", 502, "Bad Gateway", count=4)  # outlasts the quick retries
    await school.press(HEAD, card(school, HEAD), "Reject")
    await school.press(HEAD, card(school, HEAD), "Yes, reject")  # Reject asks once more
    assert not [m for m in school.emu.messages_to(HEAD) if "type a short reason" in m.plain]
    [preview] = await school.say(HEAD, "We could not confirm the family")  # the Head types it anyway
    await school.press(HEAD, preview, "Send")
    assert len(to_parent(school, "Reason: We could not confirm the family")) == 1


async def test_each_step_of_a_reason_takes_the_buttons_off_the_one_before(school: BotHarness) -> None:
    await join_and_agree(school)
    await school.press(HEAD, card(school, HEAD), "Reject")
    await school.press(HEAD, card(school, HEAD), "Yes, reject")
    prompt = school.last(HEAD)
    skip = dict(prompt.buttons)["Skip"]
    [first] = await school.say(HEAD, "Not known")
    assert not prompt.buttons, "the prompt's Skip is gone once a reason is typed"
    assert [label for label, _ in first.buttons] == ["Send", "Cancel"]
    [second] = await school.say(HEAD, "Not known to the school")
    assert not first.buttons, "only the newest preview can be sent"
    await school.press(HEAD, second, "Send")
    assert "Reason recorded" in second.plain and not second.buttons

    late = await school.press(HEAD, prompt, data=skip)  # the old Skip, replayed after the reason went
    assert late and "no longer active" in late["text"]
    assert "No reason given" not in prompt.plain
    assert len(to_parent(school, "Reason: Not known to the school")) == 1


async def test_a_question_typed_takes_the_cancel_off_its_prompt(school: BotHarness) -> None:
    await join_and_agree(school)
    await school.press(SLT, card(school, SLT), "Ask for information")
    prompt = school.last(SLT)
    assert [label for label, _ in prompt.buttons] == ["Cancel"]
    [preview] = await school.say(SLT, "Which class?")
    assert not prompt.buttons and [label for label, _ in preview.buttons] == ["Send", "Cancel"]

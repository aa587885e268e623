"""Roles and access, as staff and strangers meet them on their phones."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from bot.config import Config, ConfigError
from bot.roles import Role
from bot.shell.callbacks import pack
from tests.conftest import ADMIN, HEAD, OFFICE, SLT, SLT2, STRANGER, TOKEN, BotHarness, decline, make_config, revoke


def forget_strangers(bot: BotHarness) -> None:
    """Start every stranger's refusal window afresh, for tests that try many things one after another."""
    bot.app.bot_data.pop("stranger_gate", None)


async def test_stranger_gets_a_polite_refusal_with_their_id_and_a_request_button(bot: BotHarness) -> None:
    [reply] = await bot.say(STRANGER, "/start")
    assert "only for staff of St Example's &lt;Primary&gt; &amp; Nursery" in reply.text
    assert str(STRANGER) in reply.plain
    assert [label for label, _ in reply.buttons] == ["Request access"]
    assert bot.emu.commands_for(STRANGER) == [] or [c["command"] for c in bot.emu.commands_for(STRANGER)] == ["start"]


async def test_staff_see_help_and_a_menu_for_their_role(bot: BotHarness) -> None:
    [reply] = await bot.say(ADMIN, "/start")
    assert "You are a page admin." in reply.plain
    assert "/grant" not in reply.plain
    await bot.say(HEAD, "/start")
    admin_menu = {c["command"] for c in bot.emu.commands_for(ADMIN)}
    head_menu = {c["command"] for c in bot.emu.commands_for(HEAD)}
    assert "grant" not in admin_menu and "help" in admin_menu
    assert "incidents" in head_menu and "grant" not in head_menu, "the Head's menu is what they use every day"
    [more] = [m for m in bot.emu.messages_to(HEAD) if "More commands" in str(m.buttons)]
    await bot.press(HEAD, more, "More commands ›")
    assert {"/grant", "/revoke", "/staff"} <= set(more.plain.split())


async def test_access_request_goes_to_leaders_and_the_first_decision_wins(bot: BotHarness) -> None:
    [card_prompt] = await bot.say(STRANGER, "hello")
    await bot.press(STRANGER, card_prompt, "Request access")
    assert "sent to the senior leaders" in bot.last(STRANGER).plain
    head_card = bot.last(HEAD)
    slt_card = bot.last(SLT)
    assert "Stan Stranger" in head_card.plain and str(STRANGER) in slt_card.plain

    make_office = dict(head_card.buttons)["Make office"]
    await bot.press(SLT, slt_card, "Make admin")
    await bot.press(SLT, bot.last(SLT), "Yes, make Stan Stranger a page admin")
    answer = await bot.press(HEAD, head_card, data=make_office)  # pressed before the edit reached the Head
    assert answer and "Already decided by" in answer["text"]
    assert bot.services.staff.role_of(STRANGER).value == "admin"
    for leader in (HEAD, SLT, SLT2):
        card = next(m for m in bot.emu.messages_to(leader) if "Access request" in m.plain)
        assert "✅ Made a page admin by Sam Leader" in card.plain and not card.buttons
    assert "you are now a page admin" in bot.last(STRANGER).plain
    assert "help" in {c["command"] for c in bot.emu.commands_for(STRANGER)}
    actions = [(e.action, e.outcome) for e in bot.audit() if e.actor_id in (SLT, STRANGER)]
    assert ("request access", "ok") in actions and ("grant", "ok") in actions


async def test_double_tap_on_request_access_sends_one_card(bot: BotHarness) -> None:
    [prompt] = await bot.say(STRANGER, "/start")
    request_data = prompt.buttons[0][1]
    await bot.press(STRANGER, prompt, "Request access")
    await bot.press(STRANGER, prompt, data=request_data)  # the second tap of a double tap
    cards = [m for m in bot.emu.messages_to(HEAD) if "Access request" in m.plain]
    assert len(cards) == 1


async def test_grant_and_revoke_change_what_a_person_can_do(bot: BotHarness) -> None:
    await bot.say(STRANGER, "/start")
    [reply] = await bot.say(SLT, f"/grant {STRANGER} office")
    assert "now office staff" in reply.plain
    assert "You are office staff" in (await bot.say(STRANGER, "/help"))[0].plain
    reply = await revoke(bot, SLT, STRANGER)
    assert "removed" in reply.plain
    bot.clock.advance(minutes=10)  # their /start was answered as a stranger's: one refusal per window
    [reply] = await bot.say(STRANGER, "/help")
    assert "only for staff" in reply.plain


async def test_slt_cannot_appoint_leaders_and_the_last_head_stays(bot: BotHarness) -> None:
    [reply] = await bot.say(SLT, f"/grant {ADMIN} slt")
    assert "Only the Head Teacher" in reply.plain
    [reply] = await bot.say(SLT, f"/revoke {HEAD}")
    assert "Only the Head Teacher" in reply.plain
    [reply] = await bot.say(HEAD, f"/revoke {HEAD}")
    assert "at least one Head Teacher" in reply.plain
    assert bot.services.staff.role_of(HEAD).value == "head"


async def test_malformed_grant_gets_usage_and_changes_nothing(bot: BotHarness) -> None:
    for text in ("/grant", "/grant abc admin", f"/grant {STRANGER} wizard", "/grant -5 admin", f"/grant {STRANGER}"):
        [reply] = await bot.say(HEAD, text)
        assert "Usage" in reply.plain
    assert bot.services.staff.role_of(STRANGER) is None


async def test_staff_list_is_paginated_for_leaders_only(bot: BotHarness) -> None:
    for n in range(30):
        await bot.say(HEAD, f"/grant {50000 + n} admin")
        await bot.press(HEAD, bot.last(HEAD), bot.last(HEAD).buttons[0][0])  # they never opened the bot: asked first
    replies = await bot.say(HEAD, "/staff")
    [first] = replies
    assert "Page 1 of" in first.plain
    await bot.press(HEAD, first, "Next ›")
    assert "Page 2 of" in bot.last(HEAD).plain
    [refused] = await bot.say(ADMIN, "/staff")
    assert "Sorry" in refused.plain and "Page" not in refused.plain


async def test_stranger_trying_every_command_and_forged_buttons_gets_refusals_only(bot: BotHarness) -> None:
    commands = [c.command for c in bot.runtime.menu] + ["start", "consent Amelia", "grant 9001 head"]
    for command in commands:
        forget_strangers(bot)
        replies = await bot.say(STRANGER, f"/{command}")
        assert replies and all("only for staff" in r.plain for r in replies)
    someone_elses = bot.emu.last_to(HEAD)
    for data in (pack("acc", "ok", STRANGER, "admin"), pack("staff", "page", 1), "1:inc:ack:1", "garbage", "x" * 64):
        forget_strangers(bot)
        answer = await bot.press(STRANGER, someone_elses or bot.last(STRANGER), data=data)
        assert answer is not None
    assert bot.services.staff.role_of(STRANGER) is None
    refused = [e for e in bot.audit() if e.actor_id == STRANGER and e.outcome.startswith("refused")]
    assert len(refused) >= len(commands)


async def test_office_cannot_manage_staff_and_pupil_commands_refuse_group_chats(bot: BotHarness) -> None:
    [reply] = await bot.say(OFFICE, f"/grant {STRANGER} admin")
    assert "Sorry" in reply.plain
    bot.emu.add_group(-100200, "Staff room")
    assert await bot.say(HEAD, "/staff", chat_id=-100200) == []  # nothing said in the group
    assert "private chat" in bot.last(HEAD).plain and "Staff with access" not in bot.last(HEAD).plain


async def test_token_never_reaches_the_log(bot: BotHarness, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.INFO, logger="httpx")  # httpx logs every request URL, and the URL holds the token
    await bot.say(STRANGER, "/start")
    assert any(record.name == "httpx" for record in caplog.records)  # the URLs were logged...
    assert "/bot[token]/" in caplog.text and TOKEN not in caplog.text  # ...with the token redacted


# ---- an access request shows what is claimed and what is known (issue 12, point 6) ----------------

PARENTS_GROUP = -1001234567890
IN_GROUP, NOT_IN_GROUP = 9101, 9102


@pytest.fixture
def config(data_dir: Path) -> Config:
    return make_config(data_dir, applications={"group_chat_id": PARENTS_GROUP})


@pytest.fixture
def emu(emu: Any) -> Any:
    emu.add_group(PARENTS_GROUP, "Parents")
    return emu


async def _request(bot: BotHarness, user: int) -> Any:
    [prompt] = await bot.say(user, "/start")
    await bot.press(user, prompt, "Request access")
    return bot.last(HEAD)


async def test_the_card_separates_what_a_stranger_claims_from_what_telegram_knows(bot: BotHarness) -> None:
    bot.emu.add_user(IN_GROUP, "Jo", "Bloggs", username="jo_b")
    bot.emu.add_user(NOT_IN_GROUP, "Mr", "Head Teacher")
    bot.emu.send_text(IN_GROUP, "hello all", chat_id=PARENTS_GROUP)
    card = await _request(bot, IN_GROUP)
    assert "They say they are" in card.plain and "Jo Bloggs" in card.plain
    assert f"Telegram id {IN_GROUP}" in card.plain and "Username: @jo_b" in card.plain
    assert "In the parents' group: yes" in card.plain
    card = await _request(bot, NOT_IN_GROUP)
    assert "Username: none" in card.plain and "In the parents' group: no" in card.plain
    bot.emu.fail_next("getChatMember", 400, "Bad Request: member list is inaccessible")
    card = await _request(bot, STRANGER)
    assert "In the parents' group: unknown" in card.plain


async def test_make_admin_asks_once_more_and_back_changes_nothing(bot: BotHarness) -> None:
    card = await _request(bot, STRANGER)
    await bot.press(HEAD, card, "Make admin")
    asking = bot.last(HEAD)
    assert asking.message_id == card.message_id and "Make Stan Stranger a page admin?" in asking.plain
    assert bot.services.staff.role_of(STRANGER) is None
    await bot.press(HEAD, asking, "Back")
    assert [label for label, _ in bot.last(HEAD).buttons] == ["Make admin", "Make office", "Decline"]
    assert bot.services.staff.role_of(STRANGER) is None
    await bot.press(HEAD, bot.last(HEAD), "Make office")
    await bot.press(HEAD, bot.last(HEAD), "Yes, make Stan Stranger office staff")
    assert bot.services.staff.role_of(STRANGER) is Role.OFFICE


async def test_a_declined_stranger_cannot_ping_the_leaders_again_within_the_cool_down(bot: BotHarness) -> None:
    card = await _request(bot, STRANGER)
    await decline(bot, SLT, next(m for m in bot.emu.messages_to(SLT) if "Access request" in m.plain))
    assert "declined" in bot.last(STRANGER).plain
    cards_before = len([m for m in bot.emu.all_messages if "Access request" in m.plain])

    await bot.advance(days=6)
    [prompt] = await bot.say(STRANGER, "/start")
    await bot.press(STRANGER, prompt, "Request access")
    told = bot.last(STRANGER).plain
    assert "declined (Wed 25 Nov 10:00)" in told and "ask a member of staff" in told
    assert len([m for m in bot.emu.all_messages if "Access request" in m.plain]) == cards_before
    assert bot.services.staff.pending_request(STRANGER) is None

    await bot.advance(days=1, minutes=1)
    [prompt] = await bot.say(STRANGER, "/start")
    await bot.press(STRANGER, prompt, "Request access")
    assert "sent to the senior leaders" in bot.last(STRANGER).plain
    assert "Access request" in bot.last(HEAD).plain and bot.last(HEAD).message_id != card.message_id


async def test_the_cool_down_is_a_config_key(data_dir: Path) -> None:
    assert make_config(data_dir, access={"request_cooldown_days": 30}).access.request_cooldown_days == 30
    with pytest.raises(ConfigError, match=r"access\.request_cooldown_days"):
        make_config(data_dir, access={"request_cooldown_days": -1})


# ---- revoking and lowering (points 1 and 4) -------------------------------------------------------


async def test_a_revoked_person_is_told_once_in_plain_words_and_their_menu_is_reset(bot: BotHarness) -> None:
    await bot.say(STRANGER, "/start")
    await bot.say(HEAD, f"/grant {STRANGER} admin")
    await bot.say(STRANGER, "/start")
    assert "consent" in {c["command"] for c in bot.emu.commands_for(STRANGER)}
    mark = bot.emu.mark()
    reply = await revoke(bot, HEAD, STRANGER)
    assert "removed" in reply.plain
    [told] = bot.emu.since(mark, STRANGER)
    assert "Your access to the St Example's <Primary> & Nursery social media assistant has ended" in told.plain
    assert [c["command"] for c in bot.emu.commands_for(STRANGER)] == ["start"]
    [again] = await bot.say(HEAD, f"/revoke {STRANGER}")
    assert "no access to revoke" in again.plain
    assert len(bot.emu.since(mark, STRANGER)) == 1, "told once"
    revoked = [e for e in bot.audit() if e.action == "revoke" and e.outcome == "ok"]
    assert [(e.actor_id, e.target, e.detail) for e in revoked] == [(HEAD, f"user {STRANGER}", "admin -> none")]


async def test_a_lowered_leader_is_told_and_loses_the_leaders_menu_at_once(bot: BotHarness) -> None:
    await bot.say(SLT, "/start")
    assert "incidents" in {c["command"] for c in bot.emu.commands_for(SLT)}
    await bot.say(HEAD, f"/grant {SLT} admin")
    assert "you are now a page admin" in bot.last(SLT).plain
    assert "incidents" not in {c["command"] for c in bot.emu.commands_for(SLT)}
    [refused] = await bot.say(SLT, f"/grant {STRANGER} admin")
    assert "Sorry" in refused.plain and bot.services.staff.role_of(STRANGER) is None


# ---- risky changes are asked twice (point 7) ------------------------------------------------------

HEAD2 = 1010


async def test_the_head_removing_themselves_is_asked_first(bot: BotHarness) -> None:
    bot.emu.add_user(HEAD2, "Hana", "Head")
    await bot.say(HEAD2, "/start")
    await bot.say(HEAD, f"/grant {HEAD2} head")
    [asked] = await bot.say(HEAD, f"/revoke {HEAD}")
    assert "your own access" in asked.plain
    assert [label for label, _ in asked.buttons] == ["Yes, revoke Helen Head's access", "Cancel"]
    await bot.press(HEAD, asked, "Cancel")
    assert "nothing changed" in bot.last(HEAD).plain and bot.services.staff.role_of(HEAD) is Role.HEAD
    [asked] = await bot.say(HEAD, f"/revoke {HEAD}")
    await bot.press(HEAD, asked, "Yes, revoke Helen Head's access")
    assert bot.services.staff.role_of(HEAD) is None and bot.services.staff.role_of(HEAD2) is Role.HEAD


@pytest.mark.parametrize("change", ["/revoke {slt}", "/grant {slt} office"])
async def test_removing_the_last_other_leader_is_asked_first(data_dir: Path, emu: Any, clock: Any, change: str) -> None:
    config = make_config(data_dir, roles={"deputy": [], "slt": [SLT]})
    bot = BotHarness(emu, config, clock)
    await bot.start()
    try:
        [asked] = await bot.say(HEAD, change.format(slt=SLT))
        assert "Sam Leader" not in asked.plain or "last leader besides you" in asked.plain
        assert "last leader besides you" in asked.plain
        assert bot.services.staff.role_of(SLT) is Role.SLT
        await bot.press(HEAD, asked, asked.buttons[0][0])
        assert bot.services.staff.role_of(SLT) in (None, Role.OFFICE)
        assert "Done" in bot.last(HEAD).plain
    finally:
        await bot.stop()


@pytest.mark.parametrize("text", ["18446744073709551616", "4503599627370496", "0", "99999999999999999999999"])
async def test_grant_refuses_ids_telegram_cannot_issue_and_the_next_grant_works(bot: BotHarness, text: str) -> None:
    [reply] = await bot.say(HEAD, f"/grant {text} office")
    assert "is not a Telegram user id" in reply.plain and "4503599627370495" in reply.plain
    assert all(m.user_id != int(text) for m in bot.services.staff.active())
    await bot.say(STRANGER, "/start")
    [reply] = await bot.say(HEAD, f"/grant {STRANGER} office")
    assert "now office staff" in reply.plain
    await bot.restart()
    assert bot.services.staff.role_of(STRANGER) is Role.OFFICE


async def test_granting_someone_who_never_opened_the_bot_is_asked_first(bot: BotHarness) -> None:
    bot.emu.add_user(8500, "Not", "Yet", started=False)
    [asked] = await bot.say(HEAD, "/grant 8500 admin")
    assert "has never opened this bot" in asked.plain and bot.services.staff.role_of(8500) is None
    await bot.press(HEAD, asked, "Cancel")
    assert bot.services.staff.role_of(8500) is None
    [asked] = await bot.say(HEAD, "/grant 8500 admin")
    await bot.press(HEAD, asked, "Yes, make user 8500 a page admin")
    assert bot.services.staff.role_of(8500) is Role.ADMIN and "Done" in bot.last(HEAD).plain
    # Someone who has opened the bot (a stranger who sent /start) is granted at once.
    await bot.say(STRANGER, "/start")
    [done] = await bot.say(HEAD, f"/grant {STRANGER} admin")
    assert "now a page admin" in done.plain and not done.buttons


async def test_a_forged_confirmation_from_someone_who_may_not_manage_staff_changes_nothing(bot: BotHarness) -> None:
    own = (await bot.say(ADMIN, "/help"))[0]
    for data in (pack("acc", "rv", HEAD), pack("acc", "gr", ADMIN, "head"), pack("acc", "yes", ADMIN, "admin")):
        await bot.press(ADMIN, own, data=data)
    await bot.press(SLT, own, data=pack("acc", "gr", SLT, "head"))  # SLT may not appoint a Head, confirmed or not
    assert bot.services.staff.role_of(HEAD) is Role.HEAD
    assert bot.services.staff.role_of(ADMIN) is Role.ADMIN and bot.services.staff.role_of(SLT) is Role.SLT


# ---- group chats say nothing about roles (point 20) -----------------------------------------------


async def test_in_a_group_the_bot_says_nothing_of_roles_to_anyone(bot: BotHarness) -> None:
    bot.app.bot.rate_limiter._group_max_rate = 0  # many commands in one group, seconds apart
    commands = sorted({c.command for c in bot.runtime.menu} | {"start", "help"})
    for user in (HEAD, ADMIN, OFFICE, STRANGER):
        mark = bot.emu.mark()
        for command in commands:
            assert await bot.say(user, f"/{command}", chat_id=PARENTS_GROUP) == [], f"/{command} by {user}"
        private = bot.emu.since(mark, user)
        assert all("You are" not in m.plain and "/grant" not in m.plain for m in private)
        if user != STRANGER:
            assert private and all("only answer in a private chat" in m.plain for m in private)
    assert bot.emu.messages_to(PARENTS_GROUP) == []
    assert bot.emu.commands_for(PARENTS_GROUP) == [], "no command menu is offered in groups"
    assert "start" in {c["command"] for c in bot.emu.commands_for(STRANGER)}


async def test_help_in_a_group_discloses_nothing_even_when_the_private_chat_is_closed(bot: BotHarness) -> None:
    bot.emu.block(ADMIN)
    await bot.settle()
    assert await bot.say(ADMIN, "/help", chat_id=PARENTS_GROUP) == []
    assert await bot.say(ADMIN, "/start", chat_id=PARENTS_GROUP) == []

"""Roles and access, as staff and strangers meet them on their phones."""

from __future__ import annotations

from handlers.callbacks import pack
from tests.conftest import ADMIN, HEAD, OFFICE, SLT, SLT2, STRANGER, TOKEN, BotHarness


async def test_stranger_gets_a_polite_refusal_with_their_id_and_a_request_button(bot: BotHarness) -> None:
    [reply] = await bot.say(STRANGER, "/start")
    assert "only for staff of St Example's &lt;Primary&gt; &amp; Nursery" in reply.text
    assert str(STRANGER) in reply.plain
    assert [label for label, _ in reply.buttons] == ["Request access"]
    assert bot.emu.commands_for(STRANGER) == [] or [c["command"] for c in bot.emu.commands_for(STRANGER)] == ["start"]


async def test_staff_see_help_and_a_menu_for_their_role(bot: BotHarness) -> None:
    [reply] = await bot.say(ADMIN, "/start")
    assert "You are page administrator." in reply.plain
    assert "/grant" not in reply.plain
    await bot.say(HEAD, "/start")
    admin_menu = {c["command"] for c in bot.emu.commands_for(ADMIN)}
    head_menu = {c["command"] for c in bot.emu.commands_for(HEAD)}
    assert "grant" not in admin_menu and "help" in admin_menu
    assert {"grant", "revoke", "staff"} <= head_menu


async def test_access_request_goes_to_leaders_and_the_first_decision_wins(bot: BotHarness) -> None:
    [card_prompt] = await bot.say(STRANGER, "hello")
    await bot.press(STRANGER, card_prompt, "Request access")
    assert "sent to the senior leaders" in bot.last(STRANGER).plain
    head_card = bot.last(HEAD)
    slt_card = bot.last(SLT)
    assert "Stan Stranger" in head_card.plain and str(STRANGER) in slt_card.plain

    make_office = dict(head_card.buttons)["Make office"]
    await bot.press(SLT, slt_card, "Make admin")
    answer = await bot.press(HEAD, head_card, data=make_office)  # pressed before the edit reached the Head
    assert answer and "Already decided by" in answer["text"]
    assert bot.services.staff.role_of(STRANGER).value == "admin"
    for leader in (HEAD, SLT, SLT2):
        card = next(m for m in bot.emu.messages_to(leader) if "Access request" in m.plain)
        assert "Made page administrator by Sam Leader" in card.plain and not card.buttons
    assert "you are now page administrator" in bot.last(STRANGER).plain
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
    [reply] = await bot.say(SLT, f"/grant {STRANGER} office")
    assert "now office staff" in reply.plain
    assert "You are office staff" in (await bot.say(STRANGER, "/help"))[0].plain
    [reply] = await bot.say(SLT, f"/revoke {STRANGER}")
    assert "removed" in reply.plain
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
        replies = await bot.say(STRANGER, f"/{command}")
        assert replies and all("only for staff" in r.plain for r in replies)
    someone_elses = bot.emu.last_to(HEAD)
    for data in (pack("acc", "ok", STRANGER, "admin"), pack("staff", "page", 1), "1:inc:ack:1", "garbage", "x" * 64):
        answer = await bot.press(STRANGER, someone_elses or bot.last(STRANGER), data=data)
        assert answer is not None
    assert bot.services.staff.role_of(STRANGER) is None
    refused = [e for e in bot.audit() if e.actor_id == STRANGER and e.outcome.startswith("refused")]
    assert len(refused) >= len(commands)


async def test_office_cannot_manage_staff_and_pupil_commands_refuse_group_chats(bot: BotHarness) -> None:
    [reply] = await bot.say(OFFICE, f"/grant {STRANGER} admin")
    assert "Sorry" in reply.plain
    bot.emu.add_group(-100200, "Staff room")
    replies = await bot.say(HEAD, "/staff", chat_id=-100200)
    assert replies and "private chat" in replies[0].plain


async def test_token_never_reaches_the_log(bot: BotHarness, caplog) -> None:  # type: ignore[no-untyped-def]
    await bot.say(STRANGER, "/start")
    assert TOKEN not in caplog.text

"""Flows already under way when access changes: every step checks the role again.

A flow's entry (/log, /apply, "User banned", /check) checks the role once. Before, a revoked admin
could finish logging an incident and revoked office staff went on to see pupils' names among the
register matches of /apply; a lowered leader could finish a ban.
"""

from __future__ import annotations

from tests.conftest import ADMIN, HEAD, OFFICE, SLT, BotHarness, revoke
from tests.test_incidents import alerts_to, log_misuse


async def test_a_log_flow_under_way_ends_when_the_admin_is_revoked(bot: BotHarness) -> None:
    await bot.say(ADMIN, "/log")
    bot.emu.send_photo(ADMIN, b"\xff\xd8\xff\xe0 shot \xff\xd9")
    await bot.settle()
    step = bot.last(ADMIN)
    await revoke(bot, HEAD, ADMIN)
    bot.clock.advance(minutes=10)  # past the window of any earlier stranger's refusal
    answer = await bot.press(ADMIN, step, "Done")
    assert answer and "not for you" in answer["text"]
    bot.emu.send_photo(ADMIN, b"\xff\xd8\xff\xe0 another \xff\xd9")
    await bot.settle()
    assert all("Got 2 screenshots" not in m.plain for m in bot.emu.messages_to(ADMIN))
    assert bot.services.incidents.all() == [] or all(i.reporter_id != ADMIN for i in bot.services.incidents.all())
    assert any(e.actor_id == ADMIN and e.outcome == "refused: not staff" for e in bot.audit())


async def test_an_apply_flow_under_way_shows_no_pupil_once_the_office_is_revoked(bot: BotHarness) -> None:
    await bot.say(OFFICE, "/apply")
    [relationship] = await bot.say(OFFICE, "Jo Bloggs")
    await revoke(bot, HEAD, OFFICE)
    bot.clock.advance(minutes=10)
    mark = bot.emu.mark()
    await bot.press(OFFICE, relationship, "Mother")
    await bot.say(OFFICE, "Amelia")
    shown = [m.plain for m in bot.emu.since(mark, OFFICE)]
    assert all("Step" not in text and "Amelia" not in text for text in shown)


async def test_a_ban_flow_under_way_ends_when_the_leader_is_lowered(bot: BotHarness) -> None:
    incident = await log_misuse(bot, kind="pupil")
    for _ in range(4):  # unacknowledged: re-pinged, then the deputy and SLT are alerted too
        await bot.advance(minutes=6)
    [alert, *_] = alerts_to(bot, SLT, incident.ref)
    await bot.press(SLT, alert, "User banned")
    await bot.say(HEAD, f"/grant {SLT} admin")
    replies = await bot.say(SLT, "Sports Day Troll")
    assert replies and "Your access has changed" in replies[-1].plain
    assert bot.services.incidents.bans() == []

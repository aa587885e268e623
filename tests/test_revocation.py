"""Access that really ends: once the Head revokes someone, nothing queued or held reaches them.

The story from issue 12: the config lists a second Head who never opened the bot; an admin logs
an incident naming a pupil; the Head revokes that id; when that person later opens the bot they
get the stranger's refusal, and then (two minutes later, before the fix) the urgent alert with
the screenshot and the pupil's name. The outbox's side is in bot/shell/delivery/; this file
tells the whole story end to end through the emulator.
"""

from __future__ import annotations

from typing import Any

import pytest

from bot.config import Config
from tests.conftest import ADMIN, ADMIN2, HEAD, SLT, SLT2, STRANGER, BotHarness, decline, make_config, revoke
from tests.test_incidents import alerts_to, log_misuse

NEW_HEAD = 1020  # listed in the config, never opened the bot


@pytest.fixture
def config(data_dir: Any) -> Config:
    return make_config(data_dir, roles={"head": [HEAD, NEW_HEAD]})


@pytest.fixture
def emu(emu: Any) -> Any:
    emu.add_user(NEW_HEAD, "Nora", "Newhead", started=False)
    return emu


def everything_shown(bot: BotHarness, user: int) -> str:
    return "\n".join(
        piece
        for m in bot.emu.messages_to(user)
        for v in [*m.history, m]
        for piece in (v.plain, *(label for label, _ in v.buttons))
    )


async def test_a_revoked_head_who_never_opened_the_bot_never_gets_the_alert(bot: BotHarness) -> None:
    incident = await log_misuse(bot, kind="pupil", note="A parent named Amelia Smith under the sports day post")
    assert alerts_to(bot, HEAD, incident.ref), "the Head who has the bot is alerted"
    assert bot.emu.messages_to(NEW_HEAD) == []  # Telegram will not let the bot write first

    done = await revoke(bot, HEAD, NEW_HEAD)
    assert "removed" in done.plain
    [refusal] = await bot.say(NEW_HEAD, "/start")
    assert "only for staff" in refusal.plain

    for _ in range(12):  # past every re-ping, the fallback to deputy and SLT, and the give-up time
        await bot.advance(minutes=10)
    shown = everything_shown(bot, NEW_HEAD)
    assert incident.ref not in shown and "Amelia" not in shown and "sports day" not in shown
    assert [m for m in bot.emu.messages_to(NEW_HEAD) if m.photo or m.document] == []
    assert all("only for staff" in m.plain for m in bot.emu.messages_to(NEW_HEAD))
    assert bot.services.staff.role_of(NEW_HEAD) is None
    revoked = [e for e in bot.audit() if e.action == "revoke" and e.outcome == "ok"]
    assert [(e.actor_id, e.target) for e in revoked] == [(HEAD, f"user {NEW_HEAD}")]


async def test_a_lowered_leader_s_copy_of_an_access_request_is_no_longer_edited(bot: BotHarness) -> None:
    """A sibling: a card someone already holds is not edited with the decision once they lost the role."""
    for leader in (HEAD, SLT, SLT2):
        await bot.say(leader, "/start")
    [prompt] = await bot.say(STRANGER, "/start")
    await bot.press(STRANGER, prompt, "Request access")
    slt2_card = bot.last(SLT2)
    assert "Access request" in slt2_card.plain

    await bot.say(HEAD, f"/grant {SLT2} admin")  # lowered: may no longer decide access
    await decline(bot, SLT, bot.last(SLT))
    head_card = next(m for m in bot.emu.messages_to(HEAD) if "Access request" in m.plain)
    assert "Declined by Sam Leader" in head_card.plain
    slt2_card = next(m for m in bot.emu.messages_to(SLT2) if m.message_id == slt2_card.message_id)
    assert "Declined" not in slt2_card.plain and slt2_card.history == []


async def test_a_nudge_waiting_for_an_admin_who_blocked_the_bot_is_not_delivered_after_revocation(bot: BotHarness) -> None:
    bot.emu.block(ADMIN2)
    await bot.settle()
    await bot.advance(hours=22, minutes=31)  # Thursday 08:31: the nudge for Alan waits in the outbox
    assert any("Moderate the page" in m.plain for m in bot.emu.messages_to(ADMIN))
    await revoke(bot, HEAD, ADMIN2)
    [refusal] = await bot.say(ADMIN2, "/start")  # writing again unblocks the bot
    assert "only for staff" in refusal.plain
    for _ in range(6):
        await bot.advance(minutes=10)
    shown = everything_shown(bot, ADMIN2)
    assert "Moderate the page" not in shown and "Found a problem" not in shown

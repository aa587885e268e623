"""The Head reads who did what; nobody else can, and the log keeps refused attempts too."""

from __future__ import annotations

from tests.conftest import ADMIN, HEAD, SLT, STRANGER, BotHarness


async def test_head_reads_the_audit_log_newest_first_and_pages_back(bot: BotHarness) -> None:
    await bot.say(STRANGER, "/grant 1 head")
    for n in range(20):
        await bot.say(SLT, f"/grant {70000 + n} admin")
    [first] = await bot.say(HEAD, "/audit")
    assert "Audit log" in first.plain and "grant · user 70019" in first.plain
    await bot.press(HEAD, first, "Older ›")
    older = bot.last(HEAD).plain
    assert "page 2" in older and "refused: not staff" in older
    assert len(bot.last(HEAD).text) <= 4096


async def test_only_the_head_may_read_it_and_attempts_are_recorded(bot: BotHarness) -> None:
    for person in (ADMIN, SLT):
        [reply] = await bot.say(person, "/audit")
        assert "Sorry" in reply.plain
    refused = [e for e in bot.audit() if e.action == "read audit log" and e.outcome == "refused: role"]
    assert {e.actor_id for e in refused} == {ADMIN, SLT}
    answer = await bot.press(SLT, bot.last(SLT), data="1:aud:page:3")
    assert answer and "Sorry" in answer["text"]

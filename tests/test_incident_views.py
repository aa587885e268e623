"""/incident N, /incidents and /bans: acting from the record, and the longest records within Telegram's limits.

Issue 12, points 12 and 21: a Head who lost the alert acts from /incident N (acknowledge
first, then the actions); lists and records of the longest names and reasons still arrive.
"""

from __future__ import annotations

from bot.shell.callbacks import pack
from tests.conftest import ADMIN, HEAD, OFFICE, SLT, BotHarness
from tests.test_incidents import alerts_to, labels, log_misuse, seed


async def test_a_head_who_lost_the_alert_acknowledges_and_acts_from_the_record(bot: BotHarness) -> None:
    await log_misuse(bot, ADMIN, "pupil", note="Names a Year 4 pupil")
    [record, *_] = await bot.say(HEAD, "/incident 1")
    assert labels(record) == ["Acknowledge"], "acknowledge first"

    for person in (ADMIN, OFFICE):  # role-checked on press
        refused = await bot.press(person, record, data=pack("inc", "vack", 1))
        assert refused and "Sorry" in refused["text"]
    assert bot.services.incidents.get(1).state == "open"

    answer = await bot.press(HEAD, record, "Acknowledge")
    assert answer and "Acknowledged" in answer["text"]
    assert bot.services.incidents.get(1).state == "acknowledged"
    assert "Acknowledge" not in labels(record) and "Comment removed" in labels(record), "then the actions"
    for copy in [m for m in alerts_to(bot, HEAD, "INC-0001") if "misuse logged" in m.plain]:
        assert "Acknowledged by Helen Head" in copy.plain
    answer = await bot.press(HEAD, record, "Comment removed")
    assert answer and "Recorded: Comment removed" in answer["text"]

    bot.services.incident_log.close(1, "resolved", HEAD, "Helen Head")
    [closed, *_] = await bot.say(HEAD, "/incident 1")
    assert labels(closed) == []


async def test_the_longest_record_and_ban_register_still_reach_the_phone(bot: BotHarness) -> None:
    seed(bot, 12, kind="outsider")
    incidents = bot.services.incident_log
    for number in range(1, 13):
        incidents.record_ban(number, "🦊" * 100, "🐧" * 200, ADMIN, "Ada Admin")  # emoji count twice
    [bans] = await bot.say(HEAD, "/bans")
    assert "Ban register" in bans.plain
    await bot.press(HEAD, bans, "Next ›")
    replies = await bot.say(SLT, "/incident 1")
    assert "INC-0001" in replies[0].plain
    await bot.say(SLT, "/incidents")
    assert not bot.emu.unexpected_refusals(), bot.emu.unexpected_refusals()

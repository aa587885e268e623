"""A stranger's flood: one refusal and one audit line per stranger per window, whatever they send.

Before, every message from someone who is not staff cost a reply and an fsynced audit line, so a
hundred thousand messages grew the audit log by a hundred thousand lines and kept the bot busy.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.strangers import StrangerGate
from tests.conftest import ADMIN, STRANGER, BotHarness, make_config

FLOOD = 3000


def audit_bytes(bot: BotHarness) -> int:
    return sum(p.stat().st_size for p in (bot.services.db.data_dir / "audit").glob("*.jsonl"))


def stranger_lines(bot: BotHarness, user: int = STRANGER) -> list:
    return [e for e in bot.audit() if e.actor_id == user]


async def test_a_flood_of_messages_gets_one_refusal_and_one_audit_line_per_window(bot: BotHarness) -> None:
    before = audit_bytes(bot)
    mark = bot.emu.mark()
    for n in range(FLOOD):
        bot.emu.send_text(STRANGER, f"/consent Amelia {n}" if n % 2 else f"spam {n}")
    await bot.settle()
    [refusal] = bot.emu.since(mark, STRANGER)
    assert "only for staff" in refusal.plain
    [line] = stranger_lines(bot)
    assert line.outcome == "refused: not staff"
    assert audit_bytes(bot) - before < 1000, "the audit log did not grow with the flood"

    [reply] = await bot.say(ADMIN, "/help")  # the bot is not blocked: staff are answered at once
    assert "You are a page admin" in reply.plain

    bot.clock.advance(minutes=10)
    [again] = await bot.say(STRANGER, "hello?")
    assert "only for staff" in again.plain
    latest = stranger_lines(bot)[-1]
    assert len(stranger_lines(bot)) == 2 and f"{FLOOD - 1:,} earlier messages from them left unanswered" in latest.detail


async def test_button_presses_from_a_stranger_are_bounded_too(bot: BotHarness) -> None:
    [prompt] = await bot.say(STRANGER, "/start")
    for n in range(300):
        bot.emu.press(STRANGER, prompt, data=f"1:inc:ack:{n}")
        bot.emu.press(STRANGER, prompt, data="garbage")
    await bot.settle()
    assert len(stranger_lines(bot)) == 1
    # Asking for access still works (it is not a refusal), and repeated taps are bounded the same way.
    await bot.press(STRANGER, prompt, "Request access")
    assert "sent to the senior leaders" in bot.last(STRANGER).plain
    for _ in range(200):
        bot.emu.press(STRANGER, prompt, data="1:acc:req")
    await bot.settle()
    assert len([e for e in stranger_lines(bot) if e.action == "request access"]) == 2  # the request, one repeat


async def test_many_stranger_ids_cannot_grow_memory_or_the_audit_log(bot: BotHarness) -> None:
    bot.app.bot_data["stranger_gate"] = StrangerGate(timedelta(minutes=10), remembered=50)
    for user in range(20_000, 20_400):
        bot.emu.send_text(user, "hi")
    await bot.settle()
    gate = bot.app.bot_data["stranger_gate"]
    assert len(gate) == 50
    answered = [m for m in bot.emu.all_messages if 20_000 <= m.chat_id < 20_400]
    lines = [e for e in bot.audit() if 20_000 <= e.actor_id < 20_400]
    assert len(answered) == 50 and len(lines) == 50
    bot.clock.advance(minutes=10)
    [reply] = await bot.say(20_399, "hi again")
    assert "only for staff" in reply.plain
    assert "350 messages from other strangers left unanswered" in bot.audit()[-1].detail


def test_the_gate_holds_a_hundred_thousand_messages_in_bounded_memory() -> None:
    gate = StrangerGate(timedelta(minutes=10), remembered=1000)
    start = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    answered = 0
    for n in range(100_000):
        now = start + timedelta(seconds=n // 100)  # 100 messages a second for about 17 minutes
        if gate.admit(n % 5000, now) is not None:
            answered += 1
        assert len(gate) <= 1000
    # At most the remembered number per window: two windows and a bit, so at most three rounds.
    assert answered <= 3 * 1000


def test_the_window_is_a_config_key(data_dir: Path) -> None:
    assert make_config(data_dir, access={"stranger_window_minutes": 60}).access.stranger_window_minutes == 60


async def test_a_refusal_telegram_lost_does_not_silence_the_stranger_s_next_message(bot: BotHarness) -> None:
    bot.emu.fail_next("sendMessage", 500, "Internal Server Error", count=3)  # outlasts the quick retries
    lost = await bot.say(STRANGER, "/start")
    assert all("only for staff" not in m.plain for m in lost)  # at most the error handler's apology
    [refusal] = await bot.say(STRANGER, "/start")
    assert "only for staff" in refusal.plain

"""When Telegram or the bot stumbles, staff get a short apology, never a traceback, and retries happen."""

from __future__ import annotations

import logging

import pytest

from tests.conftest import ADMIN, HEAD, TOKEN, BotHarness


async def test_a_429_on_a_reply_is_waited_out_and_the_reply_arrives(bot: BotHarness) -> None:
    bot.emu.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    [reply] = await bot.say(ADMIN, "/help")
    assert "You are a page admin" in reply.plain
    assert [f.kind for f in bot.emu.injected] == ["429"]


async def test_a_crash_in_a_handler_gives_a_short_apology_and_logs_ids_only(
    bot: BotHarness, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(_: object, actor: int, query: str) -> None:
        raise RuntimeError(f"lookup failed for {query}")

    monkeypatch.setattr("bot.register.RegisterService.lookup", broken)
    with caplog.at_level(logging.ERROR):
        [reply] = await bot.say(ADMIN, "/consent Amelia Smith")
    assert reply.plain == "Something went wrong. Please try again in a moment: if it had already gone through, I will say so."
    assert "Traceback" not in reply.plain
    assert f"from user {ADMIN}" in caplog.text and "RuntimeError" in caplog.text
    assert "Amelia" not in caplog.text  # the exception's message may name a pupil: it is not logged
    assert TOKEN not in caplog.text


async def test_undeliverable_messages_are_retried_until_telegram_takes_them(bot: BotHarness) -> None:
    # Three failures outlast the quick retries of the rate limiter; the outbox tries again later.
    bot.emu.fail_next("sendMessage", 500, "Internal Server Error", count=3)
    bot.runtime.delivery.post("test:1", HEAD, "Important: <b>read me</b>")
    await bot.settle()
    assert not any("read me" in m.plain for m in bot.emu.messages_to(HEAD))
    for _ in range(3):
        await bot.advance(minutes=1)
    assert [m.plain for m in bot.emu.messages_to(HEAD) if "read me" in m.plain] == ["Important: read me"]


async def test_the_token_is_redacted_from_every_log_line(caplog: pytest.LogCaptureFixture) -> None:
    from bot.logsafe import RedactSecrets

    record = logging.LogRecord("httpx", logging.INFO, "", 0, "POST https://api.telegram.org/bot%s/getMe", (TOKEN,), None)
    RedactSecrets([TOKEN]).filter(record)
    assert TOKEN not in record.getMessage() and "[token]" in record.getMessage()


async def test_delivered_messages_are_forgotten_after_sixty_days_but_pending_ones_stay(bot: BotHarness) -> None:
    bot.runtime.delivery.post("old:sent", HEAD, "Delivered long ago")
    await bot.settle()
    bot.emu.fail_next("sendMessage", 500, "Internal Server Error", count=50)  # Telegram down all along
    bot.runtime.delivery.post("old:pending", ADMIN, "Still waiting")
    await bot.settle()
    await bot.advance(days=61)
    outbox = bot.services.outbox
    assert outbox.by_key("old:sent") is None
    assert outbox.by_key("old:pending") is not None and outbox.by_key("old:pending").state == "pending"


async def test_a_message_that_only_matters_for_a_while_is_given_up(bot: BotHarness) -> None:
    from datetime import timedelta

    bot.emu.block(ADMIN)
    item = bot.runtime.delivery.post("short:1", ADMIN, "Please answer soon", give_up_after=timedelta(minutes=3))
    await bot.settle()
    for _ in range(4):
        await bot.advance(minutes=1)
    assert bot.services.outbox.get(item.id).state == "failed"


async def test_a_5xx_on_a_reply_is_retried(bot: BotHarness) -> None:
    bot.emu.fail_next("sendMessage", 500, "Internal Server Error")
    [reply] = await bot.say(ADMIN, "/help")
    assert "You are a page admin" in reply.plain
    assert [f.kind for f in bot.emu.injected] == ["500"]


async def test_a_refusal_is_not_retried(bot: BotHarness) -> None:
    bot.emu.fail_next("sendMessage", 400, "Bad Request: chat not found")
    await bot.say(ADMIN, "/help")
    assert sum(method == "sendMessage" for method, _ in bot.emu.calls) == 2  # the reply, then the apology


@pytest.mark.parametrize(
    ("failure", "told"),
    [
        ("disk full", "⚠️ Not saved: the bot's disk is full."),
        ("disk refused", "⚠️ Not saved: the bot cannot write to its disk just now."),
        ("folder read-only", "⚠️ Not saved: the bot cannot write to its disk just now."),
        ("unstorable", "Not saved: that holds something I cannot store"),
        ("damaged", "Not done: I could not read my saved data."),
    ],
)
async def test_a_storage_failure_is_told_for_what_it_is_in_words_that_fit_a_button_alert(
    bot: BotHarness, monkeypatch: pytest.MonkeyPatch, failure: str, told: str
) -> None:
    import errno
    from pathlib import Path

    from storage.atomic import DamagedDataFile, DataDirNotWritable, DiskWriteFailed, UnstorableValue

    where = Path("staff.json")
    error = {
        "disk full": DiskWriteFailed(where, OSError(errno.ENOSPC, "No space left on device")),
        "disk refused": DiskWriteFailed(where, OSError(errno.EROFS, "Read-only file system")),
        "folder read-only": DataDirNotWritable("evidence is read-only"),
        "unstorable": UnstorableValue(where, TypeError("Integer exceeds 64-bit range")),
        "damaged": DamagedDataFile(where, "it is empty"),
    }[failure]

    def broken(*_: object) -> None:
        raise error

    monkeypatch.setattr("bot.register.RegisterService.lookup", broken)
    [reply] = await bot.say(ADMIN, "/consent Amelia Smith")
    assert reply.plain.startswith(told) and len(reply.plain) <= 200

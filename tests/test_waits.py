"""The bot's deliberate pauses before a retry are a parameter, not a constant.

A running bot waits what Telegram asks after a 429 (PTB adds 0.1 s) and backs off 0.2 s, then
0.4 s, after a 5xx or a failed connection; the tests build it with `wait_scale=0`, so each retry
still happens, at once. Whatever the scale, a 429 that outlasts the retries reaches the outbox
with Telegram's own retry_after, so the outbox waits as long as Telegram asked.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from telegram.error import NetworkError, RetryAfter

from bot.shell.delivery import RetryingRateLimiter, retry_wait


class Flaky:
    """A Bot API call that fails with each of `errors` in turn, then succeeds."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def __call__(self) -> bool:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return True


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Every asyncio.sleep the rate limiter asks for, recorded instead of slept."""
    asked: list[float] = []

    async def record(seconds: float, result: Any = None) -> Any:
        asked.append(round(seconds, 3))
        return result

    monkeypatch.setattr(asyncio, "sleep", record)
    return asked


async def send(limiter: RetryingRateLimiter, call: Flaky) -> Any:
    return await limiter.process_request(call, (), {}, "sendMessage", {"chat_id": 1001}, None)


def limiter(**kwargs: Any) -> RetryingRateLimiter:
    return RetryingRateLimiter(overall_max_rate=0, max_retries=3, **kwargs)


async def test_a_running_bot_waits_what_telegram_asks_and_backs_off_from_network_trouble(waits: list[float]) -> None:
    call = Flaky(RetryAfter(3), NetworkError("httpx.ConnectError: refused"), NetworkError("Bad Gateway"))
    assert await send(limiter(), call) is True
    assert call.calls == 4
    assert waits == [3.1, 0.2, 0.4]


async def test_with_wait_scale_zero_every_retry_still_happens_without_the_pause(waits: list[float]) -> None:
    call = Flaky(RetryAfter(3), NetworkError("httpx.ConnectError: refused"), NetworkError("Bad Gateway"))
    assert await send(limiter(wait_scale=0), call) is True
    assert call.calls == 4
    assert waits == [0.1, 0.0, 0.0]  # 0.1 s is PTB's own margin after a 429


@pytest.mark.parametrize("scale", [1, 0])
async def test_a_429_that_outlasts_the_retries_reaches_the_outbox_with_telegrams_wait(waits: list[float], scale: float) -> None:
    call = Flaky(*[RetryAfter(7) for _ in range(4)])
    with pytest.raises(RetryAfter) as refused:
        await send(limiter(wait_scale=scale), call)
    assert call.calls == 4
    assert retry_wait(refused.value) == timedelta(seconds=7)

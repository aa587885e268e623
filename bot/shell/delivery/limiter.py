"""The rate limiter every Bot API call passes through: it waits out 429s and retries brief faults.

The outbox keeps retrying important messages for as long as it takes; this covers the replies
handlers send directly, and the first few seconds of every call.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut
from telegram.ext import AIORateLimiter

from bot.shell.delivery.outcomes import retry_wait
from bot.shell.delivery.sending import TOO_LARGE, refusal

NETWORK_RETRIES = 2
NETWORK_BACKOFF = 0.2  # seconds, doubled on each retry
# The updater retries polling itself; a callback answer that arrives late is worse than none.
_NOT_RETRIED = frozenset({"getUpdates", "answerCallbackQuery"})


def _certainly_not_done(exc: NetworkError) -> bool:
    """True when Telegram answered with an error (a 5xx) or no connection was made. A dropped answer
    or a time-out may hide a message already sent, and sending it again would show it twice."""
    if isinstance(exc, TimedOut):
        return False
    return not exc.message.startswith("httpx.") or exc.message.startswith("httpx.ConnectError")


class RetryingRateLimiter(AIORateLimiter):
    """PTB's AIORateLimiter waits out 429s; this also retries a 5xx or a failed connection briefly.

    Covers the replies handlers send directly; the outbox keeps retrying important messages for as
    long as it takes. A refusal (400, 403) is an answer, not a fault, and is never retried here.
    `wait_scale` is the share of each wait actually waited (Telegram's retry_after, the network
    back-off): 1 in production; 0 in tests, which still see every retry, just without the pause.
    """

    def __init__(self, *, wait_scale: float = 1.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.wait_scale = wait_scale

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Any]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Any:
        if self.wait_scale != 1:
            callback = self._scaling_retry_after(callback)
        for attempt in range(NETWORK_RETRIES + 1):
            try:
                return await super().process_request(callback, args, kwargs, endpoint, data, rate_limit_args)
            except RetryAfter as exc:  # still refused after AIORateLimiter's retries: say what Telegram said
                said = exc.__cause__ if isinstance(exc.__cause__, RetryAfter) else exc
                raise said from None
            except BadRequest:
                raise
            except NetworkError as exc:
                if attempt == NETWORK_RETRIES or endpoint in _NOT_RETRIED or not _certainly_not_done(exc):
                    raise
                if refusal(exc, TOO_LARGE):
                    raise  # Telegram's 413 is a refusal PTB reports as a network error: sending again cannot help
                await asyncio.sleep(NETWORK_BACKOFF * 2**attempt * self.wait_scale)
        raise AssertionError("unreachable")

    def _scaling_retry_after(self, callback: Callable[..., Coroutine[Any, Any, Any]]) -> Callable[..., Coroutine[Any, Any, Any]]:
        """The call with Telegram's retry_after scaled, so AIORateLimiter's own wait (it also holds
        back every other call meanwhile) is scaled too."""

        async def call(*args: Any, **kwargs: Any) -> Any:
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                raise RetryAfter(retry_wait(exc) * self.wait_scale) from exc

        return call

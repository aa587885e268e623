"""Durable delivery: every important message goes through the outbox and is retried until sent.

This is the one place that turns Telegram's refusals into decisions: wait and retry
(429, network trouble, 5xx, a Head who has not started the bot yet), treat as done
(an edit that changes nothing, a message that no longer exists), or give up loudly
(a malformed message, which is a bug).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import replace
from collections.abc import Callable, Coroutine
from datetime import datetime, timedelta
from typing import Any

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.ext import AIORateLimiter
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut

from bot.services import Services
from storage.outbox import Buttons, OutboxItem

log = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(minutes=5)
NETWORK_RETRIES = 2
NETWORK_BACKOFF = 0.2  # seconds, doubled on each retry
FORBIDDEN_BACKOFF = timedelta(minutes=1)
_DONE_EDIT_ERRORS = ("message is not modified", "message to edit not found", "message can't be edited")


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
    """

    async def process_request(  # type: ignore[override]
        self,
        callback: Callable[..., Coroutine[Any, Any, Any]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Any:
        for attempt in range(NETWORK_RETRIES + 1):
            try:
                return await super().process_request(callback, args, kwargs, endpoint, data, rate_limit_args)
            except BadRequest:
                raise
            except NetworkError as exc:
                if attempt == NETWORK_RETRIES or endpoint in _NOT_RETRIED or not _certainly_not_done(exc):
                    raise
                await asyncio.sleep(NETWORK_BACKOFF * 2**attempt)
        raise AssertionError("unreachable")


def retry_wait(exc: RetryAfter) -> timedelta:
    """How long Telegram asked us to wait (an int before PTB's timedelta opt-in, a timedelta after)."""
    wait = exc.retry_after
    return wait if isinstance(wait, timedelta) else timedelta(seconds=wait)


def keyboard(buttons: Buttons) -> InlineKeyboardMarkup | None:
    if not buttons:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in buttons]
    )


class Delivery:
    """Saves messages before sending them, sends what is due, and edits every copy of a thread."""

    def __init__(self, bot: Bot, services: Services) -> None:
        self.bot = bot
        self.services = services
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    # ---- enqueueing -------------------------------------------------------------------
    def post(
        self,
        key: str,
        chat_id: int,
        text: str,
        buttons: Buttons = (),
        photo: str = "",
        thread: str = "",
        give_up_after: timedelta | None = None,
    ) -> OutboxItem:
        """Save a message for delivery (idempotent by key) and start sending it.

        It is retried until Telegram takes it, or, with `give_up_after`, until it no longer
        matters (Telegram lets a bot write to a join requester for a few minutes only).
        """
        now = self.services.clock.now()
        give_up_at = now + give_up_after if give_up_after else None
        item = self.services.outbox.enqueue(
            OutboxItem(key, chat_id, text, now, now, buttons=buttons, photo=photo, thread=thread, give_up_at=give_up_at)
        )
        self.kick()
        return item

    def edit_thread(self, thread: str, text: str, buttons: Buttons = ()) -> None:
        """Show new content on every copy of a thread: sent copies are edited, unsent ones rewritten."""
        outbox = self.services.outbox
        now = self.services.clock.now()
        for copy in outbox.in_thread(thread):
            if copy.state == "pending":
                outbox.save(replace(copy, text=text, buttons=buttons))
                continue
            if copy.state != "sent":
                continue
            waiting = outbox.pending_edit(copy.chat_id, copy.message_id)
            if waiting:
                outbox.save(replace(waiting, text=text, buttons=buttons))
                continue
            outbox.enqueue(
                OutboxItem(
                    f"{copy.key}:edit:{uuid.uuid4().hex[:12]}",
                    copy.chat_id,
                    text,
                    now,
                    now,
                    buttons=buttons,
                    photo=copy.photo,
                    thread=thread,
                    edit_of=copy.message_id,
                )
            )
        self.kick()

    def thread_copies(self, thread: str) -> list[OutboxItem]:
        return self.services.outbox.in_thread(thread)

    # ---- sending ----------------------------------------------------------------------
    def kick(self) -> None:
        """Send what is due in the background, unless a send round is already running."""
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self.flush())

    @property
    def busy(self) -> bool:
        return self._task is not None and not self._task.done()

    async def flush(self) -> datetime | None:
        """Send every due item once; return when the next retry is due (for the scheduler)."""
        async with self._lock:
            tried: set[int] = set()
            while fresh := [i for i in self.services.outbox.due(self.services.clock.now()) if i.id not in tried]:
                for item in fresh:  # items saved meanwhile are picked up by the next round
                    tried.add(item.id)
                    await self._attempt(item)
            return self.services.outbox.next_attempt()

    async def _attempt(self, item: OutboxItem) -> None:
        outbox = self.services.outbox
        now = self.services.clock.now()
        try:
            message_id = await self._send(item)
        except RetryAfter as exc:
            wait = retry_wait(exc)
            outbox.save(self._retry(item, now, wait, "rate limited"))
        except Forbidden as exc:
            outbox.save(self._retry(item, now, FORBIDDEN_BACKOFF, f"forbidden: {exc.message}"))
        except BadRequest as exc:
            if item.edit_of and any(text in exc.message.lower() for text in _DONE_EDIT_ERRORS):
                outbox.save(replace(item, state="sent", attempts=item.attempts + 1, sent_at=now))
            elif "chat not found" in exc.message.lower():
                outbox.save(self._retry(item, now, FORBIDDEN_BACKOFF, "chat not found"))
            else:
                log.error("Outbox item %s refused by Telegram: %s", item.id, exc.message)
                outbox.save(replace(item, state="failed", attempts=item.attempts + 1, last_error=exc.message))
        except (NetworkError, TelegramError) as exc:
            outbox.save(self._retry(item, now, self._backoff(item), f"network: {type(exc).__name__}"))
        else:
            # A delivered message keeps only what later edits need: its text and buttons were the
            # bulk of the outbox file, which is rewritten on every change.
            sent = replace(item, state="sent", attempts=item.attempts + 1, sent_at=now, message_id=message_id)
            outbox.save(replace(sent, text="", buttons=()))

    def _backoff(self, item: OutboxItem) -> timedelta:
        return min(timedelta(seconds=5 * 2**item.attempts), MAX_BACKOFF)

    def _retry(self, item: OutboxItem, now: datetime, wait: timedelta, error: str) -> OutboxItem:
        if item.give_up_at and now + wait > item.give_up_at:
            log.warning("Outbox item %s to chat %s given up (%s)", item.id, item.chat_id, error)
            return replace(item, state="failed", attempts=item.attempts + 1, last_error=f"gave up: {error}")
        log.warning("Outbox item %s to chat %s not delivered (%s); retrying", item.id, item.chat_id, error)
        return replace(item, attempts=item.attempts + 1, next_attempt_at=now + wait, last_error=error)

    async def _send(self, item: OutboxItem) -> int:
        markup = keyboard(item.buttons)
        if item.edit_of and item.is_caption:
            await self.bot.edit_message_caption(
                item.chat_id, item.edit_of, caption=item.text, parse_mode=ParseMode.HTML, reply_markup=markup
            )
            return item.edit_of
        if item.edit_of:
            await self.bot.edit_message_text(
                item.text, item.chat_id, item.edit_of, parse_mode=ParseMode.HTML, reply_markup=markup
            )
            return item.edit_of
        if item.photo:
            photo = self.services.db.data_dir / item.photo if item.photo.startswith("evidence/") else item.photo
            message = await self.bot.send_photo(
                item.chat_id, photo=photo, caption=item.text, parse_mode=ParseMode.HTML, reply_markup=markup
            )
        else:
            message = await self.bot.send_message(
                item.chat_id, item.text, parse_mode=ParseMode.HTML, reply_markup=markup
            )
        return message.message_id

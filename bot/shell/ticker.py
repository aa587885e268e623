"""What every handler reaches through `context`: the services, durable delivery and the scheduler."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from telegram.ext import CallbackContext

from bot.logsafe import failure_text
from bot.services import Services
from bot.shell.delivery import Delivery
from handlers.menu import MenuCommand

log = logging.getLogger(__name__)

# A piece of timed work: given "now", do whatever is due and say when to look again.
TimedWork = Callable[[datetime], Awaitable[datetime | None]]


@dataclass
class Ticker:
    """Runs every capability's timed work from what storage says is due.

    Nothing is kept only in the scheduler: each piece of work derives what is due from
    config and storage, so a restart simply ticks again and catches up. APScheduler (PTB's
    JobQueue) only decides *when* to tick; tests tick by hand with a fake clock.
    """

    services: Services
    work: dict[str, TimedWork] = field(default_factory=dict)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def add(self, name: str, work: TimedWork) -> None:
        self.work[name] = work

    async def tick(self) -> datetime | None:
        """Do everything due now; return the earliest moment any work wants to run next."""
        async with self._lock:
            now = self.services.clock.now()
            upcoming: list[datetime] = []
            for name, work in self.work.items():
                try:
                    following = await work(now)
                except Exception as exc:
                    log.error("Timed work %r failed; it will be tried again: %s", name, failure_text(exc))
                    following = now + timedelta(minutes=1)
                if following is not None:
                    upcoming.append(following)
            return min(upcoming, default=None)


@dataclass
class Runtime:
    services: Services
    delivery: Delivery
    ticker: Ticker
    menu: list[MenuCommand] = field(default_factory=list)


def runtime(context: CallbackContext) -> Runtime:
    return context.application.bot_data["runtime"]

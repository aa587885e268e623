"""The last line of defence: log the failure (ids only, no token), tell the user briefly and truly.

A change that could not be saved is rolled back by the storage layer, so the user is told
plainly that it was not saved and why; a full disk is also told to the Head and SLT, once a
spell, straight through Telegram (the outbox lives on that same full disk).
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Iterable
from datetime import datetime, timedelta

from telegram import Bot, Update
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, TelegramError

from bot.services import Services
from bot.shell.ticker import runtime
from handlers.common import Context, h, log_update_error, reply
from storage.atomic import DamagedDataFile, DataDirNotWritable, DiskWriteFailed, UnstorableValue, write_new_file

log = logging.getLogger(__name__)

# Not "nothing was saved": a handler may fail after its change was saved (the answer to the tap was
# lost); trying again then says so ("Already decided by ...", "Already logged as ...").
SORRY = "Something went wrong. Please try again in a moment: if it had already gone through, I will say so."
# Each stays under the 200 characters Telegram shows in a button's alert.
DISK_FULL = (
    "⚠️ Not saved: the bot's disk is full. The Head and SLT are being told. "
    "Try again once space is freed; if part of it had already been saved, I will say so."
)
DISK_REFUSED = (
    "⚠️ Not saved: the bot cannot write to its disk just now. "
    "Try again in a few minutes; if part of it had already been saved, I will say so."
)
UNSTORABLE = (
    "Not saved: that holds something I cannot store (such as a number too long to be a Telegram id). Please check what you typed."
)
DAMAGED = (
    "Not done: I could not read my saved data. Please tell whoever runs the bot's server "
    "that a data file needs restoring from backup."
)
RETRY = timedelta(minutes=1)
OUT_OF_REACH_NOTE = timedelta(minutes=10)


def apology(error: BaseException) -> str:
    """What the user is told: the true reason when the storage layer gave one."""
    if isinstance(error, DiskWriteFailed):
        return DISK_FULL if error.disk_full else DISK_REFUSED
    if isinstance(error, DataDirNotWritable):  # a folder under the data folder made read-only by hand
        return DISK_REFUSED
    if isinstance(error, UnstorableValue):
        return UNSTORABLE
    if isinstance(error, DamagedDataFile):
        return DAMAGED
    return SORRY


async def on_error(update: object, context: Context) -> None:
    """Never a traceback to the user: a short, true apology, and the details in the log."""
    error = context.error
    assert error is not None
    if update is None and isinstance(error, NetworkError):
        _telegram_out_of_reach(context, error)
        return
    log_update_error(update, error)
    if isinstance(update, Update) and update.effective_chat is not None and not isinstance(error, Forbidden):
        await _apologise(update, apology(error))
    alarm: DiskAlarm | None = context.application.bot_data.get("disk_alarm")
    if alarm is not None and isinstance(error, DiskWriteFailed):
        await alarm.check(alarm.services.clock.now())  # now, not at the next tick


def _telegram_out_of_reach(context: Context, error: NetworkError) -> None:
    """Polling lost Telegram (PTB retries within 30 seconds): one line, no stack, once per
    OUT_OF_REACH_NOTE, so an afternoon without internet does not fill bot.log with tracebacks."""
    now = runtime(context).services.clock.now()
    last: datetime | None = context.application.bot_data.get("telegram_out_of_reach_noted")
    if last is not None and now - last < OUT_OF_REACH_NOTE:
        return
    context.application.bot_data["telegram_out_of_reach_noted"] = now
    log.warning(
        "Cannot reach Telegram (%s: %s); retrying, and saying so here again every %d minutes it lasts",
        type(error).__name__,
        error.message,
        OUT_OF_REACH_NOTE // timedelta(minutes=1),
    )


async def _apologise(update: Update, text: str) -> None:
    """To the person alone: a button's alert, or their private chat; never a group, which must
    not hear from the bot at all (not even that the disk is full)."""
    chat, query = update.effective_chat, update.callback_query
    try:
        if query is not None:
            try:
                await query.answer(text, show_alert=True)
                return
            except BadRequest:  # the handler had answered the press before it failed: say it in their own chat
                await query.get_bot().send_message(query.from_user.id, text, parse_mode=ParseMode.HTML)
        elif chat is not None and chat.type == ChatType.PRIVATE:
            await reply(update, text)
    except (NetworkError, Forbidden, BadRequest):
        pass  # Telegram is unreachable, the user blocked the bot or never opened it: the log has it all


class DiskAlarm:
    """Tells the Head and SLT once a spell that the bot cannot save, and once that it can again.

    The spell starts at the first refused write and ends when the data folder takes a write
    again with room to rewrite every data file, so a disk on the edge (a small write passes,
    a big one fails) does not ring the alarm at every change.
    """

    def __init__(self, bot: Bot, services: Services) -> None:
        self.bot = bot
        self.services = services
        self._seen = 0
        self._spell = False
        self._told: set[int] = set()  # leaders who have the alarm this spell
        self._done: set[int] = set()  # leaders it is settled for (told, or unreachable)
        self._lock = asyncio.Lock()

    async def check(self, now: datetime) -> datetime | None:
        """Timed work: ring, retry those not reached yet, or announce the recovery."""
        async with self._lock:
            health = self.services.db.health
            if health.failures > self._seen and not self._spell:
                self._spell, self._told, self._done = True, set(), set()
            self._seen = health.failures
            if not self._spell:
                return None
            if self._can_save():
                self._spell = False
                await self._send(
                    self._told, "✅ The school bot can save again. Anything staff were told was not saved needs doing again."
                )
                return None
            waiting = [uid for uid in self.services.staff.leaders() if uid not in self._done]
            reached = await self._send(waiting, self._alarm_text())
            self._told |= reached
            return now + RETRY if set(waiting) - self._done else None

    def _alarm_text(self) -> str:
        health = self.services.db.health
        folder = h(self.services.db.data_dir)
        if health.disk_full:
            problem = "<b>The school bot's disk is full</b>, so it cannot save anything new"
        else:
            problem = f"<b>The school bot cannot write to its disk</b> ({h(health.reason)}), so it cannot save anything new"
        return (
            f"⚠️ {problem}: staff are told their actions were not saved (misuse logs, consent checks, "
            f"staff changes). Please ask whoever looks after the bot's server to free space or check "
            f"the disk holding {folder}. I will tell you when it can save again."
        )

    def _can_save(self) -> bool:
        """A probe write passes and there is room to rewrite every data file."""
        folder = self.services.db.data_dir
        probe = folder / ".disk-probe.tmp"
        needed = sum(path.stat().st_size for path in folder.glob("*.json"))
        try:
            write_new_file(probe, b"\0" * 4096)
            probe.unlink()
            stats = os.statvfs(folder)
        except OSError:
            return False
        return stats.f_bavail * stats.f_frsize >= needed

    async def _send(self, people: Iterable[int], text: str) -> set[int]:
        """Send straight through Telegram; returns who got it. Blocked or unknown people are settled."""
        reached: set[int] = set()
        for user_id in list(people):
            try:
                await self.bot.send_message(user_id, text, parse_mode=ParseMode.HTML)
            except (Forbidden, BadRequest):  # blocked the bot, or never opened it: retrying cannot help
                self._done.add(user_id)
            except TelegramError as exc:
                log.warning("Disk alarm to user %s not sent yet: %s", user_id, type(exc).__name__)
            else:
                reached.add(user_id)
                self._done.add(user_id)
        return reached

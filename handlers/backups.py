"""The daily backup, run by the ticker; when one fails, the Head is told through the outbox."""

from __future__ import annotations

import asyncio
from datetime import datetime

from telegram.ext import Application

from bot.backups import BackupFailed
from bot.clock import local_day
from bot.records.audit import SYSTEM
from bot.roles import Role
from bot.shell.ticker import Runtime, TimedWork
from bot.wording import plural, when
from handlers.common import h
from handlers.menu import MenuCommand

COMMANDS: tuple[MenuCommand, ...] = ()


def backup_work(rt: Runtime) -> TimedWork:
    """At backup.time each day: a backup, unless the folder already has one of today (the CLI's counts)."""

    async def work(now: datetime) -> datetime | None:
        backups = rt.services.backups
        due = backups.due_at(now)
        if due is None or due > now:
            return due
        try:
            done = await asyncio.to_thread(backups.make)  # the snapshot needs no pause of the bot
        except BackupFailed as exc:
            rt.services.audit(SYSTEM, "backup failed", detail=str(exc))
            tell_heads(rt, now, str(exc))
        else:
            rt.services.audit(SYSTEM, "backup", done.archive.path.name, detail=plural(done.files, "file"))
        return backups.due_at(rt.services.clock.now())

    return work


def tell_heads(rt: Runtime, now: datetime, reason: str) -> None:
    """One message a day to each Head, however many retries fail: saved first, so it survives a restart."""
    day = local_day(now, rt.services.config.school.timezone)
    last = rt.services.backups.last_good()
    tz = rt.services.config.school.timezone
    since = f"The last good backup is from {when(last.made_at, now, tz)}." if last else "There is no good backup yet."
    text = (
        f"⚠️ <b>Today's backup failed</b>: {h(reason)}.\n{since}\n"
        "The bot tries again every hour. Check that the backup disk is connected and has room; /status shows how it stands."
    )
    for head in rt.services.staff.with_roles(Role.HEAD):
        rt.delivery.post(f"backup-failed:{day}:{head}", head, text)


def register(application: Application, rt: Runtime) -> None:
    rt.ticker.add("backup", backup_work(rt))

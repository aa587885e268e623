"""/status: the Head and SLT see in one message whether the bot is healthy (bot/status.py reads it)."""

from __future__ import annotations

from datetime import datetime, timedelta

from telegram import Update
from telegram.ext import Application, CommandHandler

from bot.retention import describe
from bot.roles import Permission
from bot.shell.ticker import Runtime, runtime
from bot.staff import staff_name
from bot.status import Status, read_status
from bot.wording import plural, when
from handlers.common import Actor, Context, h, reply, staff_only
from handlers.menu import MenuCommand
from handlers.paging import clip_text

COMMANDS = (MenuCommand("status", "How the bot is running: deliveries, backups, disk", Permission.VIEW_STATUS),)
LISTED_UNREACHABLE = 10


def size(count: int) -> str:
    """Bytes as a person reads them: "12.4 MB"."""
    if count < 1024:
        return f"{count:,} bytes"
    value = count / 1024
    for unit in ("KB", "MB"):
        if value < 1024:
            return f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:,.1f} GB"


def duration(span: timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    return f"{plural(days, 'day')} {hours} h" if days else f"{hours} h {minutes} min"


def render(rt: Runtime, status: Status) -> str:
    """The status as read the moment it arrives: "today 14:35", "yesterday 02:00" (bot.wording.when)."""
    tz, now = rt.services.config.school.timezone, rt.services.clock.now()

    def at(moment: datetime) -> str:
        return when(moment, now, tz)

    lines = [
        "<b>Status</b>",
        f"Version {h(status.version)}, running for {duration(status.uptime)} (since {at(status.started_at)}).",
    ]
    nudge = status.last_nudge
    lines.append(
        f"Last moderation nudge: {at(nudge.at)}, {nudge.outcome.value}"
        + (f", {at(nudge.checked_at)}" if nudge.checked_at else "")
        + "."
        if nudge
        else "Last moderation nudge: none in the last 30 days."
    )
    if status.waiting:
        assert status.oldest_waiting is not None
        lines.append(f"Messages waiting for delivery: {status.waiting}, the oldest since {at(status.oldest_waiting)}.")
    else:
        lines.append("Messages waiting for delivery: none.")
    if status.unreachable:
        names = [
            f"{h(clip_text(staff_name(rt.services.staff, uid), 40))} (since {at(since)})"
            for uid, since in status.unreachable[:LISTED_UNREACHABLE]
        ]
        more = len(status.unreachable) - LISTED_UNREACHABLE
        lines.append("People the bot cannot reach: " + ", ".join(names) + (f" and {more} more" if more > 0 else "") + ".")
    else:
        lines.append("People the bot cannot reach: none.")
    lines.append(f"Data folder: {size(status.data_bytes)}; free on its disk: {size(status.free_bytes)}.")
    if not status.backups_on:
        lines.append("Backups: <b>none configured</b> (backup.folder in the config).")
    else:
        last = status.last_backup
        lines.append(f"Last backup: {at(last.made_at)} ({size(last.size)})." if last else "Last backup: <b>none yet</b>.")
        if status.backup_failure:
            failed_at, reason = status.backup_failure
            lines.append(f"⚠️ The backup {at(failed_at)} failed: {h(reason)}.")
        if status.next_backup:
            lines.append(f"Next backup: {at(status.next_backup)}.")
        if status.backups_on_data_disk:
            lines.append(
                "⚠️ The backup folder is on the same disk as the data, so a broken disk would take both: "
                "is the NAS or USB disk mounted there?"
            )
    if status.set_aside:
        folders = ", ".join(status.set_aside)
        lines.append(
            f"⚠️ Files a restore replaced are still kept in the data folder ({h(folders)}): once all is well, "
            "delete them; retention does not reach them."
        )
    due = status.due_now
    lines.append(
        f"Next retention check: {at(status.next_check)}; "
        + (f"due for deletion now: {h(describe(due))}." if not due.empty else "nothing is due for deletion now.")
    )
    return "\n".join(lines)


@staff_only(Permission.VIEW_STATUS, action="status")
async def status(update: Update, context: Context, actor: Actor) -> None:
    rt = runtime(context)
    services = rt.services
    report = read_status(
        started_at=context.application.bot_data["started_at"],
        now=services.clock.now(),
        today=services.today(),
        data_dir=services.db.data_dir,
        moderation=services.moderation,
        outbox=services.outbox,
        staff=services.staff,
        backups=services.backups,
        retention=services.retention,
    )
    await reply(update, render(rt, report))


def register(application: Application, rt: Runtime) -> None:
    application.bot_data["started_at"] = rt.services.clock.now()
    application.add_handler(CommandHandler("status", status))

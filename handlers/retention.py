"""Retention: the weekly check shows the Head what is past its period; only their Delete removes it.

The domain (bot/retention.py) decides what is due and deletes it; this module only shows the preview,
passes the Head's answer on, and shows what was done.
"""

from __future__ import annotations

from datetime import datetime

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.clock import local_day, show_date, show_time
from bot.records.outbox import Buttons
from bot.records.retention import DueItems, Preview, PreviewState
from bot.retention import Answer
from bot.roles import Permission, Role
from bot.shell.callbacks import pack
from bot.shell.ticker import Runtime, TimedWork, runtime
from bot.wording import plural
from handlers.common import Actor, Context, admit_numbered, answer, h, reply, show, staff_only, tell
from handlers.menu import MenuCommand

COMMANDS = (MenuCommand("retention", "Records past their retention period, to delete", Permission.PURGE_RECORDS),)


def _thread(preview: Preview) -> str:
    return f"retention:{preview.id}"


def _month(key: str) -> str:
    """An audit file's month ("2024-01") as people write it: "Jan 2024"."""
    return datetime.strptime(key, "%Y-%m").strftime("%b %Y")


def _lines(rt: Runtime, items: DueItems) -> list[str]:
    c = rt.services.config.retention
    tz = rt.services.config.school.timezone

    def oldest(kind: str, what: str) -> str:
        at = items.oldest.get(kind)
        return f", the oldest {what} {show_date(local_day(at, tz))}" if at else ""

    lines = []
    if items.incidents:
        lines.append(
            f"• {plural(len(items.incidents), 'closed incident')} with {plural(items.evidence_files, 'screenshot')}"
            f"{oldest('incidents', 'closed')} (kept {plural(c.closed_incident_months, 'month')})"
        )
    if items.applications:
        lines.append(
            f"• {plural(len(items.applications), 'decided application')} to the parents' group"
            f"{oldest('applications', 'decided')} (kept {plural(c.decided_application_months, 'month')})"
        )
    if items.audit_months:
        lines.append(
            f"• {plural(len(items.audit_months), 'month')} of the audit log: {', '.join(map(_month, items.audit_months))} "
            f"(kept {plural(c.audit_months, 'month')})"
        )
    if items.pupils:
        lines.append(
            f"• {plural(len(items.pupils), 'pupil')} who left the school{oldest('pupils', 'first seen as left')} "
            f"(kept {plural(c.left_pupil_months, 'month')})"
        )
    return lines


def preview_text(rt: Runtime, preview: Preview) -> str:
    last = rt.services.backups.last_good()
    backup = (
        f"the last backup is from {show_time(last.made_at, rt.services.config.school.timezone)}"
        if last
        else "there is no backup yet"
    )
    return (
        f"🗂 <b>Records past their retention period</b> (as of {show_date(preview.as_of)})\n"
        + "\n".join(_lines(rt, preview.items))
        + f"\n\nDeleting them cannot be undone except by restoring a backup ({backup}). Nothing is deleted until you tap Delete."
    )


def preview_buttons(preview: Preview) -> Buttons:
    return ((("Delete these records", pack("ret", "ok", preview.id)), ("Cancel", pack("ret", "no", preview.id))),)


def retention_work(rt: Runtime) -> TimedWork:
    """Once a week: what is due goes to each Head as a preview with Delete and Cancel (nothing when none is)."""

    async def work(now: datetime) -> datetime:
        retention = rt.services.retention
        if retention.check_due(now):
            previous = retention.records.latest()
            preview = retention.preview()
            retire(rt, previous)
            if not preview.items.empty:
                text, buttons = preview_text(rt, preview), preview_buttons(preview)
                for head in rt.services.staff.with_roles(Role.HEAD):
                    key = f"retention:{preview.id}:{head}"
                    rt.delivery.post(key, head, text, buttons, thread=_thread(preview), needs=Permission.PURGE_RECORDS)
        return retention.next_check(now)

    return work


@staff_only(Permission.PURGE_RECORDS, action="retention preview")
async def retention(update: Update, context: Context, actor: Actor) -> None:
    """/retention: the same preview as the weekly check's, now."""
    rt = runtime(context)
    previous = rt.services.retention.records.latest()
    preview = rt.services.retention.preview()
    retire(rt, previous)
    if preview.items.empty:
        await reply(update, "Nothing is past its retention period today.")
        return
    # Through the outbox, as a copy of the list's thread: a newer list later takes its buttons away.
    key = f"retention:{preview.id}:{actor.user_id}"
    rt.delivery.post(key, actor.user_id, preview_text(rt, preview), preview_buttons(preview), thread=_thread(preview))


def retire(rt: Runtime, previous: Preview | None) -> None:
    """A list still waiting when a newer one is made loses its buttons: only the newest can be answered."""
    if previous is not None and previous.state == PreviewState.WAITING and not previous.items.empty:
        text = preview_text(rt, previous).split("\n\n")[0] + "\n\nReplaced by a newer list: nothing was deleted from this one."
        rt.delivery.edit_thread(_thread(previous), text)


async def retention_button(update: Update, context: Context) -> None:
    """Delete / Cancel under a preview: the role is checked again now, and a stale preview deletes nothing."""
    press = await admit_numbered(update, context, Permission.PURGE_RECORDS, action="retention purge")
    if press is None:
        return
    rt = runtime(context)
    outcome = rt.services.retention.answer(press.actor.user_id, press.number, press.callback.action == "ok")
    if outcome.answer is Answer.REFUSED:
        await tell(update, "Sorry, only the Head Teacher can delete records; nothing was deleted.")
        return
    if outcome.answer is Answer.STALE:
        await tell(update, "This list is out of date, so nothing was deleted. Send /retention for the current one.")
        return
    if outcome.answer is Answer.ALREADY:
        await tell(update, "This list has already been answered; nothing more was deleted.")
        return
    assert outcome.preview is not None
    who = h(press.actor.name)
    if outcome.answer is Answer.CANCELLED:
        text = preview_text(rt, outcome.preview).split("\n\n")[0] + f"\n\nCancelled by {who}: nothing was deleted."
    else:
        assert outcome.removed is not None
        text = (
            "🗑 <b>Deleted</b> by "
            + who
            + ":\n"
            + "\n".join(_lines(rt, outcome.removed) or ["• nothing (all of it was gone already)"])
        )
        text += "\n\nThis is recorded in the audit log. Only a backup from before today can bring it back."
    await answer(update)
    copies = rt.delivery.thread_copies(_thread(outcome.preview))
    if copies:
        rt.delivery.edit_thread(_thread(outcome.preview), text)
    else:
        await show(update, text)


def register(application: Application, rt: Runtime) -> None:
    rt.ticker.add("retention", retention_work(rt))
    application.add_handler(CommandHandler("retention", retention))
    application.add_handler(CallbackQueryHandler(retention_button, pattern=r"^1:ret:(ok|no):\d{1,9}$"))

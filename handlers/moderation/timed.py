"""The ticker's moderation work: the nudge, the reminders asked for, the Head's alert at the deadline, the weekly digest."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from bot.digest_chart import chart_series, render, save_chart
from bot.moderation import DigestDue, EscalationDue, NudgeDue
from bot.records.moderation import Reminder
from bot.roles import Permission
from bot.shell.ticker import Runtime, TimedWork
from handlers.common import MAX_CAPTION
from handlers.moderation.messages import (
    missed_thread,
    nudge_buttons,
    nudge_thread,
    render_digest,
    render_escalation,
    render_nudge,
    render_reminded_below,
)
from handlers.paging import utf16_len

log = logging.getLogger(__name__)
CHART_CAPTION = "📊 The last 12 weeks: incidents by category, and page moderation days checked and missed."
CHART_LINE = "The chart: the last 12 weeks' incidents by category, and page moderation days checked and missed."


def timed_work(rt: Runtime) -> TimedWork:
    """The ticker's moderation work: nudges, reminders, the deadline alert, the weekly digest."""

    async def work(now: datetime) -> datetime | None:
        moderation = rt.services.moderation_duty
        due = moderation.due(now)
        if due.nudge:
            _send_nudge(rt, due.nudge)
            moderation.record_nudge(due.nudge)
        for reminder in due.reminders:
            _send_reminder(rt, reminder)
            rt.services.moderation.drop_reminder(reminder)
        for reminder in due.stale_reminders:
            rt.services.moderation.drop_reminder(reminder)
        if due.escalation:
            _send_escalation(rt, due.escalation)
            moderation.record_escalation(due.escalation)
        if due.digest:
            await _send_digest(rt, due.digest)
            moderation.record_digest(due.digest)
        return due.next_at

    return work


def _send_nudge(rt: Runtime, due: NudgeDue) -> None:
    text = render_nudge(rt.services, due.day, due.duty.admins, late=due.late)
    for uid in due.duty.admins:
        if rt.delivery.unreachable(uid):
            continue  # the leaders were told; nudges resume once they next message the bot
        rt.delivery.post(f"nudge:{due.day}:{uid}", uid, text, nudge_buttons(due.day), thread=nudge_thread(due.day))


def _send_reminder(rt: Runtime, reminder: Reminder) -> None:
    day = reminder.day
    record = rt.services.moderation.day(day)
    on_duty = record.on_duty if record else rt.services.moderation_duty.duty(day).admins
    text = "⏰ <b>Reminder</b>\n" + render_nudge(rt.services, day, on_duty, late=False)
    thread = nudge_thread(day)
    # The copy they hold with live buttons: the latest (the nudge, or the reminder before this one).
    earlier = max(
        (c for c in rt.delivery.thread_copies(thread) if c.chat_id == reminder.user_id and c.message_id),
        key=lambda c: c.message_id,
        default=None,
    )
    rt.delivery.post(
        f"nudge:{day}:{reminder.user_id}:remind:{int(reminder.due_at.timestamp())}",
        reminder.user_id,
        text,
        nudge_buttons(day),
        thread=thread,
        needs=Permission.MODERATE,  # asked for before a revocation, it is not sent after one
    )
    if earlier is not None:  # it gives way to the reminder and loses its buttons
        rt.delivery.edit_copy(thread, earlier.chat_id, earlier.message_id, render_reminded_below(day))


def _send_escalation(rt: Runtime, due: EscalationDue) -> None:
    text = render_escalation(rt.services, due.day, due.on_duty)
    for head in due.heads:
        rt.delivery.post(f"missed:{due.day}:{head}", head, text, thread=missed_thread(due.day))


async def _send_digest(rt: Runtime, due: DigestDue) -> None:
    """One message: the chart (drawn off the event loop) with the digest as its caption; a digest too long
    for a caption follows the chart, and a chart that cannot be drawn leaves the text to go alone."""
    chart = await digest_chart(rt, due)
    caption, text = digest_messages(render_digest(rt.services, due))
    for head in due.heads:
        if chart:
            rt.delivery.post(f"digest:{due.day}:{head}:chart", head, caption, photo=chart, thread=f"digest:{due.day}:chart")
        if text or not chart:
            rt.delivery.post(f"digest:{due.day}:{head}", head, text or caption, thread=f"digest:{due.day}")


def digest_messages(digest: str) -> tuple[str, str]:
    """The chart's caption and the text after it: the whole digest as the caption when it fits (one buzz
    for the Head), else the chart's own short caption and the digest as a text of its own."""
    whole = f"{digest}\n\n{CHART_LINE}"
    if utf16_len(whole) <= MAX_CAPTION:  # measured with its tags: safely short of Telegram's count
        return whole, ""
    return CHART_CAPTION, digest


async def digest_chart(rt: Runtime, due: DigestDue) -> str:
    """The week's chart saved in the data folder (its path there), or "" when it could not be drawn."""
    services = rt.services
    data = chart_series(services.incidents, services.moderation_duty, due.last, services.config.school.timezone)
    try:
        png = await asyncio.to_thread(render, data)
        return save_chart(services.db.data_dir, due.day, png)
    except (OSError, ValueError, RuntimeError, ImportError) as exc:
        log.error("The digest chart for %s could not be drawn or saved (%s); the text goes alone", due.day, type(exc).__name__)
        return ""

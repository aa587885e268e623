"""/incidents, /incident N (the record, its evidence and, for leaders, its buttons), /bans (/export: handlers.exports)."""

from __future__ import annotations

import logging

from telegram import Message, Update
from telegram.error import BadRequest

from bot.escalation import record_thread
from bot.incidents import parse_ref
from bot.records.incidents import IncidentState
from bot.records.outbox import Buttons, OutboxItem, OutboxState
from bot.roles import Permission, allows
from bot.shell.delivery import picture_refused
from bot.shell.delivery.recipients import audience_for
from bot.shell.ticker import Runtime, runtime
from handlers.common import Actor, Context, admit_numbered, command_args, paged, reply, show, staff_only
from handlers.incidents.alerts import redraw_record, settled
from handlers.incidents.messages import ban_line, listing_line, record_text, view_buttons
from handlers.incidents.shared import incident_log, school_tz
from handlers.paging import page_of, split_html
from storage.atomic import WriteFailed

log = logging.getLogger(__name__)


async def show_incidents(update: Update, context: Context, actor: Actor, number: int) -> None:
    """/incidents: open ones first, a page at a time."""
    rt = runtime(context)
    incidents = rt.services.incident_log.listing(actor.user_id)
    if not incidents:
        await show(update, "No incidents have been logged.")
        return
    page = page_of([listing_line(i, school_tz(rt)) for i in incidents], number, per_page=10)
    waiting = sum(1 for i in incidents if i.state != IncidentState.CLOSED)
    await show(
        update,
        f"<b>Incidents</b> ({waiting} not closed, {len(incidents)} in all)\n"
        + "\n".join(page.lines)
        + page.footer
        + "\n\n/incident N shows one with its evidence.",
        page.buttons("inc"),
    )


@staff_only(Permission.VIEW_INCIDENTS)
async def show_incident(update: Update, context: Context, actor: Actor) -> None:
    """/incident N: the record, then the stored evidence itself."""
    rt = runtime(context)
    number = parse_ref(command_args(context))
    if number is None:
        await reply(update, "Usage: <code>/incident 42</code> or <code>/incident INC-0042</code>. /incidents lists them.")
        return
    incidents = rt.services.incident_log
    incident = incidents.view(number, actor.user_id)
    if incident is None:
        await reply(update, f"There is no incident INC-{number:04d}.")
        return
    intact = [incidents.evidence_intact(e) for e in incident.evidence]
    actions = incidents.actions(number)
    # A Head who lost the alert acts from here: Acknowledge first, then the actions (each press role-checked).
    buttons = view_buttons(incident, actions) if allows(actor.role, Permission.ACT_ON_ALERTS) else ()
    # Every line of the record is whole HTML, so a record too long for one message splits between lines.
    record = record_text(incident, actions, incidents.ban_for(number), intact, school_tz(rt))
    *first, last = split_html(record.split("\n"))
    for part in first:
        await reply(update, part)
    shown = await reply(update, last, buttons)
    if buttons:
        track_record(rt, number, shown, last, buttons)
    chat = update.effective_chat
    assert chat is not None
    total = len(incident.evidence)
    for index, (item, ok) in enumerate(zip(incident.evidence, intact, strict=True), start=1):
        caption = f"{incident.ref} · screenshot {index} of {total}"
        if ok:
            stored = rt.services.incidents.evidence.file(item.path)
            try:
                await chat.send_photo(photo=stored, caption=caption)
            except BadRequest as exc:  # too big, too long or too thin for a photo: the file itself
                if not picture_refused(exc):
                    raise
                await chat.send_document(document=stored, caption=caption)
        elif item.kind == "photo":
            await chat.send_photo(photo=item.file_id, caption=caption + " (Telegram's copy)")


def track_record(rt: Runtime, number: int, shown: Message, text: str, buttons: Buttons) -> None:
    """The record's buttons follow the incident like an alert copy's: saved as a copy of its thread
    (already sent), `refresh` edits it whenever the incident changes, while its reader may still act.

    A disk that refuses leaves this record untracked: a tap on it is still redrawn (`redraw_record`).
    """
    now = rt.services.clock.now()
    copy = OutboxItem(
        f"{record_thread(number)}:{shown.chat_id}:{shown.message_id}",
        shown.chat_id,
        text,
        now,
        now,
        buttons=buttons,
        thread=record_thread(number),
        state=OutboxState.SENT,
        sent_at=now,
        message_id=shown.message_id,
        audience=audience_for(None, Permission.ACT_ON_ALERTS),
    )
    try:
        rt.services.outbox.enqueue(copy)
    except WriteFailed:
        log.warning("The record of INC-%04d shown to a leader is not tracked: the disk refused the outbox write", number)


async def acknowledge_from_record(update: Update, context: Context) -> None:
    """Acknowledge under /incident N: as on the alert, then the record offers the actions."""
    press = await admit_numbered(update, context, Permission.ACT_ON_ALERTS, action="acknowledge incident")
    if press is None:
        return
    result = incident_log(context).acknowledge(press.number, press.actor.user_id, press.actor.name)
    await settled(update, context, result, "Acknowledged. The reminders have stopped.")
    await redraw_record(update, context, press.actor, press.number)


async def show_bans(update: Update, context: Context, actor: Actor, number: int) -> None:
    """/bans: the ban register, newest first, a page at a time."""
    rt = runtime(context)
    bans = rt.services.incident_log.bans(actor.user_id)
    if not bans:
        await show(update, "The ban register is empty.")
        return
    page = page_of([ban_line(b, school_tz(rt)) for b in bans], number, per_page=10)
    await show(update, f"<b>Ban register</b> ({len(bans)})\n" + "\n".join(page.lines) + page.footer, page.buttons("bans"))


list_incidents, incidents_page = paged(Permission.VIEW_INCIDENTS, "list incidents", show_incidents)
list_bans, bans_page = paged(Permission.VIEW_INCIDENTS, "list bans", show_bans)

"""Alerts to the Head and their buttons: leaders act with one tap, and every copy of the alert,
and the reporter's receipt, is edited to show what was done.
"""

from __future__ import annotations

from telegram import Message, Update

from bot.escalation import alert_thread, ping_thread, receipt_thread, record_thread
from bot.incidents import OUTCOMES, ActionKind, ActionResult, ActionStatus, IncidentLog, action_kind
from bot.records.incidents import IncidentState
from bot.records.outbox import Buttons
from bot.roles import Permission, allows
from bot.shell.callbacks import pack
from bot.shell.ticker import Runtime, runtime
from bot.wording import when
from handlers.common import Actor, Context, admit, answer, callback_of, show
from handlers.incidents.escalation import receipt_view
from handlers.incidents.messages import alert_buttons, alert_caption, ping_text, record_text, view_buttons
from handlers.incidents.shared import incident_log, say, school_tz
from handlers.paging import split_html


def refresh(rt: Runtime, incidents: IncidentLog, number: int) -> None:
    """Show the incident as it stands now on every copy of its alert, its re-pings and the reporter's receipt."""
    incident = incidents.get(number)
    if incident is None:
        return
    actions = incidents.actions(number)
    ban = incidents.ban_for(number)
    tz = school_tz(rt)
    rt.delivery.edit_thread(alert_thread(number), alert_caption(incident, actions, ban, tz), alert_buttons(incident, actions))
    rt.delivery.edit_thread(ping_thread(number), ping_text(incident, actions, tz))
    rt.delivery.edit_thread(receipt_thread(number), *receipt_view(rt, incident))
    if rt.delivery.thread_copies(record_thread(number)):
        view = record_view(rt, number)
        if view is not None:
            rt.delivery.edit_thread(record_thread(number), *view)


async def settled(update: Update, context: Context, result: ActionResult, done_text: str) -> None:
    """After a button's decision is saved: update every copy, then tell the person who tapped."""
    rt = runtime(context)
    tz, now = school_tz(rt), rt.services.clock.now()  # a pop-up is read as it arrives: "today 14:35"
    if result.status == ActionStatus.MISSING or result.incident is None:
        await answer(update, "There is no such incident.")
    elif result.status == ActionStatus.REFUSED:
        await answer(update, "Sorry, only the Head Teacher, the deputy and SLT (or the person who logged it) can do that.")
    elif result.status == ActionStatus.ALREADY:
        incident = result.incident
        action = result.action
        if action is None and incident.state == IncidentState.CLOSED:  # closed since the tapped message was drawn
            action = next(
                (a for a in rt.services.incident_log.actions(incident.number) if a.kind == ActionKind.CLOSED.value), None
            )
        if action is not None and action.kind == ActionKind.CLOSED.value:
            earlier = action
            text = f"{incident.ref} is already closed: {earlier.detail}, by {earlier.by_name}, {when(earlier.at, now, tz)}."
        elif result.action is not None:
            kind = action_kind(result.action.kind)
            what = kind.label if kind else result.action.kind
            text = f"Already recorded: {what} by {result.action.by_name}, {when(result.action.at, now, tz)}."
        elif incident.state == IncidentState.CLOSED:
            text = f"{incident.ref} is already closed."
        else:
            at = when(incident.acknowledged_at or incident.opened_at, now, tz)
            text = f"Already acknowledged by {incident.acknowledged_name}, {at}."
        await answer(update, text)
    else:
        refresh(rt, rt.services.incident_log, result.incident.number)
        await answer(update, done_text)


def _tracked(rt: Runtime, number: int, message: Message) -> bool:
    """A copy of the alert, of the receipt or of a tracked record: `refresh` keeps those up to date through the outbox."""
    threads = (alert_thread(number), receipt_thread(number), record_thread(number))
    copies = [c for thread in threads for c in rt.delivery.thread_copies(thread)]
    return any(c.chat_id == message.chat_id and c.message_id == message.message_id for c in copies)


def pressed_record(update: Update, rt: Runtime, actor: Actor, number: int) -> Message | None:
    """The /incident N record a button was pressed on that nothing else keeps up to date.

    A record shown since records are tracked is edited by `refresh` with every copy; one the
    outbox does not (or no longer) keep is redrawn here on a tap. Only leaders are shown its
    buttons; a photo is an alert whose outbox copy was forgotten after OUTBOX_KEEP.
    """
    query = update.callback_query
    message = query.message if query else None
    if not isinstance(message, Message) or message.text is None or _tracked(rt, number, message):
        return None
    return message if allows(actor.role, Permission.ACT_ON_ALERTS) else None


def record_view(rt: Runtime, number: int) -> tuple[str, Buttons] | None:
    """The record as it now stands: its last part (a long record is sent in parts) and its buttons."""
    incidents = rt.services.incident_log
    incident = incidents.get(number)
    if incident is None:
        return None
    actions = incidents.actions(number)
    intact = [incidents.evidence_intact(e) for e in incident.evidence]
    record = record_text(incident, actions, incidents.ban_for(number), intact, school_tz(rt))
    return split_html(record.split("\n"))[-1], view_buttons(incident, actions)


async def redraw_record(update: Update, context: Context, actor: Actor, number: int) -> None:
    """A tap on the /incident N record: show the record as it now stands."""
    rt = runtime(context)
    view = record_view(rt, number) if pressed_record(update, rt, actor, number) else None
    if view is not None:
        await show(update, *view)


async def acknowledge(update: Update, context: Context) -> None:
    """Acknowledge: stops the re-pings and shows on every copy who acknowledged and when."""
    actor = await admit(update, context, Permission.ACT_ON_ALERTS, action="acknowledge incident")
    callback = callback_of(update)
    number = callback.int_arg(0) if callback else None
    if actor is None:
        return
    if number is None:
        await answer(update, "This button has expired.")
        return
    result = incident_log(context).acknowledge(number, actor.user_id, actor.name)
    await settled(update, context, result, "Acknowledged. The reminders have stopped.")


async def record_action(update: Update, context: Context) -> None:
    """Comment removed, reported externally, parent contacted, logged on CPOMS: recorded once."""
    actor = await admit(update, context, Permission.LOG_MISUSE, action="incident action")
    callback = callback_of(update)
    if actor is None:
        return
    number = callback.int_arg(0) if callback else None
    kind = action_kind(callback.args[1]) if callback and len(callback.args) > 1 else None
    if number is None or kind is None or kind in (ActionKind.BANNED, ActionKind.CLOSED):
        await answer(update, "This button has expired.")
        return
    result = incident_log(context).record_action(number, kind, actor.user_id, actor.name)
    await settled(update, context, result, f"Recorded: {kind.label}.")
    await redraw_record(update, context, actor, number)


async def ask_outcome(update: Update, context: Context) -> None:
    """Close: choose an outcome on this copy (nothing changes until one is chosen)."""
    actor = await admit(update, context, Permission.ACT_ON_ALERTS, action="close incident")
    callback = callback_of(update)
    if actor is None:
        return
    incidents = incident_log(context)
    incident = incidents.get(callback.int_arg(0) or 0) if callback else None
    if incident is None:
        await answer(update, "There is no such incident.")
        return
    if incident.state == IncidentState.CLOSED:  # closed meanwhile, from another copy: this one shows it now
        await settled(update, context, ActionResult(ActionStatus.ALREADY, incident), "")
        await redraw_record(update, context, actor, incident.number)
        return
    n = incident.number
    rows = tuple(((label, pack("inc", "shut", n, key)),) for key, label in OUTCOMES.items())
    caption = alert_caption(incident, incidents.actions(n), incidents.ban_for(n), school_tz(runtime(context)))
    await answer(update)
    await say(update, caption, (*rows, (("« Back", pack("inc", "back", n)),)))


async def back_to_alert(update: Update, context: Context) -> None:
    """« Back from the outcome choice: the alert as it stands."""
    if await admit(update, context, Permission.ACT_ON_ALERTS, action="view incident alert") is None:
        return
    callback = callback_of(update)
    incidents = incident_log(context)
    incident = incidents.get(callback.int_arg(0) or 0) if callback else None
    if incident is None:
        await answer(update, "There is no such incident.")
        return
    actions = incidents.actions(incident.number)
    await answer(update)
    await say(
        update,
        alert_caption(incident, actions, incidents.ban_for(incident.number), school_tz(runtime(context))),
        alert_buttons(incident, actions),
    )


async def close_incident(update: Update, context: Context) -> None:
    """An outcome chosen: the incident is closed, once, and every copy says so."""
    actor = await admit(update, context, Permission.ACT_ON_ALERTS, action="close incident")
    callback = callback_of(update)
    if actor is None:
        return
    number = callback.int_arg(0) if callback else None
    outcome = callback.args[1] if callback and len(callback.args) > 1 else ""
    if number is None or outcome not in OUTCOMES:
        await answer(update, "This button has expired.")
        return
    result = incident_log(context).close(number, outcome, actor.user_id, actor.name)
    await settled(update, context, result, f"Closed: {OUTCOMES[outcome]}.")
    await redraw_record(update, context, actor, number)

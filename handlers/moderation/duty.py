"""/rota, /checked, /moderation and the nudge's buttons: an admin says the page is checked, a leader changes the rota."""

from __future__ import annotations

from datetime import date

from telegram import Message, Update

from bot.clock import show_clock
from bot.moderation import FINE, HISTORY_DAYS, PROBLEM, CheckResult, Moderation, RotaError, parse_rota
from bot.records.moderation import Reminder, Rota, RotaKind
from bot.records.outbox import OutboxState
from bot.roles import Permission, allows
from bot.shell.ticker import Runtime, runtime
from handlers.common import Actor, Context, admit, answer, callback_of, command_args, h, paged, reply, show, staff_only
from handlers.moderation.messages import (
    CHECKED_USAGE,
    ROTA_USAGE,
    log_button,
    missed_thread,
    nudge_thread,
    render_answered_below,
    render_check_alert,
    render_check_answer,
    render_checked,
    render_checked_line,
    render_escalation,
    render_history,
    render_rota,
    rota_buttons,
)
from handlers.paging import send_long


@staff_only(Permission.MODERATE)
async def rota(update: Update, context: Context, actor: Actor) -> None:
    """Shows who is on duty today and this week; SLT and the Head can change it from here."""
    text = command_args(context)
    rt = runtime(context)
    moderation = rt.services.moderation_duty
    if not text:
        await send_long(update, render_rota(rt.services, moderation, actor), rota_buttons(actor))
        return
    if not allows(actor.role, Permission.MANAGE_ROTA):
        rt.services.audit(actor.user_id, "rota change", "rota", outcome="refused: role")
        await reply(update, "Sorry, only SLT and the Head Teacher can change the rota. Send /rota to see it.")
        return
    try:
        new = parse_rota(text, moderation.today(), rt.services.staff.active())
    except RotaError as exc:
        await reply(update, f"{h(exc)}\n\n{ROTA_USAGE}")
        return
    changed = moderation.change_rota(actor.user_id, new)
    note = "✅ Rota changed." if changed else "The rota was already like that; nothing changed."
    await send_long(update, [note, "", *render_rota(rt.services, moderation, actor)], rota_buttons(actor))


@staff_only(Permission.MODERATE)
async def checked(update: Update, context: Context, actor: Actor) -> None:
    """An admin says the page is checked today: all fine, or a problem to log."""
    word = command_args(context).lower()
    outcome = {"": FINE, "fine": FINE, "ok": FINE, "problem": PROBLEM}.get(word)
    if outcome is None:
        await reply(update, CHECKED_USAGE)
        return
    rt = runtime(context)
    moderation = rt.services.moderation_duty
    result = moderation.check(actor.user_id, moderation.today(), outcome)
    _after_check(rt, moderation, result)
    if result.recorded and result.record is not None:  # their own nudge points here rather than repeat it
        thread = nudge_thread(result.record.day)
        for copy in rt.delivery.thread_copies(thread):
            if copy.chat_id == actor.user_id and copy.state == OutboxState.SENT:
                rt.delivery.edit_copy(thread, copy.chat_id, copy.message_id, render_answered_below(result.record.day, outcome))
    await reply(update, render_check_answer(rt.services, result, outcome), log_button(outcome))


async def nudge_button(update: Update, context: Context) -> None:
    """An on-duty admin taps "Page checked, all fine" or "Found a problem" on the nudge."""
    actor = await admit(update, context, Permission.MODERATE, action="moderation check")
    callback = callback_of(update)
    day = _day_arg(callback.args[0] if callback and callback.args else "")
    if actor is None:
        return
    if callback is None or day is None:
        await answer(update, "This button has expired. Please send /checked instead.")
        return
    outcome = FINE if callback.action == "ok" else PROBLEM
    rt = runtime(context)
    moderation = rt.services.moderation_duty
    result = moderation.check(actor.user_id, day, outcome)
    _after_check(rt, moderation, result)
    if outcome != PROBLEM or result.refusal:
        await answer(update, render_check_alert(rt.services, result))
        return
    # Even a second finder may log what they saw: the nudge they tapped becomes the way to do it.
    text = render_check_answer(rt.services, result, outcome)
    message = update.callback_query.message if update.callback_query else None
    on_nudge = isinstance(message, Message) and rt.delivery.edit_copy(
        nudge_thread(day), message.chat_id, message.message_id, text, log_button(outcome)
    )
    await answer(update)
    if not on_nudge:  # a nudge the outbox no longer keeps (months old): the answer comes below
        await reply(update, text, log_button(outcome))


async def remind_button(update: Update, context: Context) -> None:
    """ "Remind me in an hour": a stored reminder the ticker sends again, surviving restarts."""
    actor = await admit(update, context, Permission.MODERATE, action="moderation remind")
    callback = callback_of(update)
    day = _day_arg(callback.args[0] if callback and callback.args else "")
    if actor is None:
        return
    if day is None:
        await answer(update, "This button has expired.")
        return
    rt = runtime(context)
    outcome = rt.services.moderation_duty.remind_later(actor.user_id, day)
    if isinstance(outcome, Reminder):
        tz = rt.services.config.school.timezone
        await answer(update, f"OK, I'll remind you at {show_clock(outcome.due_at, tz)}.")
    else:
        await answer(update, render_check_alert(rt.services, outcome))


async def rota_button(update: Update, context: Context) -> None:
    """A leader taps a quick rota change under /rota (rotate through all admins, or clear)."""
    actor = await admit(update, context, Permission.MANAGE_ROTA, action="rota change")
    callback = callback_of(update)
    if actor is None:
        return
    if callback is None or not callback.args:
        await answer(update, "This button has expired.")
        return
    rt = runtime(context)
    moderation = rt.services.moderation_duty
    kind = {k.value: k for k in (RotaKind.DAILY, RotaKind.WEEKLY, RotaKind.EVERYONE)}.get(callback.args[0])
    if kind is None:
        await answer(update, "This button has expired.")
        return
    try:
        new = Rota(kind, starts=moderation.today()) if kind is RotaKind.EVERYONE else moderation.rotate_all_admins(kind)
    except RotaError as exc:
        await answer(update, str(exc))
        return
    if not moderation.change_rota(actor.user_id, new):
        await answer(update, "Nothing changed.")  # a double tap: the card already shows this rota
        return
    await answer(update, "Rota changed.")
    await send_long(update, render_rota(rt.services, moderation, actor), rota_buttons(actor), edit=True)


async def show_history(update: Update, context: Context, actor: Actor, number: int) -> None:
    """The last 30 days of page moderation: on time, late, missed, by whom."""
    rt = runtime(context)
    moderation = rt.services.moderation_duty
    results = moderation.history(HISTORY_DAYS)
    text, buttons = render_history(rt.services, results, moderation.compliance(results), number)
    await show(update, text, buttons)


history, history_page = paged(Permission.MODERATE, "moderation history", show_history)


def _after_check(rt: Runtime, moderation: Moderation, result: CheckResult) -> None:
    """A new answer updates every copy of the day's nudge, and the Head's alert if one went out."""
    record = result.record
    if not result.recorded or record is None:
        return
    rt.delivery.edit_thread(nudge_thread(record.day), render_checked(rt.services, result))
    if record.escalated_at:
        rt.delivery.edit_thread(
            missed_thread(record.day),
            render_escalation(rt.services, record.day, record.on_duty) + "\n\n" + render_checked_line(rt.services, result),
        )


def _day_arg(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None

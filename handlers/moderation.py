"""The daily "moderate the page" nudge (policy 5.1): /rota, /checked, /moderation, the nudge buttons,
and the timed work that nudges, reminds, tells the Head at the deadline and sends the weekly digest.

Every message of this capability is built by the render functions at the bottom, with `h()`
escaping each name. The timed work asks the domain what is owed and sends it through durable
delivery with a key per day (or week), so nothing is lost and nothing is sent twice.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.clock import show_clock, show_date, show_day
from bot.config import WEEKDAYS
from bot.moderation import (
    FINE,
    HISTORY_DAYS,
    PROBLEM,
    CheckResult,
    Compliance,
    DayResult,
    DayStatus,
    DigestDue,
    Duty,
    EscalationDue,
    Moderation,
    NudgeDue,
    RotaError,
    parse_rota,
)
from bot.records.moderation import Reminder, Rota, RotaKind
from bot.records.outbox import Buttons
from bot.roles import Permission, allows
from bot.services import Services
from bot.shell.callbacks import pack
from bot.shell.ticker import Runtime, TimedWork, runtime
from bot.staff import staff_name
from handlers.common import (
    Actor,
    Context,
    admit,
    answer,
    callback_of,
    command_args,
    h,
    paged,
    paginate,
    reply,
    show,
    staff_only,
)
from handlers.menu import MenuCommand
from handlers.paging import clip_text, send_long

COMMANDS = (
    MenuCommand("rota", "Who moderates the page today and this week", Permission.MODERATE),
    MenuCommand("checked", "I have checked the page today", Permission.MODERATE),
    MenuCommand("moderation", "Page moderation over the last 30 days", Permission.MODERATE),
)

ROTA_USAGE = (
    "<b>To change the rota</b> (ids or first names):\n"
    "<code>/rota daily ID ID ...</code> — take turns, one moderation day each\n"
    "<code>/rota weekly ID ID ...</code> — take turns, one week (Mon–Sun) each\n"
    "<code>/rota fixed mon ID,ID tue ID ...</code> — the same people every week; a day left out means every admin\n"
    "<code>/rota clear</code> — nobody on the rota: every page administrator is nudged"
)
CHECKED_USAGE = "Usage: <code>/checked</code> (all fine) or <code>/checked problem</code>."


# ---- commands ---------------------------------------------------------------------------------


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
    note = "✔️ Rota changed." if changed else "The rota was already like that; nothing changed."
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
    await reply(update, render_check_answer(rt.services, result, outcome), _log_button(outcome))


# ---- buttons ----------------------------------------------------------------------------------


async def nudge_button(update: Update, context: Context) -> None:
    """An on-duty admin taps "Page checked, all fine" or "Found a problem" on the nudge."""
    actor = await admit(update, context, Permission.MODERATE, action="moderation check")
    callback = callback_of(update)
    day = _day_arg(callback.args[0] if callback and callback.args else "")
    if actor is None or callback is None:
        return
    if day is None:
        await answer(update, "This button has expired. Please send /checked instead.")
        return
    outcome = FINE if callback.action == "ok" else PROBLEM
    rt = runtime(context)
    moderation = rt.services.moderation_duty
    result = moderation.check(actor.user_id, day, outcome)
    _after_check(rt, moderation, result)
    await answer(update, render_check_alert(rt.services, result))
    if outcome == PROBLEM and not result.refusal:  # even a second finder may log what they saw
        await reply(update, render_check_answer(rt.services, result, outcome), _log_button(outcome))


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
    if actor is None or callback is None or not callback.args:
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
    rt.delivery.edit_thread(_nudge_thread(record.day), render_checked(rt.services, result))
    if record.escalated_at:
        rt.delivery.edit_thread(
            _missed_thread(record.day),
            render_escalation(rt.services, record.day, record.on_duty) + "\n\n" + render_checked_line(rt.services, result),
        )


def _day_arg(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _log_button(outcome: str) -> Buttons:
    return ((("Log it now", pack("log", "start")),),) if outcome == PROBLEM else ()


# ---- timed work -------------------------------------------------------------------------------


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
            _send_digest(rt, due.digest)
            moderation.record_digest(due.digest)
        return due.next_at

    return work


def _send_nudge(rt: Runtime, due: NudgeDue) -> None:
    text = render_nudge(rt.services, due.day, due.duty.admins, late=due.late)
    for uid in due.duty.admins:
        if rt.delivery.unreachable(uid):
            continue  # the leaders were told; nudges resume once they next message the bot
        rt.delivery.post(f"nudge:{due.day}:{uid}", uid, text, nudge_buttons(due.day), thread=_nudge_thread(due.day))


def _send_reminder(rt: Runtime, reminder: Reminder) -> None:
    day = reminder.day
    record = rt.services.moderation.day(day)
    on_duty = record.on_duty if record else rt.services.moderation_duty.duty(day).admins
    text = "⏰ <b>Reminder</b>\n" + render_nudge(rt.services, day, on_duty, late=False)
    rt.delivery.post(
        f"nudge:{day}:{reminder.user_id}:remind:{int(reminder.due_at.timestamp())}",
        reminder.user_id,
        text,
        nudge_buttons(day),
        thread=_nudge_thread(day),
        needs=Permission.MODERATE,  # asked for before a revocation, it is not sent after one
    )


def _send_escalation(rt: Runtime, due: EscalationDue) -> None:
    text = render_escalation(rt.services, due.day, due.on_duty)
    for head in due.heads:
        rt.delivery.post(f"missed:{due.day}:{head}", head, text, thread=_missed_thread(due.day))


def _send_digest(rt: Runtime, due: DigestDue) -> None:
    text = render_digest(rt.services, due)
    for head in due.heads:
        rt.delivery.post(f"digest:{due.day}:{head}", head, text, thread=f"digest:{due.day}")


def _nudge_thread(day: date) -> str:
    return f"nudge:{day}"


def _missed_thread(day: date) -> str:
    return f"missed:{day}"


def nudge_buttons(day: date) -> Buttons:
    return (
        (("Page checked, all fine", pack("mod", "ok", day.isoformat())),),
        (("Found a problem", pack("mod", "problem", day.isoformat())),),
        (("Remind me in an hour", pack("mod", "remind", day.isoformat())),),
    )


def rota_buttons(actor: Actor) -> Buttons:
    if not allows(actor.role, Permission.MANAGE_ROTA):
        return ()
    return (
        (
            ("Rotate daily: all admins", pack("mod", "rota", RotaKind.DAILY.value)),
            ("Rotate weekly: all admins", pack("mod", "rota", RotaKind.WEEKLY.value)),
        ),
        (("Clear: every admin", pack("mod", "rota", RotaKind.EVERYONE.value)),),
    )


# ---- messages ---------------------------------------------------------------------------------


NAME_UNITS = 40  # a Telegram name can be 128 characters; lists show the first 40
LISTED_NAMES = 8  # a nudge or a day's line names this many, then "and N more"


def _name(services: Services, user_id: int) -> str:
    return h(clip_text(staff_name(services.staff, user_id), NAME_UNITS))


def _names(services: Services, ids: tuple[int, ...], limit: int = LISTED_NAMES) -> str:
    """Names for one line: never more than `limit`, so the line stays short with any rota."""
    if not ids:
        return "nobody (there are no page administrators)"
    shown = ", ".join(_name(services, uid) for uid in ids[:limit])
    return shown + (f" and {len(ids) - limit} more" if len(ids) > limit else "")


def _name_lines(services: Services, ids: tuple[int, ...]) -> list[str]:
    """Everyone, a few to a line: the rota itself lists every person, over several messages if need be."""
    return [", ".join(_name(services, uid) for uid in ids[i : i + LISTED_NAMES]) for i in range(0, len(ids), LISTED_NAMES)]


def _at(services: Services, moment: datetime) -> str:
    return show_clock(moment, services.config.school.timezone)


def render_nudge(services: Services, day: date, on_duty: tuple[int, ...], *, late: bool) -> str:
    deadline = f"{services.config.moderation.deadline:%H:%M}"
    ask = (
        f"The {deadline} deadline has passed: please check it as soon as you can."
        if late
        else f"Please check it by {deadline} and tap a button below."
    )
    return (
        f"🧹 <b>Moderate the page</b> — {show_day(day)}\n"
        "Please look through the school's page: new comments, messages and tags (policy 5.1).\n"
        f"On duty today: {_names(services, on_duty)}.\n{ask}"
    )


def render_checked_line(services: Services, result: CheckResult) -> str:
    record = result.record
    assert record is not None and record.checked_at is not None
    what = "all fine" if record.outcome == FINE else "found a problem"
    late = f" (after the {services.config.moderation.deadline:%H:%M} deadline)" if result.late else ""
    return f"Checked by {_name(services, record.checked_by)} at {_at(services, record.checked_at)}{late}: {what}."


def render_checked(services: Services, result: CheckResult) -> str:
    record = result.record
    assert record is not None
    title = "✅ <b>Page checked</b>" if record.outcome == FINE else "⚠️ <b>Page checked: a problem was found</b>"
    return f"{title} — {show_day(record.day)}\n{render_checked_line(services, result)}"


def render_check_alert(services: Services, result: CheckResult) -> str:
    """A short plain-text answer on a button press (no HTML: it shows as a popup)."""
    record = result.record
    if result.refusal == "no duty":
        return "Today is not a moderation day: nothing to record."
    if result.refusal == "day over":
        return "That day is over. Send /checked for today."
    assert record is not None and record.checked_at is not None
    who = staff_name(services.staff, record.checked_by)
    what = "all fine" if record.outcome == FINE else "found a problem"
    if result.recorded:
        return f"Thank you: recorded as {what}."
    return f"Already checked today by {who} at {_at(services, record.checked_at)} ({what})."


def render_check_answer(services: Services, result: CheckResult, outcome: str) -> str:
    """The reply to /checked (and to "Found a problem", with the Log it now button)."""
    if not result.recorded:
        text = h(render_check_alert(services, result))
        if outcome == PROBLEM and not result.refusal:
            text += "\nYou can still log what you found: tap <b>Log it now</b>."
        return text
    text = render_checked(services, result)
    if outcome == PROBLEM:
        text += "\nPlease log what you found now: tap <b>Log it now</b> and send a screenshot."
    return text


def render_escalation(services: Services, day: date, on_duty: tuple[int, ...]) -> str:
    deadline = f"{services.config.moderation.deadline:%H:%M}"
    return (
        f"🔴 <b>The page has not been moderated today</b> — {show_day(day)}\n"
        f"Nobody has checked the school's page by the {deadline} deadline (policy 5.1).\n"
        f"On duty: {_names(services, on_duty)}."
    )


def render_rota(services: Services, moderation: Moderation, actor: Actor) -> list[str]:
    """The rota as lines (elements): sent as one message, or split between lines when long."""
    config = services.config.moderation
    current = services.moderation.rota()
    today = moderation.today()
    lines = [
        "<b>Page moderation rota</b>",
        *_describe_rota(services, current),
        f"Nudge at {config.nudge_time:%H:%M}, deadline {config.deadline:%H:%M} (school time).",
        "",
        f"<b>Today</b>, {_duty_line(services, moderation.duty(today))}",
        "<b>Coming days</b>",
    ]
    lines += [_duty_line(services, moderation.duty(today + timedelta(days=n))) for n in range(1, 7)]
    if allows(actor.role, Permission.MANAGE_ROTA):
        eligible = sorted(
            (m for m in services.staff.active() if allows(m.role, Permission.MODERATE)),
            key=lambda m: (m.name or "~", m.user_id),
        )
        lines += ["", ROTA_USAGE, "Who can be on the rota:"]
        lines += [f"• {h(clip_text(m.name or 'not yet seen', NAME_UNITS))} <code>{m.user_id}</code>" for m in eligible]
    return lines


def _describe_rota(services: Services, rota: Rota) -> list[str]:
    """One line for a short rota; a long one lists everyone, a few names to a line."""
    if rota.kind is RotaKind.EVERYONE:
        return ["Nobody is on the rota: every page administrator is nudged."]
    if rota.kind is RotaKind.FIXED:
        missing = [d for d in WEEKDAYS if d not in dict(rota.fixed)]
        rest = "Other days: every page administrator." if missing else ""
        if all(len(ids) <= LISTED_NAMES for _, ids in rota.fixed):
            days = "; ".join(f"{weekday.capitalize()} {_names(services, ids)}" for weekday, ids in rota.fixed)
            return [f"Fixed days: {days}." + (f" {rest}" if rest else "")]
        lines = ["Fixed days:"]
        for weekday, ids in rota.fixed:
            lines += [f"{weekday.capitalize()}: {part}" for part in _name_lines(services, ids)]
        return lines + ([rest] if rest else [])
    since = f" (from {show_date(rota.starts)})" if rota.starts else ""
    turn = "moderation day" if rota.kind is RotaKind.DAILY else "week"
    if len(rota.admins) <= LISTED_NAMES:
        return [f"Taking turns, one {turn} each{since}: {_names(services, rota.admins)}."]
    return [f"Taking turns, one {turn} each{since}, in this order:", *_name_lines(services, rota.admins)]


def _duty_line(services: Services, duty: Duty) -> str:
    if not duty.moderation_day:
        return f"{show_day(duty.day)}: no moderation (weekend or holiday)"
    everyone = " (every admin)" if duty.everyone else ""
    return f"{show_day(duty.day)}: {_names(services, duty.admins)}{everyone}"


_STATUS_MARK = {
    DayStatus.ON_TIME: "✅ on time",
    DayStatus.LATE: "🕒 late",
    DayStatus.MISSED: "❌ missed",
    DayStatus.DUE: "⏳ not checked yet",
    DayStatus.NO_DUTY: "· not a moderation day",
}


def _history_line(services: Services, result: DayResult) -> str:
    line = f"{show_day(result.day, year=False)}: {_STATUS_MARK[result.status]}"
    record = result.record
    if result.status in (DayStatus.ON_TIME, DayStatus.LATE) and record and record.checked_at:
        problem = ", problem found" if record.outcome == PROBLEM else ""
        line += f", {_name(services, record.checked_by)} {_at(services, record.checked_at)}{problem}"
    elif result.status in (DayStatus.MISSED, DayStatus.DUE):
        line += f" (on duty: {_names(services, result.on_duty, limit=3)})"
    return line


def _compliance_line(compliance: Compliance) -> str:
    if compliance.percent is None:
        return "No moderation deadline has passed yet."
    return (
        f"Checked on time on {compliance.on_time} of {compliance.due_days} days ({compliance.percent}%); "
        f"{compliance.late} late, {compliance.missed} missed."
    )


def _streak_line(compliance: Compliance) -> str:
    days = "day" if compliance.streak == 1 else "days"
    return f"Current streak: {compliance.streak} {days} in a row checked on time."


def render_history(services: Services, results: list[DayResult], compliance: Compliance, number: int) -> tuple[str, Buttons]:
    header = f"<b>Page moderation, last {HISTORY_DAYS} days</b>\n{_compliance_line(compliance)}\n{_streak_line(compliance)}\n"
    if not results:
        return header + "\nNothing recorded yet.", ()
    page = paginate([_history_line(services, r) for r in results], number, per_page=15)
    return header + "\n" + "\n".join(page.lines) + page.footer, page.buttons("mod")


def render_digest(services: Services, due: DigestDue) -> str:
    period = f"{show_day(due.first, year=False)} to {show_day(due.last)}"
    lines = [
        f"📊 <b>Weekly digest</b> — {period}",
        f"<b>Page moderation:</b> {_compliance_line(due.compliance)}",
        _streak_line(due.compliance),
    ]
    if due.incidents is not None:
        opened, closed = due.incidents
        lines.append(f"<b>Incidents:</b> {opened} opened, {closed} closed.")
    total = sum(n for _, n in due.audit_counts)
    lines.append(f"<b>Audit log:</b> {total} entries this week.")
    lines += [f"• {h(clip_text(action, 60))}: {n}" for action, n in due.audit_counts[:25]]
    if len(due.audit_counts) > 25:
        lines.append(f"• and {len(due.audit_counts) - 25} other kinds of action")
    return "\n".join(lines)


# ---- wiring -----------------------------------------------------------------------------------


def register(application: Application, rt: Runtime) -> None:
    rt.services.moderation_duty.start_tracking()
    rt.ticker.add("moderation", timed_work(rt))
    application.add_handler(CommandHandler("rota", rota))
    application.add_handler(CommandHandler("checked", checked))
    application.add_handler(CommandHandler("moderation", history))
    application.add_handler(CallbackQueryHandler(nudge_button, pattern=r"^1:mod:(ok|problem):"))
    application.add_handler(CallbackQueryHandler(remind_button, pattern=r"^1:mod:remind:"))
    application.add_handler(CallbackQueryHandler(rota_button, pattern=r"^1:mod:rota:"))
    application.add_handler(CallbackQueryHandler(history_page, pattern=r"^1:mod:page:"))

"""Every text and button of page moderation: the nudge, the answers, the Head's alert, the rota, the history, the digest.

Each name goes through `h()`; lists of names stay short on one line and list everyone over
several when the rota itself is shown.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta

from bot.audit_view import action_words
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
    Moderation,
)
from bot.records.moderation import Rota, RotaKind
from bot.records.outbox import Buttons
from bot.roles import Permission, allows
from bot.services import Services
from bot.shell.callbacks import pack
from bot.staff import staff_name
from bot.wording import plural
from handlers.common import Actor, h, paginate
from handlers.paging import clip_text

ROTA_USAGE = (
    "<b>To change the rota</b> (ids or first names):\n"
    "<code>/rota daily ID ID ...</code> — take turns, one moderation day each\n"
    "<code>/rota weekly ID ID ...</code> — take turns, one week (Mon–Sun) each\n"
    "<code>/rota fixed mon ID,ID tue ID ...</code> — the same people every week; a day left out means every admin\n"
    "<code>/rota clear</code> — nobody on the rota: every page admin is nudged"
)
CHECKED_USAGE = "Usage: <code>/checked</code> (all fine) or <code>/checked problem</code>."


def nudge_thread(day: date) -> str:
    """Every copy of a day's nudge (and its reminders) is one thread, edited together once someone answers."""
    return f"nudge:{day}"


def missed_thread(day: date) -> str:
    """The Head's "not moderated" alerts for a day, edited to say who checked it after all."""
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


def log_button(outcome: str) -> Buttons:
    return ((("Log it now", pack("log", "start")),),) if outcome == PROBLEM else ()


NAME_UNITS = 40  # a Telegram name can be 128 characters; lists show the first 40
LISTED_NAMES = 8  # a nudge or a day's line names this many, then "and N more"


def _name(services: Services, user_id: int) -> str:
    return h(clip_text(staff_name(services.staff, user_id), NAME_UNITS))


def _names(services: Services, ids: tuple[int, ...], limit: int = LISTED_NAMES) -> str:
    """Names for one line: never more than `limit`, so the line stays short with any rota."""
    if not ids:
        return "nobody (there are no page admins)"
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


def render_answered_below(record_day: date, outcome: str) -> str:
    """The checker's own nudge after a typed /checked: it loses its buttons and points to the answer,
    which the reply below gives (the same words twice would be clutter)."""
    mark = "✅" if outcome == FINE else "⚠️"
    command = "/checked" if outcome == FINE else "/checked problem"
    return f"🧹 <b>Moderate the page</b> — {show_day(record_day)}\n{mark} Answered with {command}: see below."


def render_reminded_below(day: date) -> str:
    """An earlier nudge once the reminder it asked for has come: its buttons go, so only the
    reminder below can be tapped (one live nudge per person per day)."""
    return f"🧹 Page moderation, {show_day(day)}: ⏰ <b>reminder below</b>, please answer there."


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
        return ["Nobody is on the rota: every page admin is nudged."]
    if rota.kind is RotaKind.FIXED:
        missing = [d for d in WEEKDAYS if d not in dict(rota.fixed)]
        rest = "Other days: every page admin." if missing else ""
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
        f"Checked on time on {compliance.on_time} of {plural(compliance.due_days, 'day')} ({compliance.percent}%); "
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
    lines.append(f"<b>Audit log:</b> {plural(total, 'entry')} this week.")
    counts: Counter[str] = Counter()
    for action, n in due.audit_counts:  # two keys may read the same ("photo check", "check photo")
        counts[action_words(action)] += n
    lines += [f"• {h(clip_text(words, 60))}: {plural(n, 'time')}" for words, n in counts.most_common(25)]
    if len(counts) > 25:
        lines.append(f"• and {plural(len(counts) - 25, 'other kind')} of action")
    return "\n".join(lines)

"""/audit: the Head reads the audit log in plain English, newest first, filtered with buttons.

A page reads only its own entries from the end of the log (storage.audit reads backwards in
blocks, and a filtered page decodes at most a few thousand lines), so it costs the same with a
year of entries as with a hundred. What the reader is looking at (the filter, where page 1
began, where each page visited begins) is kept in their state under a view number; buttons
carry only that number and a page, so new entries never shift the pages being turned, and data
that names no open view of this person is refused.
"""

from __future__ import annotations

from datetime import timedelta

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.audit_view import KINDS, AuditFilter, Wording, describe
from bot.clock import show_time
from bot.date_range import BadRange, DateRange, parse_range
from bot.records.audit import SYSTEM, AuditEntry
from bot.records.outbox import Buttons
from bot.roles import Permission
from bot.shell.callbacks import pack
from bot.shell.ticker import Runtime, runtime
from bot.staff import staff_name
from bot.wording import plural
from handlers.common import Actor, Context, admit_press, answer, command_args, h, reply, show, staff_only
from handlers.menu import MenuCommand
from handlers.paging import clip_text
from handlers.pupil_pick import ask_which_pupil, find_pupil, picked_pupil
from storage.audit import Cursor, Found

COMMANDS = (MenuCommand("audit", "The audit log in plain English, with filters", Permission.VIEW_AUDIT),)
PAGE_SIZE = 12  # each line is clipped to ~300 characters, so 12 always fit in 4096
VIEWS = "audit_views"
NEXT_VIEW = "audit_next_view"
KEEP_VIEWS = 10  # open audit views per person whose buttons still work
MAX_PAGE = 200
USAGE = (
    "<b>/audit</b> — the newest entries first\n"
    "<code>/audit 3</code> — page 3\n"
    "<code>/audit pupil NAME</code> — only entries about one pupil\n"
    "<code>/audit kind consent</code> — one kind: " + ", ".join(KINDS) + "\n"
    "<code>/audit from 01/11/2026 to 30/11/2026</code> — a date range\n"
    "Or use the buttons under a page: Person, Kind, Dates."
)
DATE_PRESETS = {"today": "Today", "7d": "Last 7 days", "30d": "Last 30 days", "month": "This month", "all": "All dates"}


def wording(rt: Runtime) -> Wording:
    config = rt.services.config
    return Wording(lambda uid: staff_name(rt.services.staff, uid), config.consent.label, config.school.timezone)


def entry_line(rt: Runtime, entry: AuditEntry) -> str:
    when = show_time(entry.at, rt.services.config.school.timezone)
    return f"<b>{when}</b> {h(clip_text(describe(entry, wording(rt)), 280))}"


# ---- views kept in the reader's state ---------------------------------------------------------------


def _views(context: Context) -> dict[int, dict[str, object]]:
    views: dict[int, dict[str, object]] = context.state.setdefault(VIEWS, {})
    return views


def open_view(context: Context, rt: Runtime, audit_filter: AuditFilter) -> int:
    """A new view of the log as it is now: page 1 starts at its end (or at the end of the date range)."""
    log = rt.services.db.audit
    anchor = log.newest()
    end = audit_filter.days.end(rt.services.config.school.timezone)
    if end is not None:
        anchor = min(anchor, log.position_of(end))
    views = _views(context)
    number = int(context.state.get(NEXT_VIEW, 1))
    context.state[NEXT_VIEW] = number + 1
    views[number] = {"filter": audit_filter.to_state(), "starts": [anchor.pack()]}
    for old in list(views)[:-KEEP_VIEWS]:
        del views[old]
    return number


def _view(context: Context, number: int | None) -> dict[str, object] | None:
    return _views(context).get(number) if number is not None else None


def _filter_of(view: dict[str, object]) -> AuditFilter:
    kept = view.get("filter")
    return AuditFilter.from_state(kept if isinstance(kept, dict) else {})


async def show_page(update: Update, context: Context, actor: Actor, number: int, page: int, note: str = "") -> None:
    """Page `page` of view `number`, newest first; reading it is audited too (one entry)."""
    rt = runtime(context)
    view = _view(context, number)
    assert view is not None
    starts = view["starts"]
    assert isinstance(starts, list)
    audit_filter = _filter_of(view)
    tz = rt.services.config.school.timezone
    page = max(0, min(page, len(starts) - 1))
    shown = audit_filter.describe(lambda uid: staff_name(rt.services.staff, uid))
    rt.services.audit(actor.user_id, "read audit log", f"page {page + 1}", detail=f"showing {shown}")
    start = Cursor.parse(str(starts[page]))
    if start is None:
        await show(update, "This page has expired. Send /audit again.")
        return
    found = _read(rt, audit_filter, start)
    if found.older is not None and len(starts) == page + 1 and len(starts) < MAX_PAGE:
        starts.append(found.older.pack())
    header = f"{note}<b>Audit log</b> — {h(clip_text(shown, 200))} (page {page + 1}, newest first)"
    lines = [entry_line(rt, e) for e in found.entries] or ["No entries here."]
    if found.searched_to is not None:
        lines.append(f"<i>Searched back to {show_time(found.searched_to, tz)}; tap Older › to search further back.</i>")
    await show(update, header + "\n\n" + "\n".join(lines), page_buttons(number, page, len(starts), audit_filter))


def _read(rt: Runtime, audit_filter: AuditFilter, start: Cursor) -> Found:
    tz = rt.services.config.school.timezone
    since = audit_filter.days.start(tz)
    return rt.services.db.audit.find_before(start, PAGE_SIZE, audit_filter.matches, since=since, needle=audit_filter.needle())


def page_buttons(view: int, page: int, known: int, audit_filter: AuditFilter) -> Buttons:
    nav: list[tuple[str, str]] = []
    if page > 0:
        nav.append(("‹ Newer", pack("aud", "pg", view, page - 1)))
    if page + 1 < known:
        nav.append(("Older ›", pack("aud", "pg", view, page + 1)))
    rows: list[tuple[tuple[str, str], ...]] = [tuple(nav)] if nav else []
    rows.append((("Person", pack("aud", "who", view)), ("Kind", pack("aud", "kind", view)), ("Dates", pack("aud", "when", view))))
    if not audit_filter.empty:
        rows.append((("Show everything", pack("aud", "all", view)),))
    return tuple(rows)


# ---- the command ------------------------------------------------------------------------------------


@staff_only(Permission.VIEW_AUDIT, action="read audit log")
async def audit(update: Update, context: Context, actor: Actor) -> None:
    """/audit [N | pupil NAME | kind KIND | from DATE to DATE]"""
    rt = runtime(context)
    words = command_args(context).split()
    first = words[0].lower() if words else ""
    if not words or first.isdigit():
        page = int(first) - 1 if first else 0
        if first and not 1 <= page + 1 <= MAX_PAGE:
            await reply(update, f"There is no page {h(clip_text(first, 12))}: pages are numbered from 1 to {MAX_PAGE}.")
            return
        view = open_view(context, rt, AuditFilter())
        await _go_to(update, context, actor, view, page)
        return
    if first == "kind" and len(words) == 2 and words[1].lower() in KINDS:
        await _go_to(update, context, actor, open_view(context, rt, AuditFilter(kind=words[1].lower())), 0)
        return
    if first in ("from", "to") or first[:1].isdigit():
        try:
            days = parse_range(words)
        except BadRange as exc:
            await reply(update, h(str(exc)) + "\n\n" + USAGE)
            return
        await _go_to(update, context, actor, open_view(context, rt, AuditFilter(days=days)), 0)
        return
    if first == "pupil" and len(words) > 1:
        typed = " ".join(words[1:])
        resolution = find_pupil(rt, actor, typed)
        if resolution.kind == "one":
            pupil_id = resolution.matches[0].pupil.pupil_id
            await _go_to(update, context, actor, open_view(context, rt, AuditFilter(pupil=pupil_id)), 0)
        elif resolution.kind == "none":
            await reply(update, f"No pupil on the register is called “{h(clip_text(typed, 60))}”.")
        else:
            await reply(update, *ask_which_pupil(context, "aud", typed, resolution))
        return
    await reply(update, f"I did not understand “{h(clip_text(' '.join(words), 40))}”.\n\n{USAGE}")


async def _go_to(update: Update, context: Context, actor: Actor, view: int, page: int) -> None:
    """Pages are reached in order (each page knows where the next older one starts)."""
    starts = _view(context, view)
    assert starts is not None
    kept = starts["starts"]
    assert isinstance(kept, list)
    rt = runtime(context)
    audit_filter = _filter_of(starts)
    while len(kept) <= page:
        start = Cursor.parse(str(kept[-1]))
        assert start is not None
        found = _read(rt, audit_filter, start)
        if found.older is None:
            break
        kept.append(found.older.pack())
    # Past the end: the last page, saying so in its first line (one message, not two).
    note = f"The log has only {plural(len(kept), 'page')}; here is the last.\n" if len(kept) <= page else ""
    await show_page(update, context, actor, view, page, note)


# ---- buttons ----------------------------------------------------------------------------------------


async def audit_button(update: Update, context: Context) -> None:
    """Every /audit button: the role is checked again, and the view must be one of this person's."""
    press = await admit_press(update, context, Permission.VIEW_AUDIT, action="read audit log")
    if press is None:
        return
    rt = runtime(context)
    callback = press.callback
    if callback.action == "fu":
        pupil = picked_pupil(context, rt, callback.int_arg(0), callback.args[1] if len(callback.args) > 1 else "")
        if pupil is None:
            await answer(update, "This question has expired. Type /audit pupil NAME again.")
            return
        await _refilter(update, context, press.actor, AuditFilter(pupil=pupil.pupil_id))
        return
    view_number = callback.int_arg(0)
    view = _view(context, view_number)
    if view is None or view_number is None:
        await answer(update, "This page has expired. Send /audit again.")
        return
    audit_filter = _filter_of(view)
    arg = callback.args[1] if len(callback.args) > 1 else ""
    action = callback.action
    if action == "pg" and arg.isdigit():
        await answer(update)
        await show_page(update, context, press.actor, view_number, int(arg))
    elif action == "who":
        await answer(update)
        await show(update, "<b>Whose actions?</b>", person_buttons(rt, view_number))
    elif action == "kind":
        await answer(update)
        await show(update, "<b>Which kind of action?</b>", kind_buttons(view_number))
    elif action == "when":
        await answer(update)
        await show(
            update,
            "<b>Which dates?</b>\nFor other dates type <code>/audit from 01/11/2026 to 30/11/2026</code>.",
            date_buttons(view_number),
        )
    elif action == "all":
        await _refilter(update, context, press.actor, AuditFilter())
    elif action == "fp" and arg.isdigit() and _is_person(rt, int(arg)):
        await _refilter(
            update, context, press.actor, AuditFilter(int(arg), audit_filter.kind, audit_filter.pupil, audit_filter.days)
        )
    elif action == "fk" and arg in KINDS:
        await _refilter(
            update, context, press.actor, AuditFilter(audit_filter.person, arg, audit_filter.pupil, audit_filter.days)
        )
    elif action == "fd" and arg in DATE_PRESETS:
        await _refilter(update, context, press.actor, audit_filter.with_days(_preset(rt, arg)))
    else:
        rt.services.audit(press.actor.user_id, "read audit log", outcome="refused: unknown button")
        await answer(update, "This button has expired. Send /audit again.")


async def _refilter(update: Update, context: Context, actor: Actor, audit_filter: AuditFilter) -> None:
    await answer(update)
    view = open_view(context, runtime(context), audit_filter)
    await show_page(update, context, actor, view, 0)


def _is_person(rt: Runtime, user_id: int) -> bool:
    return user_id == SYSTEM or rt.services.staff.get(user_id) is not None


def _preset(rt: Runtime, key: str) -> DateRange:
    today = rt.services.today()
    return {
        "today": DateRange(today, today),
        "7d": DateRange(today - timedelta(days=6), today),
        "30d": DateRange(today - timedelta(days=29), today),
        "month": DateRange(today.replace(day=1), today),
        "all": DateRange(),
    }[key]


def person_buttons(rt: Runtime, view: int) -> Buttons:
    people = sorted(rt.services.staff.active(), key=lambda m: (m.name or "").lower())[:30]
    buttons = [(clip_text(m.name or f"user {m.user_id}", 30), pack("aud", "fp", view, m.user_id)) for m in people]
    buttons.append(("The bot itself", pack("aud", "fp", view, SYSTEM)))
    return tuple(tuple(buttons[i : i + 2]) for i in range(0, len(buttons), 2))


def kind_buttons(view: int) -> Buttons:
    buttons = [(label, pack("aud", "fk", view, key)) for key, label in KINDS.items()]
    return tuple(tuple(buttons[i : i + 2]) for i in range(0, len(buttons), 2))


def date_buttons(view: int) -> Buttons:
    buttons = [(label, pack("aud", "fd", view, key)) for key, label in DATE_PRESETS.items()]
    return tuple(tuple(buttons[i : i + 2]) for i in range(0, len(buttons), 2))


def register(application: Application, rt: Runtime) -> None:
    application.add_handler(CommandHandler("audit", audit))
    application.add_handler(CallbackQueryHandler(audit_button, pattern=r"^1:aud:"))

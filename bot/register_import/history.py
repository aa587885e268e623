"""A pupil's consent history: what an import changes in each record, and how a person reads it.

Only changes are kept (an unchanged row adds nothing), each with the moment (UTC), the person and
the way the import came (/import in Telegram or the command line). Shown in the school's time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.clock import local_day, show_clock, show_date, show_day
from bot.records.consent import (
    BACK,
    BEGAN,
    EXPIRES,
    FORM,
    GIVEN,
    LEFT,
    RECORDED,
    REFUSED,
    UNWITHDRAWN,
    WITHDRAWN,
    ConsentChange,
    ConsentEvent,
    Pupil,
    changes_between,
)

HISTORY_BEGAN = "on the register when this history began (earlier changes were not kept)"


def import_events(
    before: Mapping[str, Pupil], pupils: Iterable[Pupil], leaving: Iterable[str], at: datetime, actor_id: int, via: str
) -> dict[str, ConsentEvent]:
    """What an import changes, by pupil id: only pupils whose consent record it changes."""
    events = {}
    for pupil in pupils:
        changes = changes_between(before.get(pupil.pupil_id), pupil)
        if changes:
            events[pupil.pupil_id] = ConsentEvent(at, actor_id, via, changes)
    for pupil_id in leaving:
        events[pupil_id] = ConsentEvent(at, actor_id, via, (ConsentChange(LEFT),))
    return events


def event_what(event: ConsentEvent, label: Callable[[str], str]) -> str:
    """ "form recorded: Facebook page ✅, press ❌; expires 31 Jul 2027" or "consent withdrawn for the Facebook page"."""
    changes = event.changes
    if changes and changes[0].kind in (RECORDED, BEGAN):
        marks = ", ".join(f"{label(c.purpose)} {'✅' if c.kind == GIVEN else '❌'}" for c in changes if c.purpose)
        head = "form recorded" if changes[0].kind == RECORDED else HISTORY_BEGAN
        rest = [_as_recorded(c) for c in changes[1:] if not c.purpose]
        return "; ".join([f"{head}: {marks or 'no purposes'}", *rest])
    return "; ".join(_change(c, label) for c in changes)


def event_who(event: ConsentEvent, name_of: Callable[[int], str]) -> str:
    if event.via == "upgrade":
        return "when the bot began keeping this history"
    if event.via == "cli":
        return "import from the command line"
    return f"import by {name_of(event.actor_id)}"


def event_when(event: ConsentEvent, tz: ZoneInfo) -> str:
    """ "Mon 7 Sep 2026 08:40", in the school's time."""
    return f"{show_day(local_day(event.at, tz))} {show_clock(event.at, tz)}"


def _as_recorded(change: ConsentChange) -> str:
    if change.kind == WITHDRAWN:
        return f"withdrawn from {_day(change.day)}"
    if change.kind == FORM:
        return f"form dated {_day(change.day)}"
    if change.kind == EXPIRES:
        return f"expires {_day(change.day)}"
    return "marked as left the school" if change.kind == LEFT else change.kind


def _change(change: ConsentChange, label: Callable[[str], str]) -> str:
    kind, day = change.kind, change.day
    if kind == GIVEN:
        return f"consent given for {label(change.purpose)}"
    if kind == REFUSED:
        return f"consent withdrawn for {label(change.purpose)}"
    if kind == WITHDRAWN:
        return f"consent withdrawn for every purpose from {_day(day)}"
    if kind == UNWITHDRAWN:
        return "withdrawal taken off the record (consent as on the form again)"
    if kind == FORM:
        return f"new form dated {_day(day)}" if day else "form date removed"
    if kind == EXPIRES:
        return f"expiry changed to {_day(day)}" if day else "expiry removed (no end date)"
    if kind == LEFT:
        return "marked as left the school"
    return "back on roll" if kind == BACK else kind


def _day(day: date | None) -> str:
    return show_date(day) if day else "(none)"

"""The incident log as CSV for the Head's spreadsheet (SPEC capability 7).

One row per incident with who did what and when, shown in the school's time zone; every
cell people typed is made safe to open in Excel.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime

from bot.clock import show_time
from bot.incidents.vocabulary import OUTCOMES, ActionKind, category
from bot.records.incidents import Action, Incident

CSV_COLUMNS = (
    "ref",
    "opened",
    "category",
    "clause",
    "urgent",
    "state",
    "reporter",
    "note",
    "screenshots",
    "acknowledged_by",
    "acknowledged_at",
    *(f"{kind.value}_by" for kind in ActionKind if kind is not ActionKind.CLOSED),
    "closed_by",
    "closed_at",
    "outcome",
)


def incidents_csv(incidents: list[Incident], actions: list[Action], tz: object) -> str:
    """The incident log as CSV for the Head (SPEC capability 7); cells are safe to open in Excel."""
    by_incident: dict[int, dict[str, Action]] = {}
    for action in actions:
        by_incident.setdefault(action.number, {})[action.kind] = action

    def when(moment: datetime | None) -> str:
        return show_time(moment, tz) if moment else ""  # type: ignore[arg-type]

    def who(action: Action | None) -> str:
        return f"{action.by_name} ({when(action.at)})" if action else ""

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for incident in incidents:
        done = by_incident.get(incident.number, {})
        kind = category(incident.category)
        closed = done.get(ActionKind.CLOSED.value)
        row = [
            incident.ref,
            incident.opened_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),  # type: ignore[arg-type]
            kind.label,
            kind.clause,
            "yes" if incident.urgent else "no",
            incident.state,
            incident.reporter_name,
            incident.note,
            str(len(incident.evidence)),
            incident.acknowledged_name,
            when(incident.acknowledged_at),
            *(who(done.get(k.value)) for k in ActionKind if k is not ActionKind.CLOSED),
            closed.by_name if closed else "",
            when(incident.closed_at),
            OUTCOMES.get(incident.outcome, incident.outcome),
        ]
        writer.writerow([_safe_cell(cell) for cell in row])
    return out.getvalue()


def _safe_cell(text: str) -> str:
    """A cell a spreadsheet will not run as a formula (notes and names are typed by people)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text

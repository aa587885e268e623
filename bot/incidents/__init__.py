"""The misuse log (policy 6.1 to 6.4, 9.2.7, 10.1, 10.2) and its escalation to the Head Teacher.

Staff log a screenshot, a category and a note; the incident gets a reference (INC-0042),
its evidence is kept write-once with its SHA-256, and leaders act on it (acknowledge,
comment removed, user banned, ...). Escalation is derived from what is stored on each
incident (when the next re-ping is due, how many were sent), so a restart loses nothing.
bot.escalation decides who is told and when; nothing here knows about Telegram: handlers/incidents/
renders and sends.

One concern a module: `vocabulary` (categories, clauses, action kinds, outcomes, references,
next steps), `log` (the /log draft and the IncidentLog service), `export` (the CSV for the Head).
"""

from bot.incidents.export import CSV_COLUMNS, incidents_csv
from bot.incidents.log import ActionResult, ActionStatus, Draft, IncidentLog, Origin, Screenshot, draft_folder
from bot.incidents.vocabulary import (
    BAN_CLAUSE,
    CATEGORIES,
    MAX_NOTE,
    MAX_PLATFORM_NAME,
    MAX_REASON,
    MAX_SCREENSHOT_BYTES,
    MAX_SCREENSHOTS,
    OUTCOMES,
    REPORTER_ACTIONS,
    ActionKind,
    Category,
    action_kind,
    category,
    guidance,
    is_category,
    parse_ref,
    ref,
)

__all__ = [
    "BAN_CLAUSE",
    "CATEGORIES",
    "CSV_COLUMNS",
    "MAX_NOTE",
    "MAX_PLATFORM_NAME",
    "MAX_REASON",
    "MAX_SCREENSHOTS",
    "MAX_SCREENSHOT_BYTES",
    "OUTCOMES",
    "REPORTER_ACTIONS",
    "ActionKind",
    "ActionResult",
    "ActionStatus",
    "Category",
    "Draft",
    "IncidentLog",
    "Origin",
    "Screenshot",
    "action_kind",
    "category",
    "draft_folder",
    "guidance",
    "incidents_csv",
    "is_category",
    "parse_ref",
    "ref",
]

"""The daily "moderate the page" duty (policy 5.1): the rota, the nudge, the deadline, the record.

Everything here is derived from config and storage, never from what a scheduler remembers:
the timed work asks `Moderation.due(now)` what is owed right now, sends it, records it, and a
restart simply asks again. No Telegram here: handlers render and send what this decides.

One concern a module: `rota` (parsing and describing the rota, who may be on duty),
`results` (how a day went, compliance, a check, what is owed), `service` (the Moderation service).
"""

from bot.moderation.results import (
    FINE,
    OUTCOMES,
    PROBLEM,
    CheckResult,
    Compliance,
    DayResult,
    DayStatus,
    DigestDue,
    Due,
    EscalationDue,
    NudgeDue,
    compliance,
)
from bot.moderation.rota import Duty, RotaError, describe_rota, may_be_on_rota, parse_rota
from bot.moderation.service import HISTORY_DAYS, REMIND_AFTER, Moderation

__all__ = [
    "FINE",
    "HISTORY_DAYS",
    "OUTCOMES",
    "PROBLEM",
    "REMIND_AFTER",
    "CheckResult",
    "Compliance",
    "DayResult",
    "DayStatus",
    "DigestDue",
    "Due",
    "Duty",
    "EscalationDue",
    "Moderation",
    "NudgeDue",
    "RotaError",
    "compliance",
    "describe_rota",
    "may_be_on_rota",
    "parse_rota",
]

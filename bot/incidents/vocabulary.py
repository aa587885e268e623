"""The incident log's vocabulary: categories and their policy clauses, action kinds, outcomes, references.

What staff choose from and what leaders record, in the school's words, with the next steps
the person who logged an incident is shown for each category.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

MAX_SCREENSHOTS = 10
MAX_SCREENSHOT_BYTES = 20 * 1024 * 1024  # what getFile lets a bot download
MAX_NOTE = 1000
MAX_PLATFORM_NAME = 100
MAX_REASON = 200


@dataclass(frozen=True)
class Category:
    """What kind of misuse this is, in the school's words, and the policy clause it falls under."""

    key: str  # stored on the incident and used in button data
    label: str
    clause: str  # "" for "other"
    urgent: bool = False  # a pupil named: shorter re-ping delay, delete-now checklist
    offers_ban: bool = False  # an offender outside the school: ban and report (policy 6.4)
    safeguarding: bool = False  # pupils involved: log on CPOMS and inform parents

    @property
    def title(self) -> str:
        return f"{self.label} ({self.clause})" if self.clause else self.label


CATEGORIES = (
    Category("offensive", "Offensive comment", "6.1", offers_ban=True),
    Category("pupil", "Pupil named or described", "6.2", urgent=True),
    Category("outsider", "Someone unconnected to the school", "6.3", offers_ban=True),
    Category("bullying", "Bullying between pupils", "10.1", safeguarding=True),
    Category("parent", "Negative comment about pupils by a parent", "10.2"),
    Category("staff", "Staff misuse", "9.2.7"),
    Category("other", "Other", ""),
)
_BY_KEY = {c.key: c for c in CATEGORIES}
BAN_CLAUSE = "6.4"  # offenders may be banned and reported


def category(key: str) -> Category:
    """The category of a stored incident; an unknown key (an old record) reads as "other"."""
    return _BY_KEY.get(key, _BY_KEY["other"])


def is_category(key: str) -> bool:
    return key in _BY_KEY


class ActionKind(StrEnum):
    REMOVED = "removed"
    BANNED = "banned"
    REPORTED = "reported"
    PARENT = "parent"
    CPOMS = "cpoms"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return _ACTION_LABELS[self]


_ACTION_LABELS = {
    ActionKind.REMOVED: "Comment removed",
    ActionKind.BANNED: "User banned",
    ActionKind.REPORTED: "Reported externally",
    ActionKind.PARENT: "Parent contacted",
    ActionKind.CPOMS: "Logged on CPOMS",
    ActionKind.CLOSED: "Closed",
}
# What the person who logged it may record themselves (they run the page); leaders may do all.
REPORTER_ACTIONS = frozenset({ActionKind.REMOVED, ActionKind.BANNED, ActionKind.REPORTED, ActionKind.PARENT, ActionKind.CPOMS})
OUTCOMES = {"resolved": "Resolved", "nfa": "No further action", "referred": "Referred on"}


def action_kind(text: str) -> ActionKind | None:
    try:
        return ActionKind(text)
    except ValueError:
        return None


def ref(number: int) -> str:
    return f"INC-{number:04d}"


_REF = re.compile(r"^\s*(?:#|inc[-\s]?)?0*([0-9]{1,6})\s*$", re.IGNORECASE)  # ASCII digits: int() reads "٣"


def parse_ref(text: str) -> int | None:
    """What staff type after /incident: "42", "#42", "INC-0042", "inc 42"."""
    match = _REF.match(text)
    return int(match.group(1)) if match and int(match.group(1)) > 0 else None


def guidance(kind: Category) -> list[str]:
    """What the person who logged it should do next, by category (plain text lines)."""
    if kind.urgent:
        return [
            f"A pupil is named or described (policy {kind.clause}): delete the comment now.",
            "1. Keep the screenshot (done: it is stored with the incident).",
            "2. Delete the comment on the page straight away.",
            "3. Do not reply to the person who posted it.",
            f"4. Tap {ActionKind.REMOVED.label} when it is gone.",
        ]
    if kind.safeguarding:
        return [
            f"Bullying between pupils (policy {kind.clause}): log it on CPOMS and contact the parents.",
            "Tap the buttons below when each is done.",
        ]
    if kind.offers_ban:
        return [f"You may ban the person and report them (policy {BAN_CLAUSE}). Tap below when done."]
    return []

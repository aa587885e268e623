"""How the bot says things: counts with the right plural, roles as people say them, and when.

Messages are read by a busy Head on a phone: "1 pupil", never "1 pupil(s)"; "a page admin",
never "page administrator"; "today 14:35", not a timestamp. Every message builds these here.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.clock import local_day, show_clock, show_day
from bot.roles import Role

# Plurals English does not make by adding -s or -es.
_IRREGULAR = {
    "child": "children",
    "person": "people",
    "man": "men",
    "woman": "women",
    "was": "were",
    "is": "are",
    "has": "have",
    "this": "these",
    "that": "those",
    "it": "they",
}
# Words with one form for one and many ("1 staff", "3 staff").
_SAME = frozenset({"staff", "sheep", "information", "evidence", "feedback", "data"})


def plural_form(count: int, word: str) -> str:
    """The word as it goes with `count`: plural_form(2, "child") -> "children"."""
    if count == 1 or not word:
        return word
    lower = word.lower()
    if lower in _SAME:
        return word
    if lower in _IRREGULAR:
        many = _IRREGULAR[lower]
        return many.capitalize() if word[0].isupper() else many
    if lower.endswith(("s", "x", "z", "ch", "sh")):
        return word + "es"
    if lower.endswith("y") and lower[-2:-1] not in ("a", "e", "i", "o", "u"):
        return word[:-1] + "ies"
    return word + "s"


def plural(count: int, word: str, many: str | None = None) -> str:
    """A count and its noun: plural(1, "pupil") -> "1 pupil", plural(2, "child") -> "2 children", "1,200 pupils".

    `many` gives the plural of a phrase the rules cannot guess ("form of consent" -> "forms of consent").
    """
    shown = word if count == 1 else (many or plural_form(count, word))
    return f"{count:,} {shown}"


def verb(count: int, one: str, many: str | None = None) -> str:
    """The verb agreeing with a count: verb(1, "is") -> "is", verb(3, "is") -> "are"."""
    return one if count == 1 else (many or plural_form(count, one))


# Each role as people at a school say it: the name, and the name in a sentence ("You are …").
_ROLE_NAMES = {
    Role.HEAD: ("Head Teacher", "the Head Teacher", "the Head Teacher"),
    Role.DEPUTY: ("Deputy Head", "the Deputy Head", "the Deputy Head"),
    Role.SLT: ("SLT member", "an SLT member", "SLT members"),
    Role.ADMIN: ("page admin", "a page admin", "page admins"),
    Role.OFFICE: ("office staff", "office staff", "office staff"),
}
# The order roles are named in a list of who may do something: those most people are, first.
_LISTED = (Role.ADMIN, Role.OFFICE, Role.SLT, Role.DEPUTY, Role.HEAD)


def role_name(role: Role) -> str:
    """The role's short name: "page admin", "SLT member", "Head Teacher"."""
    return _ROLE_NAMES[role][0]


def a_role(role: Role) -> str:
    """The role in a sentence, with its article: "a page admin", "an SLT member", "the Head Teacher"."""
    return _ROLE_NAMES[role][1]


def you_are(role: Role) -> str:
    """What a person is told of their own role: "You are a page admin."."""
    return f"You are {a_role(role)}."


def roles_named(roles: Collection[Role]) -> str:
    """Who holds some roles, as a list people read: "page admins, SLT members and the Head Teacher"."""
    return listing([_ROLE_NAMES[role][2] for role in _LISTED if role in roles])


def listing(items: Sequence[str]) -> str:
    """Items as a sentence lists them: "a", "a and b", "a, b and c"."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"


def when(moment: datetime, now: datetime, tz: ZoneInfo) -> str:
    """A moment as staff read it now, in the school's zone: "today 14:35", "yesterday 09:10",
    "Mon 30 Nov 14:35" (with the year when it is not this year's).

    For a reply read as it arrives. A message kept and edited later (a card, an alert) says the
    day (bot.clock.show_time): its "today" would be wrong tomorrow."""
    day, today = local_day(moment, tz), local_day(now, tz)
    clock = show_clock(moment, tz)
    if day == today:
        return f"today {clock}"
    if day == today - timedelta(days=1):
        return f"yesterday {clock}"
    if day == today + timedelta(days=1):
        return f"tomorrow {clock}"
    return f"{show_day(day, year=day.year != today.year)} {clock}"

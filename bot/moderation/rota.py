"""The moderation rota (policy 5.1): who is on duty, typed by a leader after /rota, and its audit line.

`daily ID ID`, `weekly ID ID`, `fixed mon ID,ID tue ID` or `clear`; people are Telegram ids
or unique first names, and only those allowed to moderate may be put on duty.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from bot.config import WEEKDAYS
from bot.numbers import parse_user_id
from bot.records.moderation import Rota, RotaKind
from bot.records.staff import StaffMember
from bot.roles import Permission, Role, allows
from bot.wording import a_role


@dataclass(frozen=True)
class Duty:
    """Who is on duty on one day, and why."""

    day: date
    admins: tuple[int, ...]
    moderation_day: bool
    everyone: bool  # nobody named (or nobody named still has access): every admin


class RotaError(ValueError):
    """A rota change that cannot be made; the message is for the person who typed it."""


_DAY_WORDS = {w: w for w in WEEKDAYS} | {
    "monday": "mon",
    "tuesday": "tue",
    "tues": "tue",
    "wednesday": "wed",
    "thursday": "thu",
    "thur": "thu",
    "thurs": "thu",
    "friday": "fri",
    "saturday": "sat",
    "sunday": "sun",
}
_CLEAR_WORDS = {"clear", "everyone", "none", "off", "all"}


def parse_rota(text: str, today: date, staff: Sequence[StaffMember]) -> Rota:
    """Turn what a leader typed after /rota into a Rota, or raise RotaError saying what is wrong.

    `daily ID ID`, `weekly ID ID` (optionally after `rotate`), `fixed mon ID,ID tue ID`, `clear`.
    People are Telegram ids or unique first names; only admins and above may be on the rota.
    """
    words = [w for w in re.split(r"[\s,;]+", text.strip().lower()) if w]
    if not words:
        raise RotaError("Tell me how to change the rota.")
    if words[0] == "rotate":
        words = words[1:] or ["daily"]
    mode, rest = words[0], words[1:]
    if mode in _CLEAR_WORDS and not rest:
        return Rota(RotaKind.EVERYONE, starts=today)
    if mode in ("daily", "weekly"):
        if not rest:
            raise RotaError(f"Name who takes turns, like: /rota {mode} ID ID.")
        return Rota(RotaKind(mode), tuple(_person(w, staff) for w in rest), starts=today)
    if mode == "fixed":
        groups: dict[str, list[int]] = {}
        current: str | None = None
        for word in rest:
            if word in _DAY_WORDS:
                current = _DAY_WORDS[word]
                groups.setdefault(current, [])
            elif current is None:
                raise RotaError(f"Start with a weekday before {word!r}, like: /rota fixed mon ID,ID tue ID.")
            else:
                groups[current].append(_person(word, staff))
        empty = [d for d, ids in groups.items() if not ids]
        if not groups or empty:
            raise RotaError("Give each weekday at least one person, like: /rota fixed mon ID,ID tue ID.")
        ordered = tuple((d, tuple(dict.fromkeys(groups[d]))) for d in WEEKDAYS if d in groups)
        return Rota(RotaKind.FIXED, fixed=ordered, starts=today)
    raise RotaError(f"I don't know {mode!r}: use daily, weekly, fixed or clear.")


def may_be_on_rota(role: Role | None) -> bool:
    """Only people allowed to moderate (admins, SLT, deputy, Head) can be put on duty."""
    return allows(role, Permission.MODERATE)


def _person(word: str, staff: Sequence[StaffMember]) -> int:
    user_id = parse_user_id(word)
    if user_id is not None:
        matches = [m for m in staff if m.user_id == user_id]
        if not matches:
            raise RotaError(f"{word} has no access to this bot; /grant {word} admin first.")
    else:
        matches = [m for m in staff if word in _name_keys(m.name)]
        if not matches:
            raise RotaError(f"I don't know anyone called {word!r}; use their Telegram id (see /staff).")
        if len(matches) > 1:
            raise RotaError(f"More than one person is called {word!r}; use their Telegram id (see /staff).")
    member = matches[0]
    if not may_be_on_rota(member.role):
        who = member.name or str(member.user_id)
        title = a_role(member.role) if member.role else "without access"
        raise RotaError(f"{who} is {title}, not a page admin: only page admins and the leaders can be on the rota.")
    return member.user_id


def _name_keys(name: str) -> set[str]:
    parts = name.lower().split()
    return {parts[0], "".join(parts)} if parts else set()


def describe_rota(rota: Rota) -> str:
    """The audit detail of a rota change: ids only."""
    if rota.kind is RotaKind.FIXED:
        return "fixed: " + "; ".join(f"{d} {','.join(map(str, ids))}" for d, ids in rota.fixed)
    if rota.kind is RotaKind.EVERYONE:
        return "cleared: every admin"
    return f"{rota.kind.value} from {rota.starts}: {','.join(map(str, rota.admins))}"

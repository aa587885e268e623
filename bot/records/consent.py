"""A pupil as the consent register records them (one row of the school's MIS export), and the changes to it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from types import MappingProxyType


@dataclass(frozen=True)
class Pupil:
    """One row of the consent register, as the school's MIS export describes the pupil."""

    pupil_id: str
    first_name: str
    last_name: str
    preferred_name: str = ""
    class_name: str = ""
    # Hashing skips the mapping; equality still compares it (re-imports diff on it).
    consents: Mapping[str, bool] = field(default_factory=dict, hash=False)
    form_date: date | None = None
    expires: date | None = None
    withdrawn: date | None = None
    left: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "consents", MappingProxyType(dict(self.consents)))

    @property
    def full_name(self) -> str:
        """The name staff know the pupil by: preferred name if any, then surname."""
        return f"{self.preferred_name or self.first_name} {self.last_name}"


# What one change to a consent record can be (ConsentChange.kind).
RECORDED = "recorded"  # first seen on an import: the changes after it are the form as recorded
BEGAN = "began"  # already on the register when the history began (the upgrade that started it)
GIVEN = "given"  # a purpose now allowed (a widening, or a "yes" on the form as first recorded)
REFUSED = "refused"  # a purpose now refused (a narrowing, or a "no" on the form as first recorded)
WITHDRAWN = "withdrawn"  # the whole form withdrawn, from `day`
UNWITHDRAWN = "unwithdrawn"  # a withdrawal taken off the record
FORM = "form"  # the form's date (None: no date any more)
EXPIRES = "expires"  # the consent's end (None: no end)
LEFT = "left"
BACK = "back"  # back on roll after being marked as left


@dataclass(frozen=True)
class ConsentChange:
    """One change to a pupil's consent record, as data; the words are chosen where it is shown."""

    kind: str
    purpose: str = ""
    day: date | None = None


@dataclass(frozen=True)
class ConsentEvent:
    """What one import (or the upgrade) changed in one pupil's record: when (UTC), by whom, how."""

    at: datetime
    actor_id: int
    via: str  # "telegram" (/import), "cli" (python -m bot import), "upgrade" (history began)
    changes: tuple[ConsentChange, ...]


def as_recorded(pupil: Pupil) -> tuple[ConsentChange, ...]:
    """The record as it stands, as changes from nothing: each purpose, the form's dates, left."""
    changes = [ConsentChange(GIVEN if allowed else REFUSED, purpose) for purpose, allowed in pupil.consents.items()]
    changes += [ConsentChange(kind, day=day) for kind, day in _days(pupil) if day]
    return (*changes, *((ConsentChange(LEFT),) if pupil.left else ()))


def changes_between(old: Pupil | None, new: Pupil) -> tuple[ConsentChange, ...]:
    """What a new row changes in the consent record (names and class are not consent: left out)."""
    if old is None:
        return (ConsentChange(RECORDED), *as_recorded(new))
    changes = [
        ConsentChange(GIVEN if new.consents.get(purpose, False) else REFUSED, purpose)
        for purpose in dict.fromkeys([*old.consents, *new.consents])
        if old.consents.get(purpose, False) != new.consents.get(purpose, False)
    ]
    for (kind, was), (_, now) in zip(_days(old), _days(new), strict=True):
        if was != now:
            changes.append(ConsentChange(UNWITHDRAWN if kind == WITHDRAWN and now is None else kind, day=now))
    if old.left != new.left:
        changes.append(ConsentChange(LEFT if new.left else BACK))
    return tuple(changes)


def _days(pupil: Pupil) -> tuple[tuple[str, date | None], ...]:
    return ((FORM, pupil.form_date), (EXPIRES, pupil.expires), (WITHDRAWN, pupil.withdrawn))

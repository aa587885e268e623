"""The photo-consent register and its verdicts (policy 4.1, 4.2, 4.4).

Default deny: a pupil may appear for a purpose only when the register says yes today.
No record, no form, a withdrawal, an expiry, a pupil who has left, or a name we could
not pin to one pupil all read as NO, each with a reason staff can act on.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from bot.clock import show_date
from bot.records.consent import Pupil

NOT_FOUND = "not found"
NO_FORM = "no form"
NOT_GIVEN = "not given on the form"
LEFT = "left the school"


@dataclass(frozen=True)
class PurposeVerdict:
    """May this pupil appear for one purpose (page, group, press...), and if not, why."""

    purpose: str
    allowed: bool
    reason: str = ""


@dataclass(frozen=True)
class ConsentVerdict:
    """Every purpose's verdict for one pupil (or for a name that matched nobody)."""

    pupil: Pupil | None
    purposes: tuple[PurposeVerdict, ...]

    @property
    def allowed(self) -> bool:
        """True only when every purpose asked about is allowed."""
        return bool(self.purposes) and all(p.allowed for p in self.purposes)

    def for_purpose(self, purpose: str) -> PurposeVerdict:
        for verdict_ in self.purposes:
            if verdict_.purpose == purpose:
                return verdict_
        raise KeyError(purpose)


def verdict(pupil: Pupil | None, purposes: Sequence[str], today: date) -> ConsentVerdict:
    """The consent answer for each purpose, denying whenever the register is not a clear yes.

    A withdrawal dated in the future already denies: a photo posted today would still be
    on the page after the parent's withdrawal takes effect.
    """
    blanket = _blanket_reason(pupil, today)
    results = []
    for purpose in purposes:
        if blanket:
            results.append(PurposeVerdict(purpose, False, blanket))
        elif pupil is not None and pupil.consents.get(purpose, False):
            results.append(PurposeVerdict(purpose, True))
        else:
            reason = NO_FORM if pupil is None or pupil.form_date is None else NOT_GIVEN
            results.append(PurposeVerdict(purpose, False, reason))
    return ConsentVerdict(pupil, tuple(results))


def _blanket_reason(pupil: Pupil | None, today: date) -> str:
    """A reason that denies every purpose at once, or "" when each purpose must be read."""
    if pupil is None:
        return NOT_FOUND
    if pupil.left:
        return LEFT
    if pupil.withdrawn is not None:
        return f"withdrawn on {show_date(pupil.withdrawn)}"
    if pupil.expires is not None and pupil.expires < today:
        return f"expired on {show_date(pupil.expires)}"
    return ""


def expiring_within(pupils: Iterable[Pupil], today: date, days: int = 30) -> list[Pupil]:
    """Pupils whose consent ends in the next `days` days, soonest first, so the office can chase forms.

    Only pupils with some consent still in force are listed: nothing is lost when a
    withdrawn, departed or never-consented pupil's date passes.
    """
    last_day = today + timedelta(days=days)
    due = [
        pupil
        for pupil in pupils
        if pupil.expires is not None
        and today <= pupil.expires <= last_day
        and not pupil.left
        and pupil.withdrawn is None
        and any(pupil.consents.values())
    ]
    return sorted(due, key=lambda p: (p.expires, p.last_name.casefold(), p.first_name.casefold()))

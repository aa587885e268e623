"""Checking every pupil in a photo before it is uploaded (policy 4.1, 4.2, 4.4).

Identity before verdict: a name gives a verdict only when it names one pupil exactly.
A near name stays ❌ "not confirmed", with the pupils it may mean, until a person
confirms which pupil it is (or that it is none of them); until every name is
resolved, and every pupil is clear, the photo is not OK to upload.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date

from bot.auditing import Auditor
from bot.consent import NOT_FOUND, verdict
from bot.draft_check import DraftPolicy, check_draft
from bot.names import PupilIndex
from bot.records.consent import Pupil
from bot.word_lists import is_function_word
from storage.consents import ConsentRepository

MAX_PHOTO_NAMES = 40
NOT_CONFIRMED = "not confirmed"
NONE_OF_THESE = "none of the pupils offered"
RENAMED = "the register now gives this pupil's record another name: check again"
_BULLETS = " \t-•*·"
# A list as people number it ("1. Amelia Smith", "2) Zoe", "(3) Noah") and names joined by "and" or "&".
_NUMBERED = re.compile(r"^\s*(?:\(\d{1,2}\)|\d{1,2}[.)])\s*")
_AND = re.compile(r"\s+(?:and|&|\+)\s+", re.IGNORECASE)
# What a caption written as a sentence has that a pupil's name never does.
_SENTENCE_MARKS = re.compile(r"[.:]\s*$|[!?…]")
_LONGEST_NAME = 4  # words: "Mary Anne de la Cruz" resolves on the register before this is asked
_NAME_FINDINGS = frozenset({"pupil_full_name", "pupil_similar_name", "former_pupil_name", "pupil_first_name"})


@dataclass(frozen=True)
class PhotoRow:
    """One name from a photo's caption and what the register says about it.

    `candidates` are the pupils a near name may mean, while nobody has confirmed which;
    `more` says further pupils matched than are offered.
    """

    typed: str
    pupil: Pupil | None
    allowed: bool
    reason: str
    candidates: tuple[Pupil, ...] = ()
    more: bool = False

    @property
    def unconfirmed(self) -> bool:
        return self.pupil is None and bool(self.candidates)


@dataclass(frozen=True)
class PhotoCheck:
    purpose: str
    rows: tuple[PhotoRow, ...]
    photo_file_id: str = ""

    @property
    def ok_to_upload(self) -> bool:
        """Only when every pupil named is confirmed and clear; an unconfirmed or unknown name blocks."""
        return bool(self.rows) and all(row.allowed for row in self.rows)

    @property
    def next_unconfirmed(self) -> int | None:
        """The first row still waiting for a person to say who it is."""
        return next((number for number, row in enumerate(self.rows) if row.unconfirmed), None)


def split_names(text: str, index: PupilIndex) -> list[str]:
    """Pupils listed one per line or separated by commas, as admins type them.

    "SMITH, Amelia" (the MIS's surname-first form) stays one name when the register has
    someone it may mean; "Amelia, Zoe" is two names, and so is "Amelia and Zoe". List
    numbers ("1. Amelia Smith") are not part of a name.
    """
    names: list[str] = []
    for line in text.replace(";", "\n").splitlines():
        line = _AND.sub(", ", _NUMBERED.sub("", line.strip(_BULLETS))).strip(_BULLETS)
        pieces = [piece.strip(_BULLETS) for piece in line.split(",")]
        pieces = [piece for piece in pieces if piece]
        surname_first = len(pieces) == 2 and all(len(piece.split()) == 1 for piece in pieces)
        if surname_first and index.resolve(line).kind != "none":
            names.append(line)
        else:
            names.extend(pieces)
    return names


def caption_names(text: str, index: PupilIndex, policy: DraftPolicy) -> list[str]:
    """The pupils a caption names: a list as admins type one (split_names), or, for a caption written
    as a sentence ("Year 3 enjoying the science fair"), every pupil's name the draft check finds in it.

    A sentence with no pupil's name in it names nobody ([]), rather than being one unknown "name".
    """
    listed = split_names(text, index)
    if not any(_reads_as_prose(piece, index) for piece in listed):
        return listed
    report = check_draft(text, index, policy)  # the school's own ordinary first names and allowed words
    return [finding.excerpt for finding in report.findings if finding.kind in _NAME_FINDINGS]


def _reads_as_prose(piece: str, index: PupilIndex) -> bool:
    """A piece of a caption that no pupil's name can be: a sentence's punctuation, many words, or a few
    words with a number or the small words of a sentence ("at the fair") — unless the register knows it."""
    words = piece.split()
    if len(words) < 2 or index.resolve(piece).kind != "none":
        return False
    if _SENTENCE_MARKS.search(piece) or len(words) > _LONGEST_NAME:
        return True
    return len(words) >= 3 and any(any(c.isdigit() for c in word) or is_function_word(word.casefold()) for word in words)


class PhotoChecks:
    """Photo checks against the stored register, each audited by pupil id (never by name)."""

    def __init__(self, register: ConsentRepository, audit: Auditor, today: Callable[[], date], policy: DraftPolicy) -> None:
        self.register = register
        self.audit = audit
        self._today = today
        self.policy = policy

    @property
    def today(self) -> date:
        return self._today()

    def names_in(self, text: str) -> list[str]:
        return caption_names(text, self.register.index(), self.policy)

    def check(self, actor_id: int, names: Sequence[str], purpose: str, photo_file_id: str = "") -> PhotoCheck:
        """A row per name: a verdict for an exact name, "not confirmed" with candidates for a near one."""
        if len(names) > MAX_PHOTO_NAMES:
            raise ValueError(f"at most {MAX_PHOTO_NAMES} names in one check")
        index = self.register.index()
        rows = []
        for typed in names:
            resolution = index.resolve(typed)
            if resolution.kind == "one":
                rows.append(self._row(typed, resolution.matches[0].pupil, purpose))
            elif resolution.kind == "several":
                candidates = tuple(match.pupil for match in resolution.matches)
                rows.append(PhotoRow(typed, None, False, NOT_CONFIRMED, candidates, resolution.more))
            else:
                rows.append(PhotoRow(typed, None, False, NOT_FOUND))
        check = PhotoCheck(purpose, tuple(rows), photo_file_id)
        self._audit(actor_id, check, "checked")
        return check

    def confirm(self, actor_id: int, check: PhotoCheck, number: int, pupil_id: str | None) -> PhotoCheck | None:
        """A person says who an unconfirmed name is (`pupil_id`), or that it is none of the suggestions (None).

        Only a pupil offered for that name, still on the register, is accepted; anything
        else (a stale or forged button) is None and changes nothing. Every other pupil's
        verdict is read again, so an import since the check (a withdrawal) shows at once.
        """
        if not 0 <= number < len(check.rows) or not check.rows[number].unconfirmed:
            return None
        row = check.rows[number]
        if pupil_id is None:
            resolved = PhotoRow(row.typed, None, False, NONE_OF_THESE)
        else:
            pupil = self.register.get(pupil_id)
            offered = next((c for c in row.candidates if c.pupil_id == pupil_id), None)
            if pupil is None or pupil.left or offered is None or not _same_names(offered, pupil):
                return None
            resolved = self._row(row.typed, pupil, check.purpose)
        rows = [resolved if at == number else self._refreshed(other, check.purpose) for at, other in enumerate(check.rows)]
        updated = replace(check, rows=tuple(rows))
        self._audit(actor_id, updated, f"row {number + 1} confirmed as {pupil_id or 'none of these'}")
        return updated

    def _refreshed(self, row: PhotoRow, purpose: str) -> PhotoRow:
        if row.pupil is None:
            return row
        current = self.register.get(row.pupil.pupil_id)
        if current is None:
            return PhotoRow(row.typed, None, False, NOT_FOUND)
        if not _same_names(row.pupil, current):
            return PhotoRow(row.typed, None, False, RENAMED)
        return self._row(row.typed, current, purpose)

    def _row(self, typed: str, pupil: Pupil, purpose: str) -> PhotoRow:
        answer = verdict(pupil, (purpose,), self.today).purposes[0]
        return PhotoRow(typed, pupil, answer.allowed, answer.reason)

    def _audit(self, actor_id: int, check: PhotoCheck, step: str) -> None:
        # Each pupil with the answer they were given ("P004:no"), so the audit says what was cleared.
        pupils = ",".join(f"{row.pupil.pupil_id if row.pupil else '?'}:{'yes' if row.allowed else 'no'}" for row in check.rows)
        self.audit(
            actor_id,
            "photo check",
            f"photo {check.photo_file_id}" if check.photo_file_id else "names",
            outcome="ok to upload" if check.ok_to_upload else "blocked",
            detail=f"purpose {check.purpose}; {step}; pupils {pupils}",
        )


def _same_names(before: Pupil, now: Pupil) -> bool:
    """Whether a record still names the child it named: an import may give a pupil id to someone else."""
    return (before.first_name, before.preferred_name, before.last_name) == (now.first_name, now.preferred_name, now.last_name)

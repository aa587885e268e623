"""Finding pupils by name the way staff type them: with typos, without accents, on a phone.

Identity before verdict (policy 4.1): only a query that names one pupil exactly, after
folding case, accents, apostrophes, hyphens, spacing and word order, is that pupil.
Anything fuzzier yields candidates for a person to confirm. Candidates are found word
by word (each part of the query against each given name and surname, never sorted, so
a typo in a first letter still finds the pupil), against the distinct name parts of the
register, so a lookup stays fast however large the register grows.
"""

from __future__ import annotations

import functools
import heapq
import itertools
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from rapidfuzz import process
from rapidfuzz.distance import OSA

from bot.records.consent import Pupil

MAX_CANDIDATES = 8
# A word that is only one piece of a pupil's name ("Smith" of Smith-Jones, "Mary" of
# Mary-Jane) is a weaker match than the whole name part: it ranks after, never before.
PIECE = 0.5

_APOSTROPHES = "'’‘`ʼ´"
# Letters that Unicode does not decompose into a base letter plus an accent.
_LETTER_FOLDS = str.maketrans({"ø": "o", "æ": "ae", "œ": "oe", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "ı": "i"})
_SEPARATORS = re.compile(r"[^\w]+|_")


def fold(text: str) -> str:
    """Case-, accent- and punctuation-insensitive form of a name: "Zoë O'Brien-Smith" -> "zoe obrien smith"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).translate(_LETTER_FOLDS)
    for mark in _APOSTROPHES:
        plain = plain.replace(mark, "")
    return " ".join(_SEPARATORS.sub(" ", plain).split())


@functools.lru_cache(maxsize=16384)
def _spellings(name: str) -> frozenset[tuple[str, ...]]:
    """The token sequences a name may be written as: O'Brien, O Brien, OBrien; Smith-Jones, SmithJones."""
    without = fold(name)
    spaced = fold("".join(" " if ch in _APOSTROPHES else ch for ch in name))
    forms = {without, spaced}
    forms |= {form.replace(" ", "") for form in forms}
    return frozenset(tuple(form.split()) for form in forms if form)


@dataclass(frozen=True)
class NameMatch:
    """A pupil a search found, how many typing slips apart (0 when exact), and whether it matched exactly."""

    pupil: Pupil
    edits: float
    exact: bool


@dataclass(frozen=True)
class Resolution:
    """What a name search means for the person asking.

    "one": the query names exactly this pupil, so a verdict may be given at once.
    "several": ask first ("Did you mean ...?"), even for a single candidate, since none
    was certain. "none": no pupil came close. `more` says further candidates were cut
    off: ask for a more specific name.
    """

    kind: Literal["one", "several", "none"]
    matches: tuple[NameMatch, ...]
    more: bool = False


class PupilIndex:
    """Every pupil still at the school, by every spelling of their names, built once per register."""

    def __init__(self, pupils: Iterable[Pupil]) -> None:
        everyone = tuple(pupils)
        self.pupils: tuple[Pupil, ...] = tuple(p for p in everyone if not p.left)
        # Never found by a search (no consent answer names them), but a post must not name them either.
        self.leavers: tuple[Pupil, ...] = tuple(p for p in everyone if p.left)
        self._by_id = {pupil.pupil_id: pupil for pupil in self.pupils}
        self._order = {pupil.pupil_id: _name_order(pupil) for pupil in self.pupils}
        # Every exact way of writing a full name -> the pupils it names, by pupil id.
        exact: defaultdict[str, dict[str, Pupil]] = defaultdict(dict)
        # Each spelling of a given name or surname (and each piece of a multi-word one) -> pupil id -> penalty,
        # and each (given, surname) pair of them -> pupil id -> penalty.
        given_parts: defaultdict[str, dict[str, float]] = defaultdict(dict)
        surname_parts: defaultdict[str, dict[str, float]] = defaultdict(dict)
        pairs: defaultdict[tuple[str, str], dict[str, float]] = defaultdict(dict)
        for pupil in self.pupils:
            pid = pupil.pupil_id
            given_names = [n for n in (pupil.first_name, pupil.preferred_name) if fold(n)]
            for key in _full_name_forms(given_names, pupil.last_name):
                exact[key][pid] = pupil
            given_entries, surname_entries = _parts(given_names), _parts([pupil.last_name])
            for given, given_penalty in given_entries.items():
                given_parts[given][pid] = given_penalty
                for surname, surname_penalty in surname_entries.items():
                    pairs[given, surname][pid] = given_penalty + surname_penalty
            for surname, surname_penalty in surname_entries.items():
                surname_parts[surname][pid] = surname_penalty
        self._exact = {key: tuple(named.values()) for key, named in exact.items()}
        # Each part's pupils best first, so a common name ("Noah") needs only its first few read.
        self._given_parts = {entry: self._best_first(named) for entry, named in given_parts.items()}
        self._surname_parts = {entry: self._best_first(named) for entry, named in surname_parts.items()}
        self._pairs = dict(pairs)
        self._given_vocab = list(given_parts)
        self._surname_vocab = list(surname_parts)
        # The same words come back (the part of a name typed right): remember what each is near.
        self._nearest = functools.lru_cache(maxsize=4096)(self._nearest_parts)

    def search(self, query: str, limit: int = MAX_CANDIDATES) -> list[NameMatch]:
        """Pupils `query` may mean, best first: exact full names, else the closest by typing slips."""
        folded = fold(query)
        if not folded:
            return []
        exact = self._exact.get(folded)
        if exact:
            return [NameMatch(pupil, 0.0, True) for pupil in _by_name(exact)][:limit]
        near = self._near(folded.split(), limit)
        ranked = heapq.nsmallest(limit, near.items(), key=lambda item: (item[1], self._order[item[0]]))
        return [NameMatch(self._by_id[pid], edits, False) for pid, edits in ranked]

    def resolve(self, query: str, limit: int = MAX_CANDIDATES) -> Resolution:
        """Decide whether `query` names one pupil exactly, needs a person to confirm, or matches nobody.

        Only an exact full name shared by no other pupil is "one"; everything else that
        matched is "several", so a person confirms: a guess must never become a consent answer.
        """
        matches = self.search(query, limit=limit + 1)
        more = len(matches) > limit
        matches = matches[:limit]
        if not matches:
            return Resolution("none", ())
        if len(matches) == 1 and matches[0].exact:
            return Resolution("one", (matches[0],))
        return Resolution("several", tuple(matches), more)

    def _near(self, words: list[str], limit: int) -> dict[str, float]:
        """Pupil id -> typing slips between the words and the pupil's name, for every pupil within reach.

        Each way of cutting the words into a given name and a surname, in either order, is
        compared part by part, so "harlie Green" is one slip from Charlie Green whatever
        letters Harriet Green's name starts with.
        """
        found: dict[str, float] = {}
        for cut in range(1, len(words)):
            left, right = " ".join(words[:cut]), " ".join(words[cut:])
            for given, surname in ((left, right), (right, left)):
                for given_entry, given_slips in self._nearest(given, True):
                    for surname_entry, surname_slips in self._nearest(surname, False):
                        named = self._pairs.get((given_entry, surname_entry))
                        if named:
                            _keep_best(found, named, given_slips + surname_slips)
        if not found:
            # One word, or several that are one part of a name ("Smith Jones", "Mary Jane").
            whole = " ".join(words)
            for parts, is_given in ((self._given_parts, True), (self._surname_parts, False)):
                for entry, slips in self._nearest(whole, is_given):
                    _keep_best(found, dict(itertools.islice(parts[entry].items(), limit)), slips)
            self._run_together(whole.replace(" ", ""), found)
        return found

    def _best_first(self, named: dict[str, float]) -> dict[str, float]:
        return dict(sorted(named.items(), key=lambda item: (item[1], self._order[item[0]])))

    def _nearest_parts(self, part: str, given: bool) -> tuple[tuple[str, int], ...]:
        """The given names (or surnames) within a few typing slips of `part`, with the slips."""
        vocab = self._given_vocab if given else self._surname_vocab
        return tuple(
            (entry, int(slips))
            for entry, slips, _ in process.extract(
                part, vocab, scorer=OSA.distance, score_cutoff=_allowance(len(part) + 3), limit=None
            )
            if slips <= _allowance(max(len(part), len(entry)))
        )

    def _run_together(self, word: str, found: dict[str, float]) -> None:
        """A full name typed without its space ("ameliasmith"), or with a letter for it ("ameliaxsmith"): one slip."""
        for cut in range(1, len(word) - 1):
            for left, right in ((word[:cut], word[cut:]), (word[:cut], word[cut + 1 :])):
                for given, surname in ((left, right), (right, left)):
                    named = self._pairs.get((given, surname))
                    if named:
                        _keep_best(found, named, 1)


def _full_name_forms(given_names: list[str], last_name: str) -> set[str]:
    """Every exact way to write a pupil's full name: any spelling of a given name and the surname, in either order.

    None when either part has no letters ("-" for an unknown first name): "Patel" alone
    must not name that pupil exactly while Ravi Patel is on the register too.
    """
    givens = {tokens for given in given_names for tokens in _spellings(given)}
    surnames = set(_spellings(last_name))
    if not givens or not surnames:
        return set()
    forms = set()
    for given_tokens in givens:
        for surname_tokens in surnames:
            forms.add(" ".join(given_tokens + surname_tokens))
            forms.add(" ".join(surname_tokens + given_tokens))
    return forms


def _parts(names: list[str]) -> dict[str, float]:
    """Each spelling of the names, and each piece of a multi-word spelling at a small penalty."""
    parts: dict[str, float] = {}
    for name in names:
        for tokens in _spellings(name):
            parts[" ".join(tokens)] = 0.0
            if len(tokens) > 1:
                for piece in (token for token in tokens if len(token) >= 3):
                    parts[piece] = min(parts.get(piece, PIECE), PIECE)
    return parts


def _allowance(length: int) -> int:
    """Typing slips (a letter wrong, missing, extra or swapped) tolerated in a name part this long."""
    return 1 if length <= 4 else 2 if length <= 8 else 3


def _keep_best(found: dict[str, float], named: dict[str, float], slips: float) -> None:
    """Record each pupil at their fewest slips so far."""
    for pid, penalty in named.items():
        total = slips + penalty
        if total < found.get(pid, float("inf")):
            found[pid] = total


def _name_order(pupil: Pupil) -> tuple[str, str, str, str]:
    return (pupil.last_name.casefold(), pupil.first_name.casefold(), pupil.class_name, pupil.pupil_id)


def _by_name(pupils: Iterable[Pupil]) -> list[Pupil]:
    return sorted(pupils, key=_name_order)

"""Finding pupils by name the way staff type them: with typos, without accents, on a phone.

Names are folded once, when the index is built, into keys without accents, case,
apostrophes or hyphens; a lookup is then a dict hit, or one rapidfuzz pass over the
precomputed keys, so it stays fast however large the register grows.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from rapidfuzz import fuzz, process

from bot.consent import Pupil

# A fuzzy match this good, and clear of the runner-up by MARGIN, is taken as the pupil meant.
CONFIDENT_SCORE = 85.0
MARGIN = 8.0
# ...and only if every word typed is at least this close to one of the pupil's names,
# so "Liam O'Brien" never confidently becomes the only O'Brien, Mia.
WORD_SCORE = 75.0
# Anything scoring at least this is offered as a candidate button.
CANDIDATE_SCORE = 70.0
MAX_CANDIDATES = 8

_APOSTROPHES = "'’‘`ʼ´"
# Letters that Unicode does not decompose into a base letter plus an accent.
_LETTER_FOLDS = str.maketrans({"ø": "o", "æ": "ae", "œ": "oe", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "ı": "i"})
_SEPARATORS = re.compile(r"[^\w]+|_")
# Words in a post: letters and digits, keeping apostrophes inside a word (O'Brien) together.
_TEXT_WORD = re.compile(r"[^\W_]+(?:[" + _APOSTROPHES + r"][^\W_]+)*")


def fold(text: str) -> str:
    """Case-, accent- and punctuation-insensitive form of a name: "Zoë O'Brien-Smith" -> "zoe obrien smith"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).translate(_LETTER_FOLDS)
    for mark in _APOSTROPHES:
        plain = plain.replace(mark, "")
    return " ".join(_SEPARATORS.sub(" ", plain).split())


@lru_cache(maxsize=16384)
def _spellings(name: str) -> frozenset[tuple[str, ...]]:
    """The token sequences a name may be written as: O'Brien, O Brien, OBrien; Smith-Jones, SmithJones."""
    without = fold(name)
    spaced = fold("".join(" " if ch in _APOSTROPHES else ch for ch in name))
    forms = {without, spaced}
    forms |= {form.replace(" ", "") for form in forms}
    return frozenset(tuple(form.split()) for form in forms if form)


@dataclass(frozen=True)
class NameMatch:
    """A pupil a search found, how close the name was (0-100), and whether it matched exactly."""

    pupil: Pupil
    score: float
    exact: bool


@dataclass(frozen=True)
class Resolution:
    """What a name search means for the person asking.

    "one": the pupil meant. "several": offer the matches as buttons, even if only one
    candidate was found, since none was certain. "none": no pupil came close.
    `more` says further candidates were cut off: ask for a more specific name.
    """

    kind: Literal["one", "several", "none"]
    matches: tuple[NameMatch, ...]
    more: bool = False


@dataclass(frozen=True)
class NameHit:
    """A pupil's name found in a piece of text (a draft post), as it was written there."""

    pupil: Pupil
    matched_text: str
    full_name: bool


@dataclass(frozen=True)
class NameMention:
    """One place in a text where a name appears, with every pupil who has that name."""

    matched_text: str
    start: int  # in the NFC-normalised text
    key: str  # the name as indexed: "amelia smith" for "Amelia Smith's"
    full_name: bool
    pupils: tuple[Pupil, ...]


class PupilIndex:
    """Every pupil still at the school, by every spelling of their names, built once per register."""

    def __init__(self, pupils: Iterable[Pupil]) -> None:
        self.pupils: tuple[Pupil, ...] = tuple(p for p in pupils if not p.left)
        # Each key maps to the pupils it names, by pupil id, so a pupil is listed once per key.
        exact: defaultdict[str, dict[str, Pupil]] = defaultdict(dict)
        full_keys: defaultdict[str, dict[str, Pupil]] = defaultdict(dict)
        single_keys: defaultdict[str, dict[str, Pupil]] = defaultdict(dict)
        # First token -> (token sequence, is full name) -> pupils, for scanning text.
        sequences: defaultdict[str, defaultdict[tuple[tuple[str, ...], bool], dict[str, Pupil]]] = defaultdict(
            lambda: defaultdict(dict)
        )
        for pupil in self.pupils:
            pid = pupil.pupil_id
            given_names = [n for n in (pupil.first_name, pupil.preferred_name) if fold(n)]
            surnames = _spellings(pupil.last_name)
            for given in given_names:
                for given_tokens in _spellings(given):
                    sequences[given_tokens[0]][given_tokens, False][pid] = pupil
                    for surname_tokens in surnames:
                        tokens = given_tokens + surname_tokens
                        sequences[tokens[0]][tokens, True][pid] = pupil
                        exact["".join(tokens)][pid] = pupil
                        exact["".join(surname_tokens + given_tokens)][pid] = pupil
                        full_keys[" ".join(sorted(tokens))][pid] = pupil
            for name in (*given_names, pupil.last_name):
                for tokens in _spellings(name):
                    exact["".join(tokens)][pid] = pupil
                    single_keys[" ".join(tokens)][pid] = pupil
        self._exact = {key: tuple(named.values()) for key, named in exact.items()}
        self._full_keys = {key: tuple(named.values()) for key, named in full_keys.items()}
        self._full_choices = list(full_keys)
        self._single_keys = {key: tuple(named.values()) for key, named in single_keys.items()}
        self._single_choices = list(single_keys)
        self._sequences = {
            first: {key: tuple(named.values()) for key, named in by_tokens.items()} for first, by_tokens in sequences.items()
        }
        self._lengths = {
            first: sorted({len(tokens) for tokens, _ in by_tokens}, reverse=True) for first, by_tokens in sequences.items()
        }

    def search(self, query: str, limit: int = MAX_CANDIDATES) -> list[NameMatch]:
        """Pupils whose name matches `query`, best first: exact spellings, else typo-tolerant ones."""
        folded = fold(query)
        if not folded:
            return []
        exact = self._exact.get(folded.replace(" ", ""))
        if exact:
            return [NameMatch(pupil, 100.0, True) for pupil in _by_name(exact)][:limit]
        tokens = folded.split()
        keys, choices = (self._full_keys, self._full_choices) if len(tokens) > 1 else (self._single_keys, self._single_choices)
        found = process.extract(
            " ".join(sorted(tokens)), choices, scorer=fuzz.ratio, score_cutoff=CANDIDATE_SCORE, limit=None
        )
        best: dict[str, NameMatch] = {}
        for key, score, _ in found:
            for pupil in keys[key]:
                if pupil.pupil_id not in best or best[pupil.pupil_id].score < score:
                    best[pupil.pupil_id] = NameMatch(pupil, score, False)
        ranked = sorted(best.values(), key=lambda m: (-m.score, m.pupil.last_name.casefold(), m.pupil.first_name.casefold()))
        return ranked[:limit]

    def resolve(self, query: str, limit: int = MAX_CANDIDATES) -> Resolution:
        """Decide whether `query` names one pupil, could be several, or nobody.

        One exact match is "one"; so is a fuzzy match of several words scoring at least
        CONFIDENT_SCORE, beating every other pupil by MARGIN, and with each word typed
        close to one of that pupil's names. Anything else that matched is "several", so
        a person picks: an unsure guess must never become a consent answer.
        """
        matches = self.search(query, limit=limit + 1)
        more = len(matches) > limit
        matches = matches[:limit]
        if not matches:
            return Resolution("none", ())
        top = matches[0]
        if len(matches) == 1 and top.exact:
            return Resolution("one", (top,))
        runner_up = matches[1].score if len(matches) > 1 else 0.0
        words = fold(query).split()
        confident = top.score >= CONFIDENT_SCORE and top.score - runner_up >= MARGIN
        if len(words) > 1 and not top.exact and confident and _every_word_close(words, top.pupil):
            return Resolution("one", (top,))
        return Resolution("several", tuple(matches), more)

    def find_in_text(self, text: str) -> list[NameHit]:
        """Each pupil whose full name or first name appears in a post."""
        return [
            NameHit(pupil, mention.matched_text, mention.full_name)
            for mention in self.mentions(text)
            for pupil in mention.pupils
        ]

    def mentions(self, text: str) -> list[NameMention]:
        """Where pupils' names appear in a post: full names, then first names not part of a full name.

        Each word is looked up in dicts built with the index, so a long post costs a
        few microseconds a word however many pupils there are.
        """
        text = unicodedata.normalize("NFC", text)
        words = [(m.start(), m.end(), _fold_word(m.group())) for m in _TEXT_WORD.finditer(text)]
        words = [w for w in words if w[2]]
        tokens = [w[2] for w in words]
        found: list[NameMention] = []
        covered: set[int] = set()
        for want_full in (True, False):
            for i, token in enumerate(tokens):
                by_tokens = self._sequences.get(token)
                if by_tokens is None or (not want_full and i in covered):
                    continue
                for length in self._lengths[token]:
                    pupils = by_tokens.get((tuple(tokens[i : i + length]), want_full))
                    if not pupils or i + length > len(tokens):
                        continue
                    matched = text[words[i][0] : words[i + length - 1][1]]
                    found.append(NameMention(matched, words[i][0], " ".join(tokens[i : i + length]), want_full, pupils))
                    if want_full:
                        covered.update(range(i, i + length))
                    break
        return found


def _fold_word(word: str) -> str:
    """One word of a post in index form; "Amelia's" counts as "Amelia"."""
    if len(word) > 2 and word[-2] in _APOSTROPHES and word[-1] in "sS":
        word = word[:-2]
    if word.isascii():
        # Most words of a post: skip the Unicode work fold() does (same result for ASCII).
        return word.lower().replace("'", "").replace("`", "")
    return fold(word).replace(" ", "")


def _every_word_close(words: list[str], pupil: Pupil) -> bool:
    names = {
        token
        for name in (pupil.first_name, pupil.preferred_name, pupil.last_name)
        for spelling in _spellings(name)
        for token in spelling
    }
    return all(process.extractOne(word, names, scorer=fuzz.ratio, score_cutoff=WORD_SCORE) for word in words)


def _by_name(pupils: Iterable[Pupil]) -> list[Pupil]:
    return sorted(pupils, key=lambda p: (p.last_name.casefold(), p.first_name.casefold(), p.class_name, p.pupil_id))

"""Pupils' names in a post, found the way a reader would read them.

A full name counts in either order ("Amelia Smith", "SMITH, Amelia"), run together
(#AmeliaSmith), with a possessive ("Amelia's", "Amelias") and with Mc/Mac/O' written
apart ("Callum Mc Donald"), over one line break, between HTML tags, with its letters
typed apart ("A m e l i a  S m i t h"), but never across a sentence break or a blank line
("Thank you Jack. Brown paper bags..."). "MacDonald" for a McDonald is a near match. Each mention carries what
the draft check needs to decide whether a first name is used as a name: its capital,
its place in the sentence, a class or year beside it, a date beside it.
"""

from __future__ import annotations

import re
import weakref
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from bot.names import PupilIndex
from bot.records.consent import Pupil
from bot.text_normal import Normalised, held_letter_readings, normalise

MentionKind = Literal["full", "near", "first", "leaver"]

_APOSTROPHES = "'’‘`ʼ´"
_WORD = re.compile(r"[^\W_]+(?:[" + _APOSTROPHES + r"][^\W_]+)*")
_NOT_WORD = re.compile(r"[^\w]+|_")
_NO_APOSTROPHES = str.maketrans("", "", _APOSTROPHES)
# Between two words of one name: none of these (a full stop, a colon...), nor a blank line.
_BREAKS = frozenset(".!?…;:|•")
# HTML a draft for the website may hold: inline tags show nothing, <br> is a new line, others part text.
_INLINE_TAG = re.compile(r"</?(?:b|i|u|s|em|strong|span|a|font|mark|small|sup|sub)\b[^<>]*>", re.IGNORECASE)
_LINE_TAG = re.compile(r"<br\s*/?>", re.IGNORECASE)
_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9]*\b[^<>]*>")
# Letters typed apart ("A m e l i a", "S.m.i.t.h"): what may stand between two of them.
_LETTER_GAP = re.compile(r"[ \t.\-_*/|,·]{1,3}")
_SENTENCE_ENDS = frozenset(".!?…\n\r")
_HELD = re.compile(r"(.)\1\1")
_DIGIT_LETTERS = {"0": "o", "1": "il", "3": "e", "4": "a", "5": "s", "6": "g", "7": "t", "8": "b", "9": "g"}
_CLASS_WORDS = frozenset({"year", "yr", "class", "reception", "nursery", "form"})
_CLASS_TOKEN = re.compile(r"(?:y|yr|year)\d{1,2}[a-z]?|\d{1,2}[a-z]")
_DATE_TOKEN = re.compile(r"(?:[1-9]|[12]\d|3[01])(?:st|nd|rd|th)?|(?:19|20)\d\d")
_KIND_ORDER = {"full": 0, "near": 1, "leaver": 2, "first": 3}
_CURRENT: frozenset[MentionKind] = frozenset({"full", "near"})
_LEAVER: frozenset[MentionKind] = frozenset({"leaver"})
_FIRST: frozenset[MentionKind] = frozenset({"first"})


@dataclass(frozen=True)
class NameMention:
    """One place in a post where a pupil's name appears, as the admin wrote it."""

    start: int  # offsets in the original text
    end: int
    matched_text: str
    key: str  # the name as indexed: "amelia smith" for "Amelia Smith's"
    kind: MentionKind
    pupils: tuple[Pupil, ...]
    capitalised: bool
    sentence_start: bool
    possessive: bool
    plain_s: bool  # written with an s and no apostrophe: "Amelias painting" (or "the Romans")
    beside_class: bool
    beside_date: bool


@dataclass(frozen=True)
class _Entry:
    tokens: tuple[str, ...]
    kind: MentionKind
    comma_at: int  # the word before which a comma may stand ("SMITH, Amelia"); 0: nowhere
    pupils: tuple[Pupil, ...]


@dataclass(frozen=True)
class _Words:
    """The words of a normalised post: where each is, its index form, and whether it ended in 's."""

    text: str
    spans: list[tuple[int, int]]
    tokens: list[str]
    possessive: list[bool]

    def gap_before(self, i: int) -> str:
        """The characters between word i - 1 and word i."""
        return self.text[self.spans[i - 1][1] if i else 0 : self.spans[i][0]]


class NameFinder:
    """Every way each pupil's name may be written, filed by its first word, built once per register."""

    def __init__(self, pupils: Iterable[Pupil]) -> None:
        grouped: defaultdict[tuple[tuple[str, ...], MentionKind, int], dict[str, Pupil]] = defaultdict(dict)
        class_tokens: set[str] = set()
        for pupil in pupils:
            pid = pupil.pupil_id
            exact_surnames, near_surnames = spellings(pupil.last_name)
            # A pupil who has left is still a child: the full name is found, the first name alone is not.
            by_kind: tuple[tuple[frozenset[tuple[str, ...]], MentionKind], ...] = (
                ((exact_surnames, "leaver"),) if pupil.left else ((exact_surnames, "full"), (near_surnames, "near"))
            )
            for given in {pupil.first_name, pupil.preferred_name} - {""}:
                given_forms, _ = spellings(given)
                for first in given_forms:
                    if not pupil.left:
                        grouped[first, "first", 0][pid] = pupil
                    for surnames, kind in by_kind:
                        for last in surnames:
                            grouped[first + last, kind, 0][pid] = pupil
                            grouped[last + first, kind, len(last)][pid] = pupil
                            grouped[("".join(first + last),), kind, 0][pid] = pupil
                            grouped[("".join(last + first),), kind, 0][pid] = pupil
            class_tokens |= {t for t in fold_name(pupil.class_name).split() if len(t) > 1 and not t.isdigit()}
        by_first: defaultdict[str, list[_Entry]] = defaultdict(list)
        for (tokens, kind, comma_at), named in grouped.items():
            by_first[tokens[0]].append(_Entry(tokens, kind, comma_at, tuple(named.values())))
        self._by_first = {
            first: sorted(entries, key=lambda e: (-len(e.tokens), _KIND_ORDER[e.kind])) for first, entries in by_first.items()
        }
        self._known = {token for entries in self._by_first.values() for e in entries for token in e.tokens}
        self._class_tokens = frozenset(class_tokens | _CLASS_WORDS)

    def mentions(self, text: str | Normalised) -> list[NameMention]:
        """Full and near names first, then leavers' full names, then first names that are not part of one,
        in the order of the post."""
        seen = text if isinstance(text, Normalised) else normalise(text)
        if not self._by_first:
            return []
        words = self._words(seen.text)
        by_first = self._by_first
        # Most words of a post start no name: find the few that may, in one pass.
        maybe = [i for i, token in enumerate(words.tokens) if token in by_first or token[:-1] in by_first]
        found: list[NameMention] = []
        covered: set[int] = set()
        # A current pupil's name is looked for before a leaver's, so a longer leaver's name cannot hide it.
        for kinds in (_CURRENT, _LEAVER):
            for i in maybe:
                if i not in covered and (entry := self._match(words, i, kinds)) is not None:
                    found.append(self._mention(seen, words, i, entry))
                    covered.update(range(i, i + len(entry.tokens)))
        for i in maybe:
            if i not in covered and (entry := self._match(words, i, _FIRST)) is not None:
                found.append(self._mention(seen, words, i, entry))
        return sorted(found, key=lambda mention: mention.start)

    def _words(self, text: str) -> _Words:
        # A space written into a link ("photos/Amelia%20Smith.jpg"): the same length, so offsets hold.
        text = text.replace("%20", "   ")
        matches = list(_WORD.finditer(text))
        if "<" in text:
            # The words of an HTML tag are not read: "<b>Amelia</b> <b>Smith</b>" is Amelia Smith.
            tags = [tag.span() for tag in _TAG.finditer(text)]
            matches = [m for m in matches if not any(start < m.start() < end for start, end in tags)]
        spans = [match.span() for match in matches]
        # The text is already normalised (Latin letters, no accents): folding is case and apostrophes.
        tokens = [match.group().casefold() for match in matches]
        possessive = [False] * len(tokens)
        if any(mark in text for mark in _APOSTROPHES):
            possessive = [len(word) > 2 and word[-2] in _APOSTROPHES and word[-1] == "s" for word in tokens]
            tokens = [
                (word[:-2] if owner else word).translate(_NO_APOSTROPHES) for word, owner in zip(tokens, possessive, strict=True)
            ]
        if _HELD.search(text):
            # Letters held down ("Ameliaaa"): read as the pupil's name if that is what it spells.
            tokens = [
                next((form for form in held_letter_readings(token) if form in self._known), token)
                if token not in self._known and _HELD.search(token)
                else token
                for token in tokens
            ]
        if any(char.isdigit() for char in text):
            # Digits for letters ("Am3lia Sm1th"): read as the pupil's name if that is what it spells.
            tokens = [self._as_letters(token) for token in tokens]
        return _letters_joined(_Words(text, spans, tokens, possessive))

    def _as_letters(self, token: str) -> str:
        if token in self._known or token.isdigit() or not any(char.isdigit() for char in token):
            return token
        readings = [""]
        for char in token[:24]:
            readings = [reading + letter for reading in readings for letter in _DIGIT_LETTERS.get(char, char)][:16]
        return next((reading for reading in readings if reading in self._known), token)

    def _match(self, words: _Words, i: int, kinds: frozenset[MentionKind]) -> _Entry | None:
        token = words.tokens[i]
        entries = self._by_first.get(token, ())
        if kinds is _FIRST and token.endswith("s") and len(token) > 3 and token[:-1] in self._by_first:
            # "Amelias painting": a possessive written without its apostrophe.
            entries = (*entries, *self._by_first[token[:-1]])
        for entry in entries:
            if entry.kind in kinds and self._fits(words, i, entry):
                return entry
        return None

    @staticmethod
    def _fits(words: _Words, i: int, entry: _Entry) -> bool:
        last = len(entry.tokens) - 1
        if i + last >= len(words.tokens):
            return False
        for j, wanted in enumerate(entry.tokens):
            token = words.tokens[i + j]
            if token != wanted and not (j == last and token == wanted + "s"):
                return False
            if j:
                gap = words.gap_before(i + j)
                if _parts_names(gap) or ("," in gap and j != entry.comma_at):
                    return False
        return True

    def _mention(self, seen: Normalised, words: _Words, i: int, entry: _Entry) -> NameMention:
        after = i + len(entry.tokens)
        start, end = seen.span(words.spans[i][0], words.spans[after - 1][1])
        nearby = words.tokens[max(0, i - 2) : i] + words.tokens[after : after + 2]
        beside = [words.tokens[k] for k in (i - 1, after) if 0 <= k < len(words.tokens)]
        return NameMention(
            start=start,
            end=end,
            matched_text=seen.original[start:end],
            key=" ".join(entry.tokens),
            kind=entry.kind,
            pupils=entry.pupils,
            capitalised=seen.text[words.spans[i][0]].isupper(),
            sentence_start=i == 0 or bool(_SENTENCE_ENDS.intersection(words.gap_before(i))),
            possessive=words.possessive[after - 1],
            plain_s=words.tokens[after - 1] == entry.tokens[-1] + "s",
            beside_class=any(t in self._class_tokens or _CLASS_TOKEN.fullmatch(t) for t in nearby),
            beside_date=any(_DATE_TOKEN.fullmatch(t) for t in beside),
        )


def _parts_names(gap: str) -> bool:
    """Whether what stands between two words ends one name there: a sentence break, a blank line, a block tag.

    One line break does not ("Well done to May\nEvans" reads as her name, whatever the
    line length), and neither does a full stop between letters ("amelia.smith", a handle).
    """
    if "<" in gap:
        gap = _LINE_TAG.sub("\n", _INLINE_TAG.sub("", gap))
        if _TAG.search(gap):
            return True
    if gap == ".":
        return False
    line_breaks = len(f"x{gap}x".splitlines()) - 1
    return line_breaks > 1 or bool(_BREAKS.intersection(gap))


def _letters_joined(words: _Words) -> _Words:
    """Letters typed apart read as the words they spell: "A m e l i a  S m i t h" as "amelia smith".

    A run of three or more single letters is cut where the gap changes (a double space
    after single ones, a space after full stops), so each group is one word.
    """
    single = [len(token) == 1 and token.isalpha() for token in words.tokens]
    if sum(single) < 3:
        return words
    spans, tokens, possessive = [], [], []
    i = 0
    while i < len(words.tokens):
        end = i + 1
        while end < len(words.tokens) and single[i] and single[end] and _LETTER_GAP.fullmatch(words.gap_before(end)):
            end += 1
        if end - i < 3:
            spans += words.spans[i:end]
            tokens += words.tokens[i:end]
            possessive += words.possessive[i:end]
            i = end
            continue
        gaps = [words.gap_before(k) for k in range(i + 1, end)]
        unit = max(set(gaps), key=gaps.count)
        first = i
        for k in range(i + 1, end + 1):
            if k == end or words.gap_before(k) != unit:
                spans.append((words.spans[first][0], words.spans[k - 1][1]))
                tokens.append("".join(words.tokens[first:k]))
                possessive.append(False)
                first = k
        i = end
    return _Words(words.text, spans, tokens, possessive)


@lru_cache(maxsize=16384)
def spellings(name: str) -> tuple[frozenset[tuple[str, ...]], frozenset[tuple[str, ...]]]:
    """The word sequences a name may be written as, and its near spellings (Mac for Mc and back).

    O'Brien, O Brien, OBrien; Smith-Jones, Smith Jones, SmithJones; McDonald, Mc Donald.
    """
    exact = _written_forms(name)
    swapped = {_swap_mac(form) for form in exact}
    near = {form for spelling in swapped if spelling for form in _written_forms(spelling)} - exact
    return frozenset(exact), frozenset(near)


def finder_for(index: PupilIndex) -> NameFinder:
    """The finder for a register's index, built on first use and kept as long as the index is."""
    finder = _FINDERS.get(index)
    if finder is None:
        finder = _FINDERS[index] = NameFinder((*index.pupils, *index.leavers))
    return finder


_FINDERS: weakref.WeakKeyDictionary[PupilIndex, NameFinder] = weakref.WeakKeyDictionary()


def fold_name(text: str) -> str:
    """Lower-case Latin words without accents or apostrophes: "Zoë O'Brien-Smith" -> "zoe obrien smith"."""
    plain = (text if text.isascii() else normalise(text).text).casefold().translate(_NO_APOSTROPHES)
    return " ".join(_NOT_WORD.sub(" ", plain).split())


def _written_forms(name: str) -> set[tuple[str, ...]]:
    joined = fold_name(name)
    apart = fold_name("".join(" " if ch in _APOSTROPHES else ch for ch in name))
    forms = {joined, apart}
    forms |= {form.replace(" ", "") for form in forms}
    forms |= {prefixed for form in forms for prefixed in _mc_apart(form)}
    return {tuple(form.split()) for form in forms if form}


def _mc_apart(form: str) -> set[str]:
    """ "mcdonald" is also written "mc donald"; "macleod" "mac leod"."""
    words = form.split()
    return {
        " ".join([*words[:k], prefix, word[len(prefix) :], *words[k + 1 :]])
        for k, word in enumerate(words)
        for prefix in ("mc", "mac")
        if word.startswith(prefix) and len(word) >= len(prefix) + 3
    }


def _swap_mac(form: tuple[str, ...]) -> str:
    """The other spelling of a Mc/Mac name ("macdonald" <-> "mcdonald"), or "" if it has none."""
    words = list(form)
    for k, word in enumerate(words):
        if word.startswith("mac") and len(word) >= 6:
            words[k] = "mc" + word[3:]
            return " ".join(words)
        if word.startswith("mc") and len(word) >= 5:
            words[k] = "mac" + word[2:]
            return " ".join(words)
    return ""

"""better-profanity's verdicts at set-lookup speed, and the strong filter policy 5.3 asks for.

`ProfanityFilter.default()` is better-profanity itself (proven identical in
tests/test_draft_check.py); `ProfanityFilter.strong()` adds the British list and the
look-alikes better-profanity lacks. How a post is read for swearing is bot/swearing.py.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import cache

from better_profanity import profanity as _better_profanity
from better_profanity.constants import ALLOWED_CHARACTERS
from better_profanity.utils import get_complete_path_of_file, read_wordlist

from bot.word_lists import british_profanity

# better-profanity's leetspeak and the look-alikes it lacks: "b!tch", "d|ck", "8ollocks". "!" and "|"
# stay separators (as in better-profanity), so they count where words are joined: "b" + "!" + "tch".
_STRONG_CHARS = {
    **_better_profanity.CHARS_MAPPING,
    "i": (*_better_profanity.CHARS_MAPPING["i"], "!", "|"),
    "b": ("b", "8"),
}


class ProfanityFilter:
    """better-profanity's verdicts, from its own word list and leetspeak map, at set-lookup speed.

    better-profanity compares every word of a post against ~900 VaryingStrings one by
    one. Here the same comparison is a dict lookup: every character is replaced by a
    representative of the characters it may stand for (a, @, 4, * ... all become one
    class), words are filed under that skeleton, and the few words sharing a post
    word's skeleton are then checked character by character exactly as VaryingString
    does. The word splitting below follows better-profanity's `_hide_swear_words` step
    by step, so `censor` returns exactly its output.
    """

    CENSORED = "****"
    MEMORY = 100_000  # tokens whose prefix test is remembered, a few MB at most

    def __init__(self, words: Iterable[str], char_map: Mapping[str, Sequence[str]], allowed_chars: Iterable[str]) -> None:
        allowed = set(allowed_chars)
        if any(len(sub) != 1 for subs in char_map.values() for sub in subs):
            raise ValueError("the skeleton lookup needs one-character substitutions")
        self._accepts = {char: "".join(subs) for char, subs in char_map.items()}
        self._skeleton = str.maketrans(_character_classes(char_map))
        self._words_by_skeleton: dict[str, list[str]] = {}
        self._by_length: dict[int, list[str]] = {}
        self._prefixes: set[str] = set()
        self.max_words = 1
        for word in {w.lower() for w in words}:
            self._by_length.setdefault(len(word), []).append(word)
            skeleton = word.translate(self._skeleton)
            self._words_by_skeleton.setdefault(skeleton, []).append(word)
            self._prefixes.update(skeleton[:end] for end in range(1, len(skeleton) + 1))
            # better-profanity looks this many words ahead for phrases like "2 girls 1 cup".
            self.max_words = max(self.max_words, sum(char not in allowed for char in word))
        self._word_re = re.compile(f"[{_char_class(allowed)}]+")
        self._growth: dict[str, bool] = {}

    @classmethod
    @cache
    def default(cls) -> ProfanityFilter:
        """The filter over better-profanity's default word list (what `load_censor_words()` loads)."""
        words = read_wordlist(get_complete_path_of_file("profanity_wordlist.txt"))
        return cls(words, _better_profanity.CHARS_MAPPING, ALLOWED_CHARACTERS)

    @classmethod
    @cache
    def strong(cls) -> ProfanityFilter:
        """better-profanity's list and leetspeak plus the British list (policy 5.3 asks for a strong filter)."""
        words = read_wordlist(get_complete_path_of_file("profanity_wordlist.txt"))
        return cls([*words, *british_profanity()], _STRONG_CHARS, ALLOWED_CHARACTERS)

    def __contains__(self, token: str) -> bool:
        """Whether a lower-cased token is a listed word or one of its leetspeak variants."""
        for word in self._words_by_skeleton.get(token.translate(self._skeleton), ()):
            if all(char in self._accepts.get(wanted, wanted) for char, wanted in zip(token, word, strict=True)):
                return True
        return False

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Where better-profanity would censor `text`: (start, end) of each word or phrase."""
        size = len(text)
        words = [match.span() for match in self._word_re.finditer(text)]
        # better-profanity leaves a text alone when its first word starts on the last character.
        if not words or words[0][0] >= size - 1:
            return []
        found = []
        i = 0
        while i < len(words):
            start, end = words[i]
            token = text[start:end].lower()
            # Most words start no listed word or phrase: one lookup rules out both checks below.
            if self._could_grow(token):
                last = self._phrase_end(text, words, i, token, lambda j: words[j][0] >= size - 1) if end < size else None
                if last is not None:
                    found.append((start, words[last][1]))
                    i = last + 1
                    continue
                if token in self:
                    found.append((start, end))
            i += 1
        return found

    def words(self, text: str) -> list[tuple[int, int]]:
        """Where better-profanity's words are: runs of the characters it reads as letters."""
        return [match.span() for match in self._word_re.finditer(text)]

    def every_span(self, text: str, allowed: Sequence[tuple[int, int]] = ()) -> list[tuple[int, int]]:
        """Every word or phrase better-profanity could censor, wherever it starts, outside `allowed` spans.

        A superset of `spans`: better-profanity skips words inside a phrase it already
        censored and ignores a word starting on the text's last character; here every
        word is tried. Words of an allowed phrase are never tried and never joined on,
        so "pen. Dick Whittington is" is not read as "penis".
        """
        words = self.words(text)
        starts = [start for start, _ in allowed]
        free = [not overlaps(span, allowed, starts) for span in words]
        found = []
        for i, (start, end) in enumerate(words):
            token = text[start:end].lower()
            if not free[i] or not self._could_grow(token):
                continue
            if token in self:
                found.append((start, end))
            last = self._phrase_end(text, words, i, token, lambda j: not free[j])
            if last is not None:
                found.append((start, words[last][1]))
        return found

    def censor(self, text: str) -> str:
        """The text with each swear word or phrase replaced by ****, exactly as better-profanity does."""
        pieces = []
        done = 0
        for start, end in self.spans(text):
            pieces += [text[done:start], self.CENSORED]
            done = end
        pieces.append(text[done:])
        return "".join(pieces)

    @property
    def longest(self) -> int:
        """The length of the longest listed word or phrase."""
        return max(self._by_length, default=0)

    def masked(self, token: str) -> bool:
        """Whether a word with letters hidden behind asterisks ("c**t", "f***ing") is a listed word."""
        token = token.lower()
        return any(
            all(char == "*" or char in self._accepts.get(wanted, wanted) for char, wanted in zip(token, word, strict=True))
            for word in self._by_length.get(len(token), ())
        )

    def contains_profanity(self, text: str) -> bool:
        """better-profanity's own definition: censoring changes the text."""
        return self.censor(text) != text

    def _phrase_end(
        self, text: str, words: list[tuple[int, int]], first: int, token: str, stop: Callable[[int], bool]
    ) -> int | None:
        """The last word of a listed phrase starting with `token` (word `first`), or None.

        Like better-profanity, words are tried joined directly ("f u c k" -> "fuck") and
        with the separators between them ("f.u.c.k"), up to its look-ahead; joining ends
        at a word for which `stop` says so (better-profanity: one starting on the text's
        last character).
        """
        joined = with_separators = token
        for j in range(first + 1, min(len(words), first + 1 + self.max_words)):
            next_start, next_end = words[j]
            if stop(j):
                break
            joined += text[next_start:next_end].lower()
            with_separators += text[words[j - 1][1] : next_end].lower()
            if joined in self or with_separators in self:
                return j
            if not (self._could_grow(joined) or self._could_grow(with_separators)):
                break
        return None

    def could_grow(self, token: str) -> bool:
        """Whether `token` begins some listed word (or a leetspeak spelling of one)."""
        return self._could_grow(token)

    def _could_grow(self, token: str) -> bool:
        """Whether `token` begins some listed word's skeleton (remembered: posts repeat their words)."""
        known = self._growth.get(token)
        if known is None:
            if len(self._growth) >= self.MEMORY:
                self._growth.clear()
            known = self._growth[token] = token.translate(self._skeleton) in self._prefixes
        return known


def overlaps(span: tuple[int, int], regions: Sequence[tuple[int, int]], starts: Sequence[int]) -> bool:
    """Whether `span` overlaps one of `regions` (sorted, not overlapping; `starts` their starts)."""
    if not regions:
        return False
    k = bisect_left(starts, span[1])  # regions starting before the span ends
    return k > 0 and regions[k - 1][1] > span[0]


def _character_classes(char_map: Mapping[str, Sequence[str]]) -> dict[str, str]:
    """Each character that may stand for another -> one representative of its class."""
    parent: dict[str, str] = {}

    def root(char: str) -> str:
        while parent.setdefault(char, char) != char:
            char = parent[char]
        return char

    for char, subs in char_map.items():
        for sub in subs:
            parent[root(sub)] = root(char)
    return {char: root(char) for char in parent}


def _char_class(chars: set[str]) -> str:
    """A regex character class body listing `chars` as ranges of code points."""
    points = sorted(map(ord, chars))
    ranges = []
    first = last = points[0]
    for point in points[1:]:
        if point != last + 1:
            ranges.append((first, last))
            first = point
        last = point
    ranges.append((first, last))
    return "".join(f"\\U{a:08x}" if a == b else f"\\U{a:08x}-\\U{b:08x}" for a, b in ranges)

"""The draft-post check: what in a post would break the policy if it were published.

Pupils' names (3.4), profanity (5.3) and personal data such as phone numbers, e-mail
addresses and postcodes (8.2). Excerpts are plain text; escaping happens where the
reply is built.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Literal

from better_profanity import profanity as _better_profanity
from better_profanity.constants import ALLOWED_CHARACTERS
from better_profanity.utils import get_complete_path_of_file, read_wordlist

from bot.names import PupilIndex, fold

Kind = Literal["pupil_full_name", "pupil_first_name", "profanity", "phone", "email", "postcode"]
Severity = Literal["block", "warn"]

# Phrases the profanity filter lets through: school life that better-profanity's list
# would otherwise block (the pantomime, the pudding, the author, garden birds).
DEFAULT_ALLOW_WORDS = frozenset(
    {
        "Dick Whittington",
        "Spotted Dick",
        "Moby Dick",
        "Dick King-Smith",
        "Dick Turpin",
        "blue tit",
        "blue tits",
        "great tit",
        "great tits",
        "coal tit",
        "coal tits",
        "long-tailed tit",
        "long-tailed tits",
        "cock-a-doodle-doo",
        "Virgin Mary",
    }
)

# First names that are also ordinary words: a pupil called Grace must not turn every
# "grace" in a post into a warning. A full name ("Grace Smith") is still blocked.
DEFAULT_COMMON_FIRST_NAMES = frozenset(
    {
        "amber", "angel", "april", "art", "august", "autumn", "bill", "bob", "brook",
        "brooke", "carol", "chase", "clay", "dawn", "daisy", "dale", "drew", "eve",
        "faith", "frank", "glen", "grace", "grant", "hazel", "heather", "holly", "honey",
        "hope", "hunter", "iris", "ivy", "jack", "jade", "jay", "joy", "june", "lily",
        "mark", "max", "may", "miles", "olive", "pat", "penny", "poppy", "ray", "reed",
        "river", "robin", "rose", "ruby", "rusty", "sage", "sky", "skye", "star",
        "summer", "sunny", "violet", "will", "willow", "win", "wren",
    }
)

PROFANITY_CLAUSE = "5.3"
NAME_CLAUSE = "3.4"
PERSONAL_DATA_CLAUSE = "8.2"

# UK numbers: 07xxx xxxxxx, 01xxx xxxxxx, 020 xxxx xxxx, (01632) xxxxxx, +44 (0)7xxx...,
# with spaces, dots or dashes between groups.
_PHONE = re.compile(
    r"(?<![\w+])(?:(?:\+|00)44[ \t.\-]?(?:\(0\)[ \t.\-]?)?|\(?0)[1-9](?:[ \t.\-]?\)?[ \t.\-]?\d){8,9}(?!\d)"
)
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
# Written in capitals as the Royal Mail prints them; the inward letters never use CIKMOV.
_POSTCODE = re.compile(r"\b(?:[A-Z]{1,2}[0-9][A-Z0-9]?|GIR) ?[0-9][ABD-HJLNP-UW-Z]{2}\b")


@dataclass(frozen=True)
class Finding:
    """One thing in a draft that the policy forbids (block) or that a person should look at (warn)."""

    kind: Kind
    excerpt: str
    severity: Severity
    clause: str


@dataclass(frozen=True)
class DraftReport:
    """Everything the draft check found, in the order it appears in the post."""

    findings: tuple[Finding, ...]

    @property
    def verdict(self) -> Literal["ok", "warn", "block"]:
        """"block" if anything must change before posting, "warn" if something needs a second look."""
        severities = {finding.severity for finding in self.findings}
        if "block" in severities:
            return "block"
        return "warn" if severities else "ok"


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
        self._prefixes: set[str] = set()
        self._max_words = 1
        for word in {w.lower() for w in words}:
            skeleton = word.translate(self._skeleton)
            self._words_by_skeleton.setdefault(skeleton, []).append(word)
            self._prefixes.update(skeleton[:end] for end in range(1, len(skeleton) + 1))
            # better-profanity looks this many words ahead for phrases like "2 girls 1 cup".
            self._max_words = max(self._max_words, sum(char not in allowed for char in word))
        self._word_re = re.compile(f"[{_char_class(allowed)}]+")
        self._growth: dict[str, bool] = {}

    @classmethod
    @cache
    def default(cls) -> ProfanityFilter:
        """The filter over better-profanity's default word list (what `load_censor_words()` loads)."""
        words = read_wordlist(get_complete_path_of_file("profanity_wordlist.txt"))
        return cls(words, _better_profanity.CHARS_MAPPING, ALLOWED_CHARACTERS)

    def __contains__(self, token: str) -> bool:
        """Whether a lower-cased token is a listed word or one of its leetspeak variants."""
        for word in self._words_by_skeleton.get(token.translate(self._skeleton), ()):
            if all(char in self._accepts.get(wanted, wanted) for char, wanted in zip(token, word)):
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
                last = self._phrase_end(text, words, i, token) if end < size else None
                if last is not None:
                    found.append((start, words[last][1]))
                    i = last + 1
                    continue
                if token in self:
                    found.append((start, end))
            i += 1
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

    def contains_profanity(self, text: str) -> bool:
        """better-profanity's own definition: censoring changes the text."""
        return self.censor(text) != text

    def _phrase_end(self, text: str, words: list[tuple[int, int]], first: int, token: str) -> int | None:
        """The last word of a listed phrase starting with `token` (word `first`), or None.

        Like better-profanity, words are tried joined directly ("f u c k" -> "fuck") and
        with the separators between them ("f.u.c.k"), up to its look-ahead; a word that
        starts on the text's last character is never joined on.
        """
        joined = with_separators = token
        for j in range(first + 1, min(len(words), first + 1 + self._max_words)):
            next_start, next_end = words[j]
            if next_start >= len(text) - 1:
                break
            joined += text[next_start:next_end].lower()
            with_separators += text[words[j - 1][1] : next_end].lower()
            if joined in self or with_separators in self:
                return j
            if not (self._could_grow(joined) or self._could_grow(with_separators)):
                break
        return None

    def _could_grow(self, token: str) -> bool:
        """Whether `token` begins some listed word's skeleton (remembered: posts repeat their words)."""
        known = self._growth.get(token)
        if known is None:
            if len(self._growth) >= self.MEMORY:
                self._growth.clear()
            known = self._growth[token] = token.translate(self._skeleton) in self._prefixes
        return known


def check_draft(
    text: str,
    index: PupilIndex,
    common_first_names: Iterable[str] = (),
    allow_words: Iterable[str] = (),
) -> DraftReport:
    """Check a draft post before it is published.

    `common_first_names` and `allow_words` are the school's additions to
    DEFAULT_COMMON_FIRST_NAMES and DEFAULT_ALLOW_WORDS.
    """
    located: list[tuple[int, Finding]] = []
    ordinary_names = DEFAULT_COMMON_FIRST_NAMES | {fold(name) for name in common_first_names}
    for mention in index.mentions(text):
        if mention.full_name:
            located.append((mention.start, Finding("pupil_full_name", mention.matched_text, "block", NAME_CLAUSE)))
        elif mention.key not in ordinary_names:
            located.append((mention.start, Finding("pupil_first_name", mention.matched_text, "warn", NAME_CLAUSE)))
    checked = _allowed_phrases(frozenset(DEFAULT_ALLOW_WORDS | set(allow_words))).sub(_blank, text)
    for start, end in ProfanityFilter.default().spans(checked):
        if checked[start:end] != ProfanityFilter.CENSORED:
            located.append((start, Finding("profanity", text[start:end], "block", PROFANITY_CLAUSE)))
    for kind, pattern in (("phone", _PHONE), ("email", _EMAIL), ("postcode", _POSTCODE)):
        for match in pattern.finditer(text):
            located.append((match.start(), Finding(kind, match.group(), "block", PERSONAL_DATA_CLAUSE)))
    return DraftReport(_first_of_each(located))


def _first_of_each(located: list[tuple[int, Finding]]) -> tuple[Finding, ...]:
    """Findings in the order of the post, each excerpt once per kind however often it recurs."""
    seen: set[tuple[str, str]] = set()
    findings = []
    for _, finding in sorted(located, key=lambda item: item[0]):
        key = (finding.kind, finding.excerpt.casefold())
        if key not in seen:
            seen.add(key)
            findings.append(finding)
    return tuple(findings)


@lru_cache(maxsize=8)
def _allowed_phrases(phrases: frozenset[str]) -> re.Pattern[str]:
    """One pattern for every allowed phrase, matching any case and any spacing between its words."""
    words_of = (re.split(r"[\s-]+", phrase.strip()) for phrase in phrases if phrase.strip())
    alternatives = sorted((r"[\s-]+".join(map(re.escape, words)) for words in words_of), key=len, reverse=True)
    if not alternatives:
        return re.compile(r"(?!)")
    return re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)", re.IGNORECASE)


def _blank(match: re.Match[str]) -> str:
    """An allowed phrase becomes spaces, so offsets in the post stay the same."""
    return " " * len(match.group())


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

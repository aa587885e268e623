"""The draft-post check: what in a post would break the policy if it were published.

Pupils' names (3.4), profanity (5.3) and personal data such as phone numbers, e-mail
addresses and postcodes (8.2). The post is read as a reader sees it (bot/text_normal.py:
no invisible characters, no look-alike letters, #CamelCase read apart), and every
finding quotes what the admin wrote. Excerpts are plain text; escaping happens where
the reply is built.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Literal

from better_profanity import profanity as _better_profanity
from better_profanity.constants import ALLOWED_CHARACTERS
from better_profanity.utils import get_complete_path_of_file, read_wordlist

from bot.name_mentions import NameMention, finder_for, fold_name
from bot.names import PupilIndex
from bot.text_normal import Normalised, held_letter_readings, normalise
from bot.word_lists import (
    british_profanity,
    is_english_word,
    is_function_word,
    is_ordinary_word,
    likeliest_reading,
    school_allow_phrases,
)

if TYPE_CHECKING:
    from bot.config import Config

Kind = Literal[
    "pupil_full_name", "pupil_similar_name", "former_pupil_name", "pupil_first_name", "profanity", "phone", "email", "postcode"
]
Severity = Literal["block", "warn"]

PROFANITY_CLAUSE = "5.3"
NAME_CLAUSE = "3.4"
PERSONAL_DATA_CLAUSE = "8.2"

# UK numbers: 07xxx xxxxxx, 01xxx xxxxxx, 020 xxxx xxxx, (01632) xxxxxx, +44 (0)7xxx...,
# with spaces, dots, dashes (Word's en dash too) or underscores between groups.
_SEP = r"[ \t.\-–—_]"
_PHONE = re.compile(
    rf"(?<![\w+])(?:(?:\+|00)44{_SEP}?(?:\(0\){_SEP}?)?|\(?0{_SEP}{{0,3}})[1-9](?:{_SEP}{{0,3}}\)?{_SEP}?\d){{8,9}}(?!\d)"
)
# Every digit typed apart counting up ("0 1 2 3 4 5 6 7 8 9") is counting, not a phone number.
_COUNTING = "0123456789"
_DIGITS_APART = re.compile(rf"\d(?:{_SEP}+\d)+")
# "jo.smith @ gmail.com": an @ with spaces is an address when the name before it has a dot,
# digit, underscore or plus, or the domain is a personal mail provider ("Tickets @ eventbrite.com" is not).
_EMAIL = re.compile(
    r"(?<![\w.+-])(?:[\w.+-]+@|[\w+-]*[\d._+][\w.+-]*[ \t]?@[ \t]?|[\w.+-]+[ \t]?@[ \t]?(?=(?:gmail|googlemail|hotmail|"
    r"outlook|live|yahoo|icloud|me|aol|btinternet|sky|talktalk|virginmedia|protonmail|proton)\.))"
    r"([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})\b"
)
# An address written to dodge a filter: "jo [at] example [dot] com", "jo(at)example.co.uk", "jo at example dot com",
# "jo[@]example.com", "jo@example[.]com", "jo@example dot com". A plain " at " counts only with a spelt-out
# dot after it ("see you at the hall.co-op" is no address).
_DOT = r"(?:\s*[\[({<]\s*(?:dot|\.)\s*[\])}>]\s*|\s+dot\s+|\.)"
_SPELT_DOT = r"(?:\s*[\[({<]\s*(?:dot|\.)\s*[\])}>]\s*|\s+dot\s+)"
_TLD = r"(?:com|org|net|uk|ie|edu|gov|info|io|me|biz|co)\b"
_SPELT_EMAIL = re.compile(
    rf"(?<![\w.+-])[\w.+-]+(?:\s*[\[({{<]\s*(?:at|@)\s*[\])}}>]\s*((?:[A-Za-z0-9-]+{_DOT})+{_TLD})"
    rf"|\s+at\s+((?:[A-Za-z0-9-]+{_DOT})*[A-Za-z0-9-]+{_SPELT_DOT}(?:[A-Za-z0-9-]+{_DOT})*{_TLD})"
    rf"|\s*@\s*((?:[A-Za-z0-9-]+{_DOT})*[A-Za-z0-9-]+{_SPELT_DOT}(?:[A-Za-z0-9-]+{_DOT})*{_TLD}))",
    re.IGNORECASE,
)
# Digits written with look-alike letters ("O77OO 9OO123"): read as a reader reads a phone number.
_AS_DIGITS = str.maketrans("OoIl|", "00111")
# Any case ("m1 1ae"); the inward letters never use CIKMOV.
_POSTCODE = re.compile(r"\b(?:([A-Z]{1,2})[0-9][A-Z0-9]?|GIR) ?[0-9][ABD-HJLNP-UW-Z]{2}\b", re.IGNORECASE)
# Royal Mail's postcode areas (and the Crown dependencies'): "KS2 3rd" is a key stage, not a postcode.
_POSTCODE_AREAS = frozenset(
    """AB AL B BA BB BD BH BL BN BR BS BT CA CB CF CH CM CO CR CT CV CW DA DD DE DG DH DL DN DT DY E EC
    EH EN EX FK FY G GL GU GY HA HD HG HP HR HS HU HX IG IM IP IV JE KA KT KW KY L LA LD LE LL LN LS LU M
    ME MK ML N NE NG NN NP NR NW OL OX PA PE PH PL PO PR RG RH RM S SA SE SG SK SL SM SN SO SP SR SS ST SW
    SY TA TD TF TN TQ TR TS TW UB W WA WC WD WF WN WR WS WV YO ZE""".split()
)
_ORDINAL = re.compile(r"\d(?:st|nd|rd|th)", re.IGNORECASE)
_HELD_LETTER = re.compile(r"([^\W\d_])\1\1")
_HELD_RUN = re.compile(r"(.)\1{3,}")
_HELD_3 = re.compile(r"(.)\1{2,}")
_REPEATS = re.compile(r"(.)\1+")
# A word with letters hidden behind asterisks, its first and last letters shown: "c**t", "b***h".
_MASKED = re.compile(r"[^\W_]\*+[^\W_*]*\**[^\W_]")
# better-profanity's leetspeak and the look-alikes it lacks: "b!tch", "d|ck", "8ollocks". "!" and "|"
# stay separators (as in better-profanity), so they count where words are joined: "b" + "!" + "tch".
_STRONG_CHARS = {
    **_better_profanity.CHARS_MAPPING,
    "i": (*_better_profanity.CHARS_MAPPING["i"], "!", "|"),
    "b": ("b", "8"),
}
# Single letters typed apart to dodge a filter: "f u c k", "f.u.c.k", "s-h-i-t".
_SPACED_LETTERS = re.compile(r"(?<![^\W_])(?:[^\W_][ \t.\-_*/|,]{1,3}){2,}[^\W_](?![^\W_])")


@dataclass(frozen=True)
class DraftPolicy:
    """What the school told the draft check (config): its own phrases, ordinary names, numbers and addresses.

    `allow_words` and `common_first_names` add to the shipped allow-list and to the
    word-frequency list; the school's own phone numbers, e-mail domains and postcodes
    are never flagged, since a post may always say how to reach the school.
    """

    allow_words: tuple[str, ...] = ()
    common_first_names: tuple[str, ...] = ()
    phone_numbers: tuple[str, ...] = ()
    email_domains: tuple[str, ...] = ()
    postcodes: tuple[str, ...] = ()

    @classmethod
    def from_config(cls, config: Config) -> DraftPolicy:
        consent, school = config.consent, config.school
        return cls(consent.allow_words, consent.common_first_names, school.phone_numbers, school.email_domains, school.postcodes)


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
        free = [not _inside(span, allowed, starts) for span in words]
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


def check_draft(text: str, index: PupilIndex, policy: DraftPolicy = DraftPolicy()) -> DraftReport:
    """Check a draft post before it is published, as a reader would see it."""
    seen = normalise(text)
    located: list[tuple[int, Finding]] = []
    ordinary = frozenset(fold_name(name) for name in policy.common_first_names)
    for mention in finder_for(index).mentions(seen):
        finding = _name_finding(mention, ordinary)
        if finding is not None:
            located.append((mention.start, finding))
    allow = frozenset(school_allow_phrases()) | frozenset(policy.allow_words)
    for start, end in _profanity(seen, allow):
        located.append((start, Finding("profanity", text[start:end], "block", PROFANITY_CLAUSE)))
    for kind, start, end in _personal_data(seen, policy):
        located.append((start, Finding(kind, text[start:end], "block", PERSONAL_DATA_CLAUSE)))
    return DraftReport(_first_of_each(located))


def _name_finding(mention: NameMention, ordinary: frozenset[str]) -> Finding | None:
    """A full name blocks; a near spelling of one, a leaver's full name, and a first name used as a name warn.

    A leaver's name may be a grown-up former pupil's (alumni news) or a child who left
    for reasons the school must protect: a person decides.
    """
    if mention.kind == "full":
        return Finding("pupil_full_name", mention.matched_text, "block", NAME_CLAUSE)
    if mention.kind == "near":
        return Finding("pupil_similar_name", mention.matched_text, "warn", NAME_CLAUSE)
    if mention.kind == "leaver":
        return Finding("former_pupil_name", mention.matched_text, "warn", NAME_CLAUSE)
    if _used_as_name(mention, ordinary):
        return Finding("pupil_first_name", mention.matched_text, "warn", NAME_CLAUSE)
    return None


def _used_as_name(mention: NameMention, ordinary: frozenset[str]) -> bool:
    """Whether a first name that may also be a word (Grace, May, Patience, Kit) is used as a name here.

    A name that is no ordinary word (Amelia) always is. An ordinary word is a name when
    it stands beside a class or year, or when it has a capital that its place does not
    explain: mid-sentence ("Well done to May"), with a possessive ("Grace's", "Amelias"
    but not "Romans", an English plural), or at the start of a sentence unless it is a
    word that often starts one ("May we...") or is part of a date ("22 May").
    """
    words = mention.key.split()
    if mention.plain_s and is_english_word(words[-1] + "s"):
        return False  # "the Romans", "PE kits": a plural, not "Amelias painting"
    if mention.beside_class or not (mention.key in ordinary or all(map(is_ordinary_word, words))):
        return True
    if not mention.capitalised or mention.beside_date:
        return False
    if mention.possessive or not mention.sentence_start:
        return True
    return not any(map(is_function_word, words))


def _profanity(seen: Normalised, allow: frozenset[str]) -> list[tuple[int, int]]:
    """Where the post swears (spans of the original text), however it is spelt.

    Read twice: as written, so everything better-profanity flags is flagged, and as a
    reader sees it; then with held-down letters ("fuuuck") and letters typed apart
    ("f u c k") read together.
    """
    strong = ProfanityFilter.strong()
    original = seen.original
    allowed_seen = _allowed_spans(allow, seen.text)
    found = strong.every_span(original, sorted(seen.span(start, end) for start, end in allowed_seen))
    starts = [start for start, _ in allowed_seen]
    if seen.changed:
        # Only the words around what normalising changed can read differently the second time.
        words = strong.words(seen.text)
        for first, last in _windows(words, seen.changed, strong.max_words + 1):
            window = seen.text[first:last]
            inside = [(max(a, first) - first, min(b, last) - first) for a, b in allowed_seen if a < last and b > first]
            found += [seen.span(start + first, end + first) for start, end in strong.every_span(window, inside)]
    if _HELD_LETTER.search(seen.text):
        for start, end in strong.words(seen.text):
            held = _HELD_LETTER.search(seen.text, start, end)
            if (
                held
                and not _inside((start, end), allowed_seen, starts)
                and _held_letters_swear(seen.text[start:end].lower(), strong)
            ):
                found.append(seen.span(start, end))
    if "*" in seen.text:
        for start, end in strong.words(seen.text):
            token = seen.text[start:end]
            if _MASKED.fullmatch(token) and not _inside((start, end), allowed_seen, starts) and strong.masked(token):
                found.append(seen.span(start, end))
    for match in _SPACED_LETTERS.finditer(seen.text):
        if not _inside(match.span(), allowed_seen, starts) and _spells_a_listed_word(match.group(), strong):
            found.append(seen.span(*match.span()))
    return found


def _windows(words: list[tuple[int, int]], changed: Sequence[tuple[int, int]], reach: int) -> list[tuple[int, int]]:
    """Stretches of text from `reach` words before each changed part to `reach` words after it, merged."""
    if not words:
        return []
    word_starts = [start for start, _ in words]
    stretches: list[tuple[int, int]] = []
    for start, end in changed:
        first = max(0, bisect_left(word_starts, start) - reach)
        last = min(len(words) - 1, bisect_left(word_starts, end) + reach)
        stretch = (min(words[first][0], start), max(words[last][1], end))
        if stretches and stretch[0] <= stretches[-1][1]:
            stretches[-1] = (stretches[-1][0], max(stretches[-1][1], stretch[1]))
        else:
            stretches.append(stretch)
    return stretches


def _spells_a_listed_word(spaced: str, strong: ProfanityFilter) -> bool:
    """Whether some run of the letters in "f u c k you" (read together, held letters or not) is listed.

    Letters held down are cut to three first ("f u u u u u c k" reads as "fuuuck"), and a
    run stops growing once no listed word starts with it (read with held letters as one or
    two): a post of thousands of spaced letters takes milliseconds, not minutes.
    """
    letters = _HELD_RUN.sub(r"\1\1\1", "".join(char for char in spaced.lower() if char.isalnum()))
    reach = 3 * strong.longest
    for first in range(len(letters)):
        for last in range(first + 1, min(len(letters), first + reach) + 1):
            word = letters[first:last]
            if not any(strong.could_grow(start) for start in (word, _REPEATS.sub(r"\1", word), _HELD_3.sub(r"\1\1", word))):
                break
            if last - first >= 3 and (word in strong or _held_letters_swear(word, strong)):
                return True
    return False


def _held_letters_swear(word: str, strong: ProfanityFilter) -> bool:
    """"fuuuck" and "shiiit" swear; "goood" and "sooo" do not: the likeliest English reading decides."""
    readings = held_letter_readings(word)
    if not readings:
        return False
    reading = likeliest_reading(readings)
    return reading in strong if reading is not None else any(other in strong for other in readings)


def _personal_data(seen: Normalised, policy: DraftPolicy) -> list[tuple[Kind, int, int]]:
    """Phone numbers, e-mail addresses and postcodes (spans of the original text), except the school's own."""
    own_phones = {_phone_digits(number) for number in policy.phone_numbers}
    own_domains = tuple(domain.lower().lstrip("@") for domain in policy.email_domains)
    own_postcodes = {_postcode_key(code) for code in policy.postcodes}
    found: list[tuple[Kind, int, int]] = []
    digits = seen.text.translate(_AS_DIGITS)  # same length: offsets hold
    for match in _PHONE.finditer(digits):
        written = seen.text[match.start() : match.end()]
        counting = _DIGITS_APART.fullmatch(written) is not None and _phone_digits(written) in _COUNTING
        if sum(char.isdigit() for char in written) >= 6 and not counting and _phone_digits(match.group()) not in own_phones:
            found.append(("phone", *seen.span(*match.span())))
    for pattern in (_EMAIL, _SPELT_EMAIL):
        for match in pattern.finditer(seen.text):
            written_domain = next(group for group in match.groups() if group)
            domain = re.sub(_DOT, ".", written_domain, flags=re.IGNORECASE).lower()
            if not any(domain == own or domain.endswith("." + own) for own in own_domains):
                found.append(("email", *seen.span(*match.span())))
    for match in _POSTCODE.finditer(seen.text):
        code = match.group()
        area = (match.group(1) or "GIR").upper()
        looks_ordinal = not code.isupper() and _ORDINAL.fullmatch(code[-3:]) is not None  # "b1 2nd"
        if area in _POSTCODE_AREAS and not looks_ordinal and _postcode_key(code) not in own_postcodes:
            found.append(("postcode", *seen.span(*match.span())))
    return found


def _phone_digits(number: str) -> str:
    """A UK number as its national digits: "+44 (0)1632 960000" -> "01632960000"."""
    digits = re.sub(r"\D", "", number.replace("(0)", ""))
    for prefix in ("0044", "44"):
        if digits.startswith(prefix) and number.lstrip().startswith(("+", "00")):
            return "0" + digits[len(prefix) :]
    return digits


def _postcode_key(code: str) -> str:
    return re.sub(r"\s", "", code).upper()


def _inside(span: tuple[int, int], regions: Sequence[tuple[int, int]], starts: Sequence[int]) -> bool:
    """Whether `span` overlaps one of `regions` (sorted, not overlapping; `starts` their starts)."""
    if not regions:
        return False
    k = bisect_left(starts, span[1])  # regions starting before the span ends
    return k > 0 and regions[k - 1][1] > span[0]


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


def _allowed_spans(phrases: frozenset[str], text: str) -> list[tuple[int, int]]:
    """Where allowed phrases are in `text`; only the phrases whose first word occurs are looked for."""
    lowered = text.lower()
    present = frozenset(phrase for phrase in phrases if _first_word(phrase) in lowered)
    return [match.span() for match in _allowed_phrases(present).finditer(text)] if present else []


@lru_cache(maxsize=1024)
def _first_word(phrase: str) -> str:
    return re.split(r"[\s-]+", phrase.strip().lower())[0]


@lru_cache(maxsize=256)
def _allowed_phrases(phrases: frozenset[str]) -> re.Pattern[str]:
    """One pattern for every allowed phrase, matching any case and any spacing between its words."""
    words_of = (re.split(r"[\s-]+", phrase.strip()) for phrase in phrases if phrase.strip())
    alternatives = sorted((r"[\s-]+".join(map(re.escape, words)) for words in words_of), key=len, reverse=True)
    if not alternatives:
        return re.compile(r"(?!)")
    return re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)", re.IGNORECASE)


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

"""Where a post swears, however it is spelt (policy 5.3), except in the school's allowed phrases.

The post is read as written (everything better-profanity flags is flagged) and as a
reader sees it (bot/text_normal.py), then for letters held down ("fuuuck"), typed apart
("f u c k") or hidden behind asterisks ("c**t"). The word lists and their leetspeak are
bot/profanity.py's `ProfanityFilter`.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Sequence
from functools import lru_cache

from bot.profanity import ProfanityFilter, overlaps
from bot.text_normal import Normalised, held_letter_readings
from bot.word_lists import likeliest_reading

_HELD_LETTER = re.compile(r"([^\W\d_])\1\1")
_HELD_RUN = re.compile(r"(.)\1{3,}")
_HELD_3 = re.compile(r"(.)\1{2,}")
_REPEATS = re.compile(r"(.)\1+")
# A word with letters hidden behind asterisks, its first and last letters shown: "c**t", "b***h".
_MASKED = re.compile(r"[^\W_]\*+[^\W_*]*\**[^\W_]")
# Single letters typed apart to dodge a filter: "f u c k", "f.u.c.k", "s-h-i-t".
_SPACED_LETTERS = re.compile(r"(?<![^\W_])(?:[^\W_][ \t.\-_*/|,]{1,3}){2,}[^\W_](?![^\W_])")


def find_swearing(seen: Normalised, allow: frozenset[str]) -> list[tuple[int, int]]:
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
                and not overlaps((start, end), allowed_seen, starts)
                and _held_letters_swear(seen.text[start:end].lower(), strong)
            ):
                found.append(seen.span(start, end))
    if "*" in seen.text:
        for start, end in strong.words(seen.text):
            token = seen.text[start:end]
            if _MASKED.fullmatch(token) and not overlaps((start, end), allowed_seen, starts) and strong.masked(token):
                found.append(seen.span(start, end))
    for match in _SPACED_LETTERS.finditer(seen.text):
        if not overlaps(match.span(), allowed_seen, starts) and _spells_a_listed_word(match.group(), strong):
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
    """ "fuuuck" and "shiiit" swear; "goood" and "sooo" do not: the likeliest English reading decides."""
    readings = held_letter_readings(word)
    if not readings:
        return False
    reading = likeliest_reading(readings)
    return reading in strong if reading is not None else any(other in strong for other in readings)


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

"""The word lists the draft check reads: shipped as data, never kept by hand in code.

- British profanity that better-profanity's list lacks, and the school phrases the filter
  lets through, are text files in bot/data/.
- Whether a pupil's first name is also an ordinary English word ("Grace", "Patience",
  "May", "Kit") comes from wordfreq's English frequency list, which ships inside the
  wordfreq wheel (nothing is downloaded).
"""

from __future__ import annotations

from functools import cache, lru_cache
from importlib.resources import files

# A word at least this common in English (about once in 100,000 words) is an ordinary word.
COMMON_ZIPF = 4.0
# A rarer word still counts if English uses it as a word: it takes a plural or an ending
# ("teddies", "kits", "ambers") at least 1/125 as often as it appears. Given names rarely
# do ("Amelias", "Noahs").
LISTED_ZIPF = 3.0
INFLECTED_GAP = 2.1
# Words this common at the start of a sentence are read as the word, not a name ("May we...").
FUNCTION_ZIPF = 5.5


def zipf_frequency(word: str) -> float:
    """How common an English word is, on wordfreq's Zipf scale (0: unknown, 7: "the").

    wordfreq is imported on first use: its English list takes ~0.3 s and ~37 MB to load,
    which the bot pays on its first draft check rather than at every start.
    """
    from wordfreq import zipf_frequency as frequency

    return float(frequency(word, "en"))


def _lines(name: str) -> tuple[str, ...]:
    text = files("bot").joinpath("data", name).read_text(encoding="utf-8")
    return tuple(line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#"))


@cache
def british_profanity() -> tuple[str, ...]:
    """British swear words and filter-dodging shorthand (bot/data/profanity_en_gb.txt)."""
    return _lines("profanity_en_gb.txt")


@cache
def school_allow_phrases() -> tuple[str, ...]:
    """Ordinary school phrases the profanity filter lets through (bot/data/allow_phrases.txt)."""
    return _lines("allow_phrases.txt")


@lru_cache(maxsize=8192)
def is_ordinary_word(word: str) -> bool:
    """Whether a lower-case word (a first name) is also an everyday English word."""
    frequency = zipf_frequency(word)
    if frequency >= COMMON_ZIPF:
        return True
    if frequency < LISTED_ZIPF:
        return False
    return max(zipf_frequency(form) for form in _inflections(word)) >= frequency - INFLECTED_GAP


@lru_cache(maxsize=8192)
def is_english_word(word: str) -> bool:
    """Whether English uses this word at all (it is in the frequency list's common part)."""
    return zipf_frequency(word) >= LISTED_ZIPF


@lru_cache(maxsize=8192)
def is_function_word(word: str) -> bool:
    """Words so common that a capital at the start of a sentence says nothing ("May", "Will")."""
    return zipf_frequency(word) >= FUNCTION_ZIPF


def likeliest_reading(readings: tuple[str, ...]) -> str | None:
    """The reading a reader would take: the commonest English word ("goood" is good, not god); None if none is one."""
    frequency, reading = max((zipf_frequency(reading), reading) for reading in readings)
    return reading if frequency > 0 else None


def _inflections(word: str) -> tuple[str, ...]:
    forms = [word + "s", word + "es", word + "ed", word + "ing", word + "ful", word + "ly", word + "er", word + "ness"]
    if word.endswith("y"):
        forms += [word[:-1] + "ies", word[:-1] + "ied"]
    if word.endswith("e"):
        forms += [word + "d", word[:-1] + "ing"]
    return tuple(forms)

"""Differential test: the draft check flags everything better-profanity flags (policy 5.3 'strong').

Texts are generated from better-profanity's own word list, spelt the ways people spell
them: leetspeak, masking, held and spaced letters, punctuation, case, Unicode look-alikes
and hidden characters, among ordinary school words and the allowed school phrases. For
each text better-profanity flags, the draft check must flag profanity too, unless every
word better-profanity censored lies in an allowed phrase ("Sex education evening").

better-profanity itself takes ~15 ms a text, so the texts are judged by our exact
replica of it (`ProfanityFilter.default()`, proven identical in tests/test_draft_check.py)
and a sample by better-profanity itself. `pytest --long` runs ten times as many.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Iterator

import pytest
from better_profanity import profanity

from bot.draft_check import check_draft
from bot.names import PupilIndex
from bot.profanity import ProfanityFilter
from bot.swearing import _allowed_phrases
from bot.word_lists import school_allow_phrases

TEXTS = 100_000
LONG_TEXTS = 1_000_000
SAMPLE = 200  # judged by better-profanity itself too

LISTED = sorted(str(word) for word in profanity.CENSOR_WORDSET)
LEET = {char: [sub for sub in subs if sub != char] for char, subs in profanity.CHARS_MAPPING.items()}
LOOK_ALIKES = {"a": "а", "e": "е", "o": "о", "p": "р", "c": "с", "x": "х", "i": "і", "s": "ѕ", "y": "у"}
HIDDEN = ["\u200b", "\u00ad", "\u2060", "\u200d", "\ufeff"]
SCHOOL_WORDS = (
    "our class trip museum wonderful assembly parents welcome thank you everyone today this week "
    "team worked hard year four poems sports day Scunthorpe Essex classic assessment cocktail pen is"
).split()
FILLERS = [" ", "  ", ". ", ", ", "! ", "\n", " - ", "_", "'", '"', "(", ")", "é", "ß", "Σ", "🙂"]
EMPTY = PupilIndex([])


def _leet(word: str, rng: random.Random) -> str:
    return "".join(rng.choice(LEET[c]) if c in LEET and LEET[c] and rng.random() < 0.5 else c for c in word)


def _mask(word: str, rng: random.Random) -> str:
    if len(word) < 3:
        return word
    at = rng.randrange(1, len(word) - 1)
    return word[:at] + "*" + word[at + 1 :]


def _held(word: str, rng: random.Random) -> str:
    at = rng.randrange(len(word))
    return word[:at] + word[at] * rng.randint(3, 5) + word[at + 1 :]


def _spaced(word: str, rng: random.Random) -> str:
    return rng.choice([" ", ".", "-", " . ", "_"]).join(word)


def _punctuated(word: str, rng: random.Random) -> str:
    return rng.choice(["({})", '"{}"', "{}!!", "#{}", "--{}--", "{}?", "'{}'", "<b>{}</b>", "{}..."]).format(word)


def _cased(word: str, rng: random.Random) -> str:
    return rng.choice([word.upper(), word.title(), word.swapcase(), word])


def _unicode(word: str, rng: random.Random) -> str:
    kind = rng.randrange(4)
    if kind == 0 and len(word) > 1:
        at = rng.randrange(1, len(word))
        return word[:at] + rng.choice(HIDDEN) + word[at:]
    if kind == 1:
        return "".join(LOOK_ALIKES.get(c, c) if rng.random() < 0.5 else c for c in word)
    if kind == 2:
        return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in word)  # full width
    return "".join(c + "\u0301" if c.isalpha() and rng.random() < 0.3 else c for c in word)


TRANSFORMS: list[Callable[[str, random.Random], str]] = [
    lambda word, rng: word,
    _cased,
    _leet,
    _mask,
    _held,
    _spaced,
    _punctuated,
    _unicode,
]


def generated_texts(count: int, seed: int = 2026) -> Iterator[str]:
    """Every listed word through every transform, then random mixtures up to `count` texts."""
    rng = random.Random(seed)
    made = 0
    for word in LISTED:
        for transform in TRANSFORMS:
            if made == count:
                return
            yield transform(word, rng)
            made += 1
    allowed = list(school_allow_phrases())
    while made < count:
        pieces = []
        for _ in range(rng.randint(1, 5)):
            roll = rng.random()
            if roll < 0.45:
                pieces.append(rng.choice(TRANSFORMS)(rng.choice(LISTED), rng))
            elif roll < 0.55:
                pieces.append(rng.choice(allowed))
            elif roll < 0.9:
                pieces.append(rng.choice(SCHOOL_WORDS))
            else:
                pieces.append("".join(rng.choice(FILLERS) for _ in range(rng.randint(1, 3))))
            pieces.append(rng.choice(FILLERS[:7]))
        yield "".join(pieces).strip() if rng.random() < 0.5 else "".join(pieces)
        made += 1


def covered_by_allow_list(text: str, spans: list[tuple[int, int]]) -> bool:
    """Whether every word better-profanity censored lies in an allowed school phrase."""
    allowed = [match.span() for match in _allowed_phrases(frozenset(school_allow_phrases())).finditer(text)]
    return all(any(start < a_end and a_start < end for a_start, a_end in allowed) for start, end in spans)


def test_everything_better_profanity_flags_the_draft_check_flags(request: pytest.FixtureRequest) -> None:
    count = LONG_TEXTS if request.config.getoption("--long") else TEXTS
    replica = ProfanityFilter.default()
    flagged = exempt = 0
    missed = []
    for text in generated_texts(count):
        spans = replica.spans(text)
        if not spans:
            continue
        flagged += 1
        if any(f.kind == "profanity" for f in check_draft(text, EMPTY).findings):
            continue
        if covered_by_allow_list(text, spans):
            exempt += 1
        else:
            missed.append(text)
    assert not missed, f"{len(missed)} texts better-profanity flags pass the draft check, e.g. {missed[:10]!r}"
    assert flagged > count // 3  # the generator really does produce profanity
    assert 0 < exempt < flagged // 10  # the allow-list is exercised, and excuses little


def test_the_replica_agrees_with_better_profanity_on_a_sample(request: pytest.FixtureRequest) -> None:
    sample = SAMPLE * (10 if request.config.getoption("--long") else 1)
    for text in itertools.islice(generated_texts(TEXTS), 0, None, TEXTS // sample):
        assert ProfanityFilter.default().contains_profanity(text) == profanity.contains_profanity(text), text


def test_the_evasions_better_profanity_misses_are_flagged() -> None:
    dodges = ["fuuuck", "Fuuuuck you", "f u c k", "fck", "bollocks", "ѕhit", "sh\u0131t", "ｆｕｃｋ", "#FuckThis"]
    for text in dodges:
        assert not profanity.contains_profanity(text), text
        assert [f.kind for f in check_draft(text, EMPTY).findings] == ["profanity"], text

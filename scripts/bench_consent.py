"""Benchmark for the consent lookup and the draft-post check; prints a table for the README.

    python scripts/bench_consent.py

Compares better-profanity's own contains_profanity with ours (same verdicts, timed
side by side) and with the whole draft check (the post normalised as a reader sees it,
names, profanity, personal data), then times resolve() and check_draft() against generated registers
of 200, 2,000 and 5,000 pupils with realistic UK names.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from better_profanity import profanity

from bot.draft_check import check_draft
from bot.name_mentions import finder_for
from bot.names import PupilIndex
from bot.profanity import ProfanityFilter
from bot.records.consent import Pupil

FIRST_NAMES = (
    "Oliver George Noah Arthur Muhammad Leo Harry Oscar Archie Henry Theodore Freddie Jack "
    "Charlie Theo Alfie Jacob Thomas Finley Arlo William Lucas Roman Tommy Isaac Teddy Alexander "
    "Olivia Amelia Isla Ava Ivy Freya Lily Florence Mia Willow Rosie Sophia Isabella Grace Daisy "
    "Sienna Poppy Elsie Emily Ella Evelyn Phoebe Sofia Evie Charlotte Harper Millie Matilda "
    "Zoë Chloé Renée Siân Seán Niamh Aoife Eilís Oisín Dáire José Zofia Łucja Aarav Priya Aisha "
    "Fatima Yusuf Ibrahim Kwame Chidi Amara Mary-Jane Jean-Luc Anne-Marie Mai Anh Wiktoria"
).split()
SURNAMES = [
    *(
        "Smith Jones Taylor Brown Williams Wilson Johnson Davies Patel Robinson Wright Thompson Evans "
        "Walker White Roberts Green Hall Thomas Clarke Jackson Wood Harris Edwards Turner Martin Cooper "
        "Hill Ward Hughes Moore Clark King Harrison Lewis Baker Lee Allen Morris Khan Scott Watson Davis "
        "Parker James Bennett Young Phillips Richardson Mitchell Bailey Carter Cook Singh Shaw Bell "
        "O'Brien O'Connor O'Neill D'Souza McDonald MacLeod Smith-Jones Lloyd-Webber Müller "
        "Nowak Kowalski Ahmed Begum Hussain Okafor Mensah Nguyen Lefèvre Gómez"
    ).split(),
    "Ní Bhriain",
    "Ó Súilleabháin",
    "van der Berg",
]
PREFERRED = {"Alexander": "Alex", "William": "Will", "Thomas": "Tom", "Isabella": "Bella", "Matilda": "Tilly", "Florence": "Flo"}

NEWS_WORDS = (
    "the our pupils class trip museum wonderful learned history science art music sport reading writing "
    "assembly parents welcome thank you everyone who came along today this week team worked hard "
    "on their projects and we are very proud of all the children in year four who shared poems"
).split()


def generated_register(size: int, rng: random.Random) -> list[Pupil]:
    pupils = []
    for number in range(size):
        first = rng.choice(FIRST_NAMES)
        preferred = PREFERRED.get(first, "") if rng.random() < 0.5 else ""
        pupils.append(
            Pupil(
                pupil_id=f"P{number:05d}",
                first_name=first,
                last_name=rng.choice(SURNAMES),
                preferred_name=preferred,
                class_name=f"{rng.randint(1, 6)}{rng.choice('ABC')}",
                consents={"page": rng.random() < 0.8, "group": True, "press": rng.random() < 0.5},
            )
        )
    return pupils


def typo(name: str, rng: random.Random) -> str:
    """One slip of a thumb anywhere, the first letter included: a swapped, dropped, doubled or wrong letter."""
    if len(name) < 2:
        return name
    at = rng.randrange(len(name) - 1)
    wrong = rng.choice("abcdefghijklmnopqrstuvwxyz")
    return rng.choice(
        [
            name[:at] + name[at + 1] + name[at] + name[at + 2 :],
            name[:at] + name[at + 1 :],
            name[:at] + name[at] + name[at:],
            name[:at] + wrong + name[at + 1 :],
        ]
    )


def queries(pupils: Sequence[Pupil], rng: random.Random, count: int) -> list[str]:
    """What admins type: exact names, a slip in one name or both, first names only, names without accents."""
    made = []
    for _ in range(count):
        pupil = rng.choice(pupils)
        made.append(
            rng.choice(
                [
                    f"{pupil.first_name} {pupil.last_name}",
                    f"{typo(pupil.first_name, rng)} {typo(pupil.last_name, rng)}",
                    typo(f"{pupil.first_name} {pupil.last_name}", rng),
                    pupil.first_name,
                    f"{pupil.first_name} {pupil.last_name}".encode("ascii", "ignore").decode().lower(),
                ]
            )
        )
    return made


def news_post(chars: int, pupils: Sequence[Pupil], rng: random.Random) -> str:
    words: list[str] = []
    while sum(len(word) + 1 for word in words) < chars:
        roll = rng.random()
        if roll < 0.01:
            pupil = rng.choice(pupils)
            words.append(f"{pupil.first_name} {pupil.last_name}")
        elif roll < 0.02:
            words.append(rng.choice(pupils).first_name)
        else:
            words.append(rng.choice(NEWS_WORDS) + ("." if rng.random() < 0.08 else ""))
    return " ".join(words)[:chars]


def disguise(post: str, rng: random.Random) -> str:
    """The post as someone dodging the check would write it: hidden characters, look-alike letters, held letters."""
    look_alikes = str.maketrans({"a": "а", "e": "е", "o": "о", "c": "с", "p": "р"})  # noqa: RUF001 - Cyrillic on purpose
    words = post.split(" ")
    for at in rng.sample(range(len(words)), len(words) // 5):
        word = words[at]
        words[at] = rng.choice([word.translate(look_alikes), word[:1] + "\u00ad" + word[1:], word[:1] + "\u200b" + word[1:]])
    return " ".join(words) + " Well done Amel\u00adia Sm\u200bith, fuuuck."


def timings(action: Callable[[str], object], inputs: Sequence[str]) -> list[float]:
    spent = []
    for item in inputs:
        started = time.perf_counter()
        action(item)
        spent.append((time.perf_counter() - started) * 1000)
    return spent


def best_of(action: Callable[[], object], runs: int) -> float:
    spent = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        spent.append((time.perf_counter() - started) * 1000)
    return min(spent)


def p99(values: Sequence[float]) -> float:
    return statistics.quantiles(values, n=100)[98]


def main() -> None:
    rng = random.Random(2026)
    started = time.perf_counter()
    ours = ProfanityFilter.default()
    build_ms = (time.perf_counter() - started) * 1000

    pupils = generated_register(2000, rng)
    post = news_post(4000, pupils, rng) + " what a load of sh1t."
    document = " ".join(rng.choice(NEWS_WORDS) for _ in range(5000)) + " f.u.c.k. that"
    index = PupilIndex(pupils)
    finder_for(index)  # built once per register, on the first draft check
    disguised = disguise(post, rng)
    print("## Profanity: better-profanity 0.7.0 contains_profanity vs ours (best of runs, ms)\n")
    print("`ours` gives better-profanity's own verdict; `draft check` is the whole /checkpost check (the post")
    print("read as a reader sees it, names from a 2,000-pupil register, profanity, personal data).\n")
    print("| text | better-profanity | ours | speed-up | same verdict | draft check | speed-up | flags it too |")
    print("| --- | ---: | ---: | ---: | --- | ---: | ---: | --- |")
    spaced = "a b c d e " * 400  # the worst case for reading letters typed apart ("f u c k")
    texts = (
        ("4,000-char post", post, 3),
        ("4,000-char post, disguised", disguised, 3),
        ("5,000-word document", document, 1),
        ("4,000 chars of letters typed apart", spaced, 1),
    )
    for label, text, their_runs in texts:
        theirs_ms = best_of(partial(profanity.contains_profanity, text), their_runs)
        ours_ms = best_of(partial(ours.contains_profanity, text), 20)
        whole_ms = best_of(partial(check_draft, text, index), 20)
        theirs = profanity.contains_profanity(text)
        same = theirs == ours.contains_profanity(text)
        flagged = any(f.kind == "profanity" for f in check_draft(text, index).findings)
        print(
            f"| {label} | {theirs_ms:,.1f} | {ours_ms:.2f} | {theirs_ms / ours_ms:,.0f}x | {'yes' if same else 'NO'} "
            f"| {whole_ms:.2f} | {theirs_ms / whole_ms:,.0f}x | {'yes' if flagged or not theirs else 'NO'} |"
        )
    print(f"\nOne-off build of our word table: {build_ms:.0f} ms.\n")

    print("## Lookup and draft check against generated registers (ms per call)\n")
    print("| pupils | index build | resolve median | resolve p99 | names-in-posts build | check_draft median | check_draft p99 |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for size in (200, 2000, 5000):
        register = generated_register(size, rng)
        started = time.perf_counter()
        index = PupilIndex(register)
        build_ms = (time.perf_counter() - started) * 1000
        asked = queries(register, rng, 2000)
        posts = [news_post(4000, register, rng) for _ in range(200)]
        resolve_ms = timings(index.resolve, asked)
        started = time.perf_counter()
        finder_for(index)
        finder_ms = (time.perf_counter() - started) * 1000
        draft_ms = timings(partial(check_draft, index=index), posts)
        print(
            f"| {size:,} | {build_ms:.0f} | {statistics.median(resolve_ms):.2f} | {p99(resolve_ms):.2f} "
            f"| {finder_ms:.0f} | {statistics.median(draft_ms):.2f} | {p99(draft_ms):.2f} |"
        )


if __name__ == "__main__":
    main()

"""The draft-post check: what in a post would break the policy if it were published.

Pupils' names (3.4), profanity (5.3) and personal data such as phone numbers, e-mail
addresses and postcodes (8.2). The post is read as a reader sees it (bot/text_normal.py:
no invisible characters, no look-alike letters, #CamelCase read apart), and every
finding quotes what the admin wrote. Excerpts are plain text; escaping happens where
the reply is built. Each concern reads the post in its own module: bot/name_mentions.py
(names), bot/swearing.py over bot/profanity.py (profanity), bot/personal_data.py.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from bot.config import Config
from bot.name_mentions import NameMention, finder_for, fold_name
from bot.names import PupilIndex
from bot.personal_data import find_personal_data
from bot.swearing import find_swearing
from bot.text_normal import normalise
from bot.word_lists import is_english_word, is_function_word, is_ordinary_word, school_allow_phrases

Kind = Literal[
    "pupil_full_name", "pupil_similar_name", "former_pupil_name", "pupil_first_name", "profanity", "phone", "email", "postcode"
]
Severity = Literal["block", "warn"]

PROFANITY_CLAUSE = "5.3"
NAME_CLAUSE = "3.4"
PERSONAL_DATA_CLAUSE = "8.2"


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
        """ "block" if anything must change before posting, "warn" if something needs a second look."""
        severities = {finding.severity for finding in self.findings}
        if "block" in severities:
            return "block"
        return "warn" if severities else "ok"


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
    for start, end in find_swearing(seen, allow):
        located.append((start, Finding("profanity", text[start:end], "block", PROFANITY_CLAUSE)))
    for kind, start, end in find_personal_data(seen, policy.phone_numbers, policy.email_domains, policy.postcodes):
        located.append((start, Finding(kind, text[start:end], "block", PERSONAL_DATA_CLAUSE)))
    return DraftReport(_first_of_each(located))


def named_pupil_ids(findings: Iterable[Finding], index: PupilIndex) -> tuple[str, ...]:
    """Ids of the pupils whose full name, a near spelling of it, or a leaver's name a check found: its audit
    entry lists them, so a subject access request finds the check. A first name alone could be any child's."""
    names = "\n".join(f.excerpt for f in findings if f.kind in ("pupil_full_name", "pupil_similar_name", "former_pupil_name"))
    found = {p.pupil_id for m in finder_for(index).mentions(names) if m.kind != "first" for p in m.pupils}
    return tuple(sorted(found))


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

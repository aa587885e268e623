"""The audit log as a governor reads it: one plain-English sentence per entry, and filters.

Entries keep internal keys (pupil ids, user ids, hashes) so the export can be checked against
other records; this module turns them into "Ada Admin checked the consent of P004: Facebook
page ✅, parents' group ❌" and leaves hashes and draft ids out. It knows nothing of Telegram.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from zoneinfo import ZoneInfo

from bot.date_range import DateRange
from bot.records.audit import SYSTEM, AuditEntry

# Kinds of action a governor filters by: key -> label (keys go into callback data).
KINDS: dict[str, str] = {
    "consent": "Consent and photos",
    "incidents": "Incidents",
    "applications": "Parents' group",
    "access": "Staff access",
    "moderation": "Page moderation",
    "records": "Audit, exports, subject access",
    "other": "Other",
}

_KIND_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("records", ("audit", "export", "subject access", "digest", "status", "backup", "restore", "purge", "retention")),
    ("incidents", ("incident", "misuse", "ban", "evidence", "head unreachable", "photo received")),
    ("consent", ("consent", "photo", "draft check", "register import", "expiring", "expiry")),
    ("applications", ("application", "applicant", "join request", "apply", "ask for information", "pending")),
    ("moderation", ("rota", "moderation", "nudge")),
    ("access", ("grant", "revoke", "access", "staff", "start", "help", "message", "button", "reachable", "step")),
)

_REFUSALS = {
    "refused: role": "not allowed for their role",
    "refused: group chat": "asked in a group chat",
    "refused: not staff": "not a member of staff",
    "refused: unknown pupil": "no such pupil on the register",
    "refused: already decided": "it was already decided",
    "refused: not the reporter": "someone else's report",
    "refused: access changed": "their access had changed",
    "refused: not asked": "the question was someone else's",
    "refused: not theirs": "it was someone else's",
    "refused: not recorded by them": "someone else recorded that form",
    "refused: out of date": "things had changed since they were asked",
    "refused: unknown button": "an old or unknown button",
    "refused: unreadable photo": "the photo could not be read",
    "refused: invalid text": "the text could not be stored",
    "refused: mass removal not confirmed": "removing so many pupils was not confirmed",
}

# What someone refused tried to do, where the action's own name does not read as English after "tried to".
_TRIED = {
    "consent lookup": "look up a pupil's consent",
    "consent pick": "pick a pupil to check the consent of",
    "draft check": "check a draft post",
    "check photo": "check a photo",
    "photo check": "check a photo",
    "photo safety check": "check a photo",
    "photo blur": "blur a photo",
    "photo blurred": "blur a photo",
    "photo received": "send a photo",
    "register import": "load the consent register",
    "register import confirm": "confirm loading the consent register",
    "retention preview": "list the records past their retention period",
    "retention purge": "delete the records past their retention period",
    "subject access": "look up everything held about a pupil",
    "subject access search": "search for a pupil for a subject access request",
    "moderation check": "record the page check",
    "moderation remind": "remind the moderator",
    "rota change": "change the moderation rota",
    "status": "look at the bot's status",
    "start": "open the bot",
    "help": "read the help",
    "message": "send the bot a message",
    "button": "use a button",
    "incident action": "record an action on an incident",
    "application note": "write a note on an application",
    "application reason": "give a reason on an application",
    "read audit log": "read the audit log",
    "read digest": "read the weekly digest",
    "export audit": "export the audit log",
    "view incident alert": "look at an incident alert",
    "decide application": "decide an application",
    "decide access request": "decide a request for access",
    "confirm access change": "confirm a change of access",
    "cancel access change": "cancel a change of access",
    "record application": "record a paper form",
    "view application": "look at an application",
    "view incident": "look at an incident",
    "acknowledge incident": "acknowledge an incident",
    "close incident": "close an incident",
    "confirm incident": "confirm a misuse report",
    "ban": "record a ban",
    # A step of a conversation refused because the person's access changed half-way ("{flow} step").
    "incident_log step": "go on with a misuse report",
    "incident_ban step": "go on recording a ban",
    "application_form step": "go on recording a paper form",
    "application_note step": "go on writing a note on an application",
    "application_answer step": "go on answering a question about an application",
    "apply step": "go on applying to join the parents' group",
    "consent_check step": "go on checking a photo's consent",
}

_PUPIL_TARGETS = ("consent lookup", "subject access", "subject access search")
_PUPILS = re.compile(r"\bpupils? ([^;]+)")
_HIDDEN = re.compile(r"\b(sha256 [0-9a-f]+|draft [0-9a-f]{6,})")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def kind_of(action: str) -> str:
    """Which filter kind an action belongs to (by the words of its name)."""
    words = action.lower()
    for kind, needles in _KIND_WORDS:
        if any(needle in words for needle in needles):
            return kind
    return "other"


def pupils_named(entry: AuditEntry) -> tuple[str, ...]:
    """Pupil ids an entry is about: a lookup's target, or a "pupils P1,P2" list in its detail."""
    if entry.action in _PUPIL_TARGETS and entry.target and " " not in entry.target:
        return (entry.target,)
    found = _PUPILS.search(entry.detail)
    if not found:
        return ()
    ids = (part.split(":")[0].strip() for part in found.group(1).split(" and ")[0].split(","))
    return tuple(i for i in ids if i and i not in ("?", "none"))


@dataclass(frozen=True)
class AuditFilter:
    """What a reader narrowed the log to; every part optional."""

    person: int | None = None
    kind: str = ""
    pupil: str = ""
    days: DateRange = field(default_factory=DateRange)

    @property
    def empty(self) -> bool:
        return self.person is None and not self.kind and not self.pupil and self.days.open

    def matches(self, entry: AuditEntry) -> bool:
        """Whether an entry passes (the date range is applied by the reader, which seeks to it)."""
        if self.person is not None and entry.actor_id != self.person:
            return False
        if self.kind and kind_of(entry.action) != self.kind:
            return False
        return not self.pupil or self.pupil in pupils_named(entry)

    def needle(self) -> bytes:
        """Bytes every matching line contains, so the reader can skip the rest without decoding them."""
        if self.pupil:
            return self.pupil.encode()
        if self.person is not None:
            return f'"actor_id":{self.person},'.encode()
        return b""

    def describe(self, name_of: Callable[[int], str]) -> str:
        parts = []
        if self.person is not None:
            parts.append(f"by {name_of(self.person)}")
        if self.kind:
            parts.append(KINDS.get(self.kind, self.kind).lower())
        if self.pupil:
            parts.append(f"about pupil {self.pupil}")
        if not self.days.open:
            parts.append(self.days.describe())
        return ", ".join(parts) if parts else "everything"

    def to_state(self) -> dict[str, object]:
        """Plain values for a person's kept state (their open audit pages)."""
        return {
            "person": self.person,
            "kind": self.kind,
            "pupil": self.pupil,
            "first": self.days.first,
            "last": self.days.last,
        }

    @classmethod
    def from_state(cls, kept: dict[str, object]) -> AuditFilter:
        person, kind, pupil = kept.get("person"), kept.get("kind"), kept.get("pupil")
        first, last = kept.get("first"), kept.get("last")
        return cls(
            person if isinstance(person, int) else None,
            kind if isinstance(kind, str) and kind in KINDS else "",
            pupil if isinstance(pupil, str) else "",
            DateRange(first if isinstance(first, date) else None, last if isinstance(last, date) else None),
        )

    def with_days(self, days: DateRange) -> AuditFilter:
        return replace(self, days=days)


@dataclass(frozen=True)
class Wording:
    """What a sentence needs from outside the entry: people's names and the consent purposes' labels."""

    name_of: Callable[[int], str]
    purpose: Callable[[str], str]
    tz: ZoneInfo


def actor_words(entry: AuditEntry, wording: Wording) -> str:
    if entry.actor_id == SYSTEM:
        return "The bot"
    if entry.actor_role == "stranger":
        return "Someone without access"
    return wording.name_of(entry.actor_id)


def _target_words(entry: AuditEntry, wording: Wording) -> str:
    target = entry.target
    if target.startswith("user ") and target[5:].isdigit():
        return wording.name_of(int(target[5:]))
    if target.startswith("application "):
        return "application #" + target[len("application ") :]
    if _DAY.fullmatch(target):  # a page check's day, as the school writes a date
        day = date.fromisoformat(target)
        return f"{day:%a} {day.day} {day:%b}"
    return "" if _HIDDEN.fullmatch(target) else target


def _verdicts(detail: str, wording: Wording) -> str:
    """ "page:yes,group:no" -> "Facebook page ✅, parents' group ❌"."""
    marks = []
    for part in detail.split(","):
        purpose, _, answer = part.partition(":")
        if answer:
            marks.append(f"{wording.purpose(purpose)} {'✅' if answer == 'yes' else '❌'}")
    return ", ".join(marks)


def _photo_check(entry: AuditEntry, wording: Wording) -> str:
    purpose = re.search(r"purpose (\w+)", entry.detail)
    listed = _PUPILS.search(entry.detail)
    marks = []
    for part in listed.group(1).split(",") if listed else ():
        pupil, _, answer = part.strip().partition(":")
        if pupil and pupil not in ("?", "none"):
            marks.append(pupil + {"yes": " ✅", "no": " ❌"}.get(answer, ""))
    of = f" of {', '.join(marks)}" if marks else ""
    where = f" for the {wording.purpose(purpose.group(1))}" if purpose else ""
    verdict = "clear to upload" if entry.outcome == "ok to upload" else "not clear"
    what = "checked a photo" if entry.target.startswith("photo") else "checked the names for a photo"
    return f"{what}{of}{where}: {verdict}"


_CHECK_VERDICTS = {"ok": "nothing to change", "warn": "something to look at again", "block": "must change before posting"}


def _named_check(entry: AuditEntry, what: str) -> str:
    """A draft or photo-safety check: its verdict in words, and the pupils whose names it found (by id)."""
    named = ", ".join(pupils_named(entry))
    verdict = _CHECK_VERDICTS.get(entry.outcome)
    if entry.action == "draft check":
        return what + (f" naming {named}" if named else "") + (f": {verdict}" if verdict else "")
    return what + (f": {verdict}" if verdict else "") + (f" (the name of {named} can be read in it)" if named else "")


def _consent_lookup(entry: AuditEntry, wording: Wording) -> str:
    if entry.outcome == "one":
        verdicts = _verdicts(entry.detail, wording)
        return f"checked the consent of {entry.target}" + (f": {verdicts}" if verdicts else "")
    if entry.outcome == "several":
        return "looked up a pupil's consent and was asked which pupil they meant"
    if entry.outcome == "none":
        return "looked up a pupil's consent: no pupil of that name"
    if entry.outcome == "not confirmed":
        return "said none of the pupils offered was the one they meant (no answer given)"
    return "looked up a pupil's consent"


_PHRASES: dict[str, str] = {
    "read audit log": "read the audit log",
    "draft check": "checked a draft post",
    "expiring consents": "listed consents about to expire",
    "register import": "loaded the consent register",
    "consent withdrawn notice": "told staff that consent was withdrawn or narrowed",
    "incident opened": "logged incident {target}",
    "confirm incident": "confirmed incident {target}",
    "incident alert": "alerted the Head Teacher to {target}",
    "incident re-ping": "reminded the Head Teacher about {target}",
    "head unreachable": "could not reach the Head Teacher about {target}",
    "acknowledge incident": "acknowledged {target}",
    "close incident": "closed {target}",
    "view incident": "looked at {target}",
    "list incidents": "listed the incidents",
    "list bans": "read the ban register",
    "ban": "recorded a ban for {target}",
    "log misuse: cancel": "cancelled a misuse report before sending it",
    "log misuse: timed out": "left a misuse report unfinished (it timed out)",
    "export incidents": "exported the incidents",
    "rota change": "changed the moderation rota",
    "moderation check": "recorded the page check for {target}",
    "grant": "gave {target} access",
    "revoke": "removed {target}'s access",
    "request access": "asked for access",
    "decline access": "declined {target}'s request for access",
    "record application": "recorded the paper form {target}",
    "approve application": "approved {target}",
    "reject application": "rejected {target}",
    "view application": "looked at {target}",
    "list pending applications": "listed the applications waiting",
    "subject access": "looked up everything held about pupil {target}",
    "subject access search": "searched for a pupil for a subject access request",
    "read digest": "read the weekly digest",
    "backup": "made a backup of the data folder",
    "backup failed": "could not make a backup of the data folder",
    "backup restored": "put the data folder back from the backup {target}",
    "retention purge finished": "deleted the screenshots a stopped purge had left behind",
    "retention purge": "deleted records past their retention period",
    "retention preview": "listed the records past their retention period",
    "retention cancel": "cancelled the deletion of records past their retention period",
    "status": "looked at the bot's status",
    "photo safety check": "checked a photo's metadata, faces and visible names",
    "photo blurred": "blurred parts of a photo",
    "delivery failed": "could not deliver a message to {target}",
    "delivery cancelled": "cancelled a message to {target} (their access changed)",
    "unreachable": "could not reach {target} on Telegram",
    "reachable again": "could reach {target} on Telegram again",
    "applicant answered": "received the applicant's answers for {target}",
    "applicant named children": "received the children named for {target}",
    "applicant code of conduct": "received the applicant's code of conduct answer for {target}",
    "applicant shared contact": "received the applicant's phone contact for {target}",
    "application reason": "gave a reason on {target}",
    "ask for information": "asked the applicant for more information on {target}",
    "join request": "received a request to join the parents' group ({target})",
    "link application": "linked {target} to another application",
    "remind slt about application": "reminded the leaders about {target}",
    "answer question about application": "answered a leader's question on {target}",
    "tell head about application": "told the Head Teacher about {target}",
    "remind applicant": "reminded the applicant of {target}",
    "application outcome sent": "told the applicant the outcome of {target}",
    "cancel application form": "cancelled a paper form before saving it",
    "application form timed out": "left a paper form unfinished (it timed out)",
    "approve join request": "approved on Telegram the request to join of {target}",
    "decline join request": "declined on Telegram the request to join of {target}",
    "start": "opened the bot",
    "help": "read the help",
}


# What an action was done to, when a count of actions (the weekly digest) names no one thing.
_SOMETHING = {
    "incidents": "an incident",
    "applications": "an application",
    "consent": "a pupil",
    "access": "a member of staff",
}
_TRAILING_TARGET = re.compile(r" (?:for|about|to|of|on) \{target\}$| \(\{target\}\)")
_NAMED_TARGETS = (
    ("incident {target}", "an incident"),
    ("pupil {target}", "a pupil"),
    ("the paper form {target}", "a paper form"),
    ("the backup {target}", "a backup"),
    ("a message to {target}", "a message"),
)
_UNPHRASED = {"photo check": "checked a photo's consent", "consent lookup": "looked up a pupil's consent"}


def action_words(action: str) -> str:
    """An action in plain words without its target ("recorded the page check"), for counts of actions."""
    if action.startswith("incident action "):
        return f"recorded “{action[len('incident action ') :]}” on an incident"
    if action.startswith("export "):
        return f"exported {action[len('export ') :]}"
    phrase = _PHRASES.get(action)
    if phrase is None:
        return _UNPHRASED.get(action, action.replace("_", " "))
    phrase = _TRAILING_TARGET.sub("", phrase)
    for named, plain in _NAMED_TARGETS:
        phrase = phrase.replace(named, plain)
    return phrase.replace("{target}", _SOMETHING.get(kind_of(action), "a record"))


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe(entry: AuditEntry, wording: Wording) -> str:
    """One sentence a governor can read; no hashes, no internal draft ids."""
    who = _short(actor_words(entry, wording))
    target = _short(_target_words(entry, wording))
    if entry.action == "consent lookup" and not entry.outcome.startswith("refused"):
        what = _consent_lookup(entry, wording)
    elif entry.action == "photo check":
        what = _photo_check(entry, wording)
    elif entry.action in ("draft check", "photo safety check") and not entry.outcome.startswith("refused"):
        what = _named_check(entry, _PHRASES[entry.action])
    elif entry.action.startswith("incident action "):
        what = f"recorded “{entry.action[len('incident action ') :]}” on {target}"
        what += " and acknowledged it" if "acknowledged" in entry.detail.split("; ") else ""
    elif entry.action.startswith("export "):
        what = f"exported {entry.action[len('export ') :]}" + (f" ({target})" if target else "")
    elif entry.action in _PHRASES:
        what = _PHRASES[entry.action].format(target=target or "—")
    else:
        what = _short(entry.action.replace("_", " ")) + (f" — {target}" if target else "")
    if entry.outcome.startswith("refused"):
        reason = _REFUSALS.get(entry.outcome, entry.outcome.removeprefix("refused").lstrip(": ") or "refused")
        tried = _TRIED.get(entry.action) or _short(entry.action.replace("_", " "))
        return f"{who} tried to {tried}{' — ' + target if target else ''}: refused ({_short(reason)})"
    if entry.outcome not in ("ok", "one", "several", "none", "not confirmed", "ok to upload", "blocked", *_CHECK_VERDICTS):
        what += f" ({_short(entry.outcome)})"
    return f"{who} {what}"

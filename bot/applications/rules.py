"""What an application's inputs may be, who is the same person, and what each step answers.

The rules every part of an application follows: how long a name or a note may be, how long
a leader's note waits, how typed text is tidied (or refused kindly), how a phone number or a
username on a paper form is read, and the small records each step hands back to the handlers.
A Telegram display name is whatever the requester typed, so it never links two applications on
its own: only the same account, a username or phone number the office wrote on the form, or
two paper forms (both the office's record) for one parent and child.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import timedelta

from bot.names import fold
from bot.records.applications import Child, GroupApplication, Source, username_in
from bot.roles import Role

MAX_PARENT = 100
MAX_RELATIONSHIP = 40
MAX_CHILD = 100
MAX_CHILDREN = 8
MAX_FORM_REF = 40
MAX_CONTACT = 64
MAX_NOTE = 500  # a reason, a question or an applicant's answer
# A leader's typed reason or question is awaited this long, and a typed one waits this long
# for Send: long enough to type on a phone, short enough that unrelated text typed later
# (a reply meant for someone else) is never captured and sent to a parent.
LEADER_NOTE_WAIT = timedelta(minutes=5)
# A rejection is announced without a reason after this: two note windows (type, then Send).
REASON_WAIT = 2 * LEADER_NOTE_WAIT
HEAD_AFTER = timedelta(days=7)
# Who is told what: every leader gets the card and every reminder (the Head Teacher decides too,
# issue 16); after HEAD_AFTER the Head Teacher is also told on their own that it has waited a week.
REMINDED = (Role.HEAD, Role.SLT, Role.DEPUTY)

CONDUCT_REQUIRED = (
    "This application cannot be submitted: policy 2.2 says a parent joins the group only after "
    "signing the code of conduct. Ask the parent to sign it first."
)
_PHONE = re.compile(r"^\+?[0-9][0-9 ().-]{5,22}$")
PHONE_MATCH_DIGITS = 9  # "07700 900123" on a form and "447700900123" from Telegram share these


class Invalid(ValueError):
    """Something a person typed that cannot be used; the message says how to fix it."""


@dataclass
class PaperForm:
    """The draft /apply builds step by step (mutable: it lives only in the conversation)."""

    parent_name: str = ""
    relationship: str = ""
    children: list[Child] = field(default_factory=list)
    conduct_signed: bool = False
    form_ref: str = ""
    contact: str = ""
    phone: str = ""


@dataclass(frozen=True)
class Filed:
    """What became of a form or an applicant's answers: `linked` to an open application, or new.

    `submitted` means the application has just gone to the senior leaders (send the cards);
    `refreshed` means an application already with them gained details (update the cards);
    `folded` is a join requester's own application now linked into it (update its cards too);
    `unchanged` means a repeat (a double tap): nothing was stored and nothing needs saying.
    """

    application: GroupApplication
    linked: bool = False
    submitted: bool = False
    refreshed: bool = False
    folded: GroupApplication | None = None
    unchanged: bool = False
    flagged: tuple[GroupApplication, ...] = ()  # join requests now marked "same name as this form"


@dataclass(frozen=True)
class Joined:
    """A join request: a new application, a repeat of an open one, or linked to a paper form."""

    application: GroupApplication
    kind: str  # "new", "again", "linked"


@dataclass(frozen=True)
class Decision:
    application: GroupApplication | None
    won: bool


def clean(text: str, limit: int, what: str) -> str:
    """Tidy what a person typed, or say kindly why it cannot be used."""
    value = " ".join(text.split())
    if not value:
        raise Invalid(f"Please type the {what}.")
    if len(value) > limit:
        raise Invalid(f"That is too long for the {what}: at most {limit} characters, please.")
    return value


def clean_note(text: str, what: str) -> str:
    """A reason, question or answer: line breaks kept, length limited."""
    value = "\n".join(line.strip() for line in text.strip().splitlines() if line.strip())
    if not value:
        raise Invalid(f"Please type the {what}.")
    if len(value) > MAX_NOTE:
        raise Invalid(f"That is too long for the {what}: at most {MAX_NOTE} characters, please.")
    return value


def phone_digits(text: str) -> str:
    """The digits of a phone number as written or shared ("+44 7700 900123"), or "" if it is not one."""
    value = text.strip()
    if not _PHONE.match(value):
        return ""
    digits = re.sub(r"[^0-9]", "", value)
    return digits if 7 <= len(digits) <= 15 else ""


def same_phone(a: str, b: str) -> bool:
    """The same number, written nationally on a form or internationally by Telegram."""
    return len(a) >= PHONE_MATCH_DIGITS <= len(b) and a[-PHONE_MATCH_DIGITS:] == b[-PHONE_MATCH_DIGITS:]


def parse_contact(text: str) -> tuple[str, str]:
    """What the office copies from the form: a Telegram username and/or a phone number.

    Returns ("@name" or "", phone digits or ""). Anything else cannot link a join request
    to the form, so it is refused rather than kept as if it could.
    """
    words = text.replace(",", " ").replace(";", " ").split()
    names = [username_in(word) for word in words if username_in(word)]
    rest = " ".join(word for word in words if not username_in(word))
    phone = phone_digits(rest) if rest else ""
    if len(names) > 1 or (rest and not phone) or not (names or phone):
        raise Invalid("Please type the Telegram username (like @name) and/or the phone number written on the form, or tap Skip.")
    return ("@" + names[0] if names else ""), phone


def clip_name(name: str) -> str:
    name = " ".join(name.split())
    return name if len(name) <= MAX_PARENT else name[: MAX_PARENT - 1] + "…"


def children_detail(application: GroupApplication) -> str:
    """For the audit log: pupil ids and a count of unmatched children, never a name."""
    ids = ",".join(application.pupil_ids()) or "none"
    return f"pupils {ids}; not on register {application.unmatched}"


def verified_same(a: GroupApplication, b: GroupApplication) -> bool:
    """The same person by something Telegram or the school verified: never by a display name.

    The same Telegram account; a username Telegram gave the requester that the office wrote on
    the form; or a phone number on the form that the requester shared from their own account.
    """
    if a.applicant_id and a.applicant_id == b.applicant_id:
        return True
    if a.handles & b.handles:
        return True
    return same_phone(a.phone, b.phone)


def same_name(a: GroupApplication, b: GroupApplication) -> bool:
    return fold(a.parent_name) == fold(b.parent_name) != ""


def same_person(a: GroupApplication, b: GroupApplication) -> bool:
    """Verified as the same person; or two paper forms (both the office's record) for one parent and child.

    A Telegram application's name is whatever the requester typed into Telegram, so it never
    links on a name: a stranger called "Jo Bloggs" must not inherit Jo Bloggs's vetted form.
    """
    if verified_same(a, b):
        return True
    both_paper = a.source is Source.PAPER and b.source is Source.PAPER
    return both_paper and same_name(a, b) and bool({c.key for c in a.children} & {c.key for c in b.children})


def merge(existing: GroupApplication, other: GroupApplication) -> GroupApplication:
    """Fold a repeat's details into the open application, keeping what it already had."""
    known = {child.key for child in existing.children}
    extra = tuple(child for child in other.children if child.key not in known)
    return replace(
        existing,
        relationship=existing.relationship or other.relationship,
        children=(existing.children + extra)[:MAX_CHILDREN],
        conduct_signed=existing.conduct_signed or other.conduct_signed,
        form_ref=existing.form_ref or other.form_ref,
        contact=existing.contact or other.contact,
        phone=existing.phone or other.phone,
        recorded_by=existing.recorded_by + tuple(s for s in other.recorded_by if s not in existing.recorded_by),
        applicant_id=existing.applicant_id or other.applicant_id,
        applicant_username=existing.applicant_username or other.applicant_username,
        join_chat_id=existing.join_chat_id or other.join_chat_id,
    )

"""A parents' group application as stored: its children, its history, a leader's note under way, and what is owed."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.names import fold

_USERNAME = re.compile(r"^(?:@|(?:https?://)?t\.me/)([A-Za-z][A-Za-z0-9_]{3,31})$")


class Status(StrEnum):
    COLLECTING = "collecting"  # a join request waiting for the applicant's answers
    PENDING = "pending"  # with the senior leaders
    APPROVED = "approved"
    REJECTED = "rejected"
    LINKED = "linked"  # a repeat folded into another application


class Source(StrEnum):
    PAPER = "paper"
    TELEGRAM = "telegram"


class JoinAction(StrEnum):
    """Telegram's side of a decision on an applicant who asked to join the group."""

    APPROVE = "approve"
    DECLINE = "decline"


class NoteKind(StrEnum):
    """What a leader types after a press on a card."""

    REASON = "reason"  # a leader who rejected may type a reason
    QUESTION = "question"  # a leader asking for information types the question


@dataclass(frozen=True)
class Child:
    """A child named on an application: matched to the register, or flagged for SLT."""

    name: str  # as written on the form or typed by the applicant
    pupil_id: str = ""  # "" = not found on the register

    @property
    def key(self) -> str:
        return self.pupil_id or "name:" + fold(self.name)


@dataclass(frozen=True)
class GroupApplication:
    """An application to join the parents' group (named apart from PTB's Application, the running bot)."""

    number: int
    source: Source
    status: Status
    parent_name: str
    created_at: datetime
    relationship: str = ""
    children: tuple[Child, ...] = ()
    conduct_signed: bool = False
    form_ref: str = ""
    contact: str = ""  # a Telegram username written on the paper form ("@name")
    phone: str = ""  # digits: written on the paper form, or shared by the join requester themselves
    recorded_by: tuple[int, ...] = ()  # staff who recorded paper forms: told the outcome
    applicant_id: int = 0  # a Telegram join requester the bot may write to
    applicant_username: str = ""
    join_chat_id: int = 0  # the group whose join request this decision answers
    submitted_at: datetime | None = None
    decided_by: int = 0
    decided_at: datetime | None = None
    reason: str = ""
    outcome_told: bool = False
    previous: int = 0  # an earlier, decided application by the same person
    linked_to: int = 0  # for LINKED: the application this repeat was folded into
    reminders_sent: int = 0  # reminder periods SLT have been reminded of
    head_told: bool = False
    applicant_nudged: bool = False
    join_action: JoinAction | None = None  # until Telegram answers
    join_queued: bool = False  # the decision is in the outbox, which retries it
    join_result: str = ""
    same_name_as: int = 0  # a paper form for someone of the same name: verify before approving
    conduct_refused: bool = False  # the applicant tapped "I do not agree" (recorded once)
    question_by: int = 0  # the leader whose question waits for the applicant's answer
    recorder_question_by: int = 0  # the leader whose question waits for the answer of whoever recorded the form

    @property
    def unmatched(self) -> int:
        return sum(1 for child in self.children if not child.pupil_id)

    @property
    def handles(self) -> set[str]:
        """Telegram usernames that identify the parent: Telegram's own, or written on the form by the office."""
        found = {self.applicant_username.lower()} | {username_in(self.contact)}
        return {handle for handle in found if handle}

    def pupil_ids(self) -> list[str]:
        return [child.pupil_id for child in self.children if child.pupil_id]


@dataclass(frozen=True)
class Event:
    """One line of an application's history (shown by /application N)."""

    number: int
    at: datetime
    actor_id: int
    text: str


@dataclass(frozen=True)
class LeaderNote:
    """A leader's reason or question under way: kept with their conversation, shown back before Send."""

    kind: NoteKind
    number: int
    draft: str = ""  # the typed text, sent only when they tap Send
    prompt_id: int = 0  # the message whose buttons (Skip, Send, Cancel) are live: taken off when the next step comes


def username_in(contact: str) -> str:
    """The Telegram username a contact names ("@pat_p", "t.me/pat_p"), lower-cased, or ""."""
    match = _USERNAME.match(contact.strip())
    return match.group(1).lower() if match else ""


class ChaseKind(StrEnum):
    REMIND = "remind"  # still waiting for a decision after remind_after_hours (each period)
    HEAD = "head"  # still waiting after a week: the Head Teacher is told
    APPLICANT = "applicant"  # a join requester still to answer the questions
    OUTCOME = "outcome"  # the decision, for the applicant and whoever recorded the form
    JOIN = "join"  # Telegram's side of the decision: approve or decline the join request
    JOIN_REFUSED = "join_refused"  # Telegram refused it: the leaders must do it by hand


class Reader(StrEnum):
    """Who a notice is for, which decides how it is sent."""

    LEADER = "leader"  # a decision-maker: on the application's thread, with the decision buttons
    APPLICANT = "applicant"  # the join requester: worth sending for a while only
    RECORDER = "recorder"  # office staff who recorded the form: only while they may still see it
    TELEGRAM = "telegram"  # the join request itself (chat_id is the group)


@dataclass(frozen=True)
class Notice:
    """One person told (or one call made), under an outbox key that makes it happen once."""

    key: str
    chat_id: int
    reader: Reader


@dataclass(frozen=True)
class Chase:
    """Something owed about an application now: what, to whom, under which keys."""

    application: GroupApplication
    kind: ChaseKind
    notices: tuple[Notice, ...]
    period: int = 0  # for REMIND: the reminder period this one covers
    detail: str = ""  # for JOIN_REFUSED: Telegram's words

"""Parents' group applications (policy 1.3, 2.2): paper forms and Telegram join requests, decided by SLT.

A parent joins the private group only after signing the code of conduct and a senior
leader approving them. The first decision wins; a repeat by the same person is linked to
the application already open instead of reaching SLT twice. Everything that is due later
(reminders, the Head's notice, Telegram's approve/decline) is derived from what is stored.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.names import fold
from bot.records.applications import (
    Chase,
    ChaseKind,
    Child,
    Event,
    GroupApplication,
    Notice,
    Prompt,
    PromptKind,
    Reader,
    Source,
    Status,
    username_in,
)
from bot.records.outbox import JoinAnswer
from bot.roles import Role

if TYPE_CHECKING:
    from bot.services import Services

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
LEADER_PROMPT_WAIT = timedelta(minutes=5)
# A rejection is announced without a reason after this: two prompt windows (type, then Send).
REASON_WAIT = 2 * LEADER_PROMPT_WAIT
HEAD_AFTER = timedelta(days=7)
# Who is told what: every leader gets the card; reminders go to SLT and the deputy, and after
# HEAD_AFTER the Head Teacher is told on their own (issue 6: "SLT reminded; a week: the Head told").
REMINDED = (Role.SLT, Role.DEPUTY)

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
        raise Invalid(
            "Please type the Telegram username (like @name) and/or the phone number written on the form, "
            "or tap Skip."
        )
    return ("@" + names[0] if names else ""), phone


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


class Applications:
    """Every step of an application, each stored and audited before anyone is told."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.repo = services.applications

    @property
    def _now(self) -> datetime:
        return self.services.clock.now()

    @property
    def remind_after(self) -> timedelta:
        return timedelta(hours=self.services.config.applications.remind_after_hours)

    # ---- reading ------------------------------------------------------------------------
    def get(self, number: int) -> GroupApplication | None:
        return self.repo.get(number)

    def history(self, number: int) -> list[Event]:
        return self.repo.events(number)

    def open_applications(self) -> list[GroupApplication]:
        """Pending and still-collecting applications, oldest first."""
        return self.repo.with_status(Status.PENDING, Status.COLLECTING)

    def children_named(self, text: str) -> list[Child]:
        """Match typed names against the register: only a certain match becomes a pupil id."""
        lines = [line for line in (raw.strip() for raw in text.splitlines()) if line]
        if not lines:
            raise Invalid("Please type your child's full name.")
        if len(lines) > MAX_CHILDREN:
            raise Invalid(f"At most {MAX_CHILDREN} children on one application, please.")
        index = self.services.consents.index()
        children = []
        for line in lines:
            name = clean(line, MAX_CHILD, "child's name")
            resolution = index.resolve(name)
            children.append(Child(name, resolution.matches[0].pupil.pupil_id if resolution.kind == "one" else ""))
        return children

    # ---- paper forms --------------------------------------------------------------------
    def record_paper(self, form: PaperForm, by: int, by_name: str) -> Filed:
        """File a paper form: linked to the same person's open application, or a new one for SLT."""
        if not form.conduct_signed:
            raise Invalid(CONDUCT_REQUIRED)
        if not form.children:
            raise Invalid("Please add at least one child.")
        now = self._now
        candidate = GroupApplication(
            number=0,
            source=Source.PAPER,
            status=Status.PENDING,
            parent_name=form.parent_name,
            created_at=now,
            relationship=form.relationship,
            children=tuple(form.children),
            conduct_signed=True,
            form_ref=form.form_ref,
            contact=form.contact,
            phone=form.phone,
            recorded_by=(by,),
            submitted_at=now,
        )
        existing = self._open_same_person(candidate)
        if existing is not None:
            merged = merge(existing, candidate)
            if existing.source is Source.TELEGRAM:  # the office's vetted name replaces the Telegram one
                merged = replace(merged, source=Source.PAPER, parent_name=candidate.parent_name)
            submitted = merged.status is Status.COLLECTING
            if submitted:  # the form supplies what the join requester had not answered yet
                merged = replace(merged, status=Status.PENDING, submitted_at=now)
                self._clear_applicant_prompt(merged)
            self.repo.save(merged)
            self._event(merged.number, by, f"Paper form {form.form_ref} recorded by {by_name}: linked to this application")
            detail = f"paper form; {_children_detail(candidate)}"
            self.services.audit(by, "link application", f"application {merged.number}", detail=detail)
            return Filed(merged, linked=True, submitted=submitted, refreshed=not submitted)
        application = self.repo.add(replace(candidate, previous=self._previous_of(candidate)))
        self._event(application.number, by, f"Paper form {form.form_ref} recorded by {by_name}")
        self._event(application.number, 0, "Sent to the senior leaders")
        self.services.audit(by, "record application", f"application {application.number}", detail=_children_detail(application))
        flagged = tuple(
            self._flag_same_name(other, application)
            for other in self.repo.with_status(Status.PENDING, Status.COLLECTING)
            if other.source is Source.TELEGRAM and not other.same_name_as and same_name(other, application)
        )
        return Filed(application, submitted=True, flagged=flagged)

    # ---- Telegram join requests ---------------------------------------------------------
    def receive_join_request(self, user_id: int, name: str, username: str, chat_id: int) -> Joined:
        """A join request becomes an application, unless this person already has one open."""
        now = self._now
        own = self.repo.open_for_applicant(user_id)
        if own is not None:
            if own.join_chat_id != chat_id:
                own = replace(own, join_chat_id=chat_id)
                self.repo.save(own)
            # Withdrawing and asking again in a loop must not grow the history: one line per run.
            if self._event_once(own.number, user_id, "Asked to join the group again"):
                self.services.audit(user_id, "join request", f"application {own.number}", detail="repeat: linked")
            return Joined(own, "again")
        candidate = GroupApplication(
            number=0,
            source=Source.TELEGRAM,
            status=Status.COLLECTING,
            parent_name=clip_name(name or f"Telegram user {user_id}"),
            created_at=now,
            applicant_id=user_id,
            applicant_username=username,
            join_chat_id=chat_id,
        )
        form = next(
            (a for a in self.repo.with_status(Status.PENDING) if a.handles & candidate.handles), None
        )
        if form is not None:
            linked = merge(form, candidate)
            self.repo.save(linked)
            self._event(linked.number, user_id, f"Telegram join request from @{username}: linked to this application")
            self.services.audit(user_id, "join request", f"application {linked.number}", detail="linked to a paper form")
            return Joined(linked, "linked")
        application = self.repo.add(replace(candidate, previous=self._previous_of(candidate)))
        self._event(application.number, user_id, "Telegram join request received")
        self.services.audit(user_id, "join request", f"application {application.number}")
        return Joined(application, "new")

    def open_for_applicant(self, user_id: int) -> GroupApplication | None:
        return self.repo.open_for_applicant(user_id)

    def collecting_for(self, user_id: int) -> GroupApplication | None:
        """The join request this person is still answering questions about."""
        own = self.repo.open_for_applicant(user_id)
        return own if own is not None and own.status is Status.COLLECTING else None

    def applicant_children(self, user_id: int, text: str) -> GroupApplication | None:
        """The applicant's reply naming their child(ren); next they confirm the code of conduct."""
        application = self.collecting_for(user_id)
        if application is None or application.children:
            return None
        children = self.children_named(text)
        application = replace(application, children=tuple(children))
        self.repo.save(application)
        flagged = application.unmatched
        note = f" ({flagged} not found on the register)" if flagged else ""
        self._event(application.number, user_id, f"Applicant named {len(children)} child(ren){note}")
        detail = _children_detail(application)
        self.services.audit(user_id, "applicant named children", f"application {application.number}", detail=detail)
        return application

    def applicant_conduct(self, number: int, user_id: int, agrees: bool) -> Filed | None:
        """The applicant agrees (the application goes to SLT) or does not (it cannot, policy 2.2).

        None when the button is not this person's; `unchanged` for a repeat tap, which stores
        nothing, so a flood of taps cannot grow the application's history.
        """
        application = self.repo.get(number)
        if application is None or application.applicant_id != user_id:
            return None
        if application.status is not Status.COLLECTING or not application.children:
            return Filed(application, unchanged=True)
        if not agrees:
            if application.conduct_refused:
                return Filed(application, unchanged=True)
            application = replace(application, conduct_refused=True)
            self.repo.save(application)
            self._event(number, user_id, "Applicant did not agree to the code of conduct")
            self.services.audit(user_id, "applicant code of conduct", f"application {number}", outcome="not agreed")
            return Filed(application)
        now = self._now
        application = replace(application, conduct_signed=True, conduct_refused=False)
        self._event(number, user_id, "Applicant agreed to the code of conduct")
        self.services.audit(user_id, "applicant code of conduct", f"application {number}")
        form = self._open_same_person(application, statuses=(Status.PENDING,))
        if form is not None:
            return self._fold(application, form, user_id)
        application = replace(application, status=Status.PENDING, submitted_at=now)
        twin = next(
            (a for a in self.repo.with_status(Status.PENDING) if a.source is Source.PAPER and same_name(a, application)),
            None,
        )
        self.repo.save(application)
        self._event(number, 0, "Sent to the senior leaders")
        if twin is not None:
            application = self._flag_same_name(application, twin)
        return Filed(application, submitted=True)

    def applicant_phone(self, user_id: int, phone: str) -> Filed | None:
        """A join requester shares their own contact: a phone number on a paper form links them to it."""
        own = self.repo.open_for_applicant(user_id)
        digits = phone_digits(phone)
        if own is None or own.source is not Source.TELEGRAM or not digits:
            return None
        if own.phone == digits:
            return Filed(own, unchanged=True)
        own = replace(own, phone=digits)
        self.repo.save(own)
        self._event(own.number, user_id, "Applicant shared their phone number from Telegram")
        self.services.audit(user_id, "applicant shared contact", f"application {own.number}")
        form = next(
            (a for a in self.repo.with_status(Status.PENDING) if a.source is Source.PAPER and same_phone(a.phone, digits)),
            None,
        )
        if form is None:
            return Filed(own)
        return self._fold(own, form, user_id)

    def _fold(self, request: GroupApplication, form: GroupApplication, user_id: int) -> Filed:
        """Link a verified join request into the paper form it belongs to."""
        linked = merge(form, request)
        self.repo.save(linked)
        folded = replace(request, status=Status.LINKED, linked_to=form.number, same_name_as=0)
        self.repo.save(folded)
        self._clear_applicant_prompt(folded)
        self._event(form.number, user_id, f"Telegram join request (application {request.number}) linked to this application")
        self._event(request.number, 0, f"Linked to application {form.number} from the same parent")
        self.services.audit(user_id, "link application", f"application {form.number}", detail=f"application {request.number}")
        was_with_leaders = request.status is Status.PENDING
        return Filed(linked, linked=True, refreshed=True, folded=folded if was_with_leaders else None)

    def _flag_same_name(self, request: GroupApplication, form: GroupApplication) -> GroupApplication:
        """An unverified join request with the same name as a paper form: kept apart, marked for SLT."""
        flagged = replace(request, same_name_as=form.number)
        self.repo.save(flagged)
        self._event(
            request.number,
            0,
            f"Same name as paper form #{form.number}: not linked, because nothing verifies this Telegram account",
        )
        return flagged

    # ---- the decision -------------------------------------------------------------------
    def decide(self, number: int, by: int, by_name: str, approve: bool) -> Decision:
        """Approve or reject; only the first decision counts (check and write with no await between)."""
        application = self.repo.get(number)
        if application is None or application.status is not Status.PENDING:
            return Decision(application, False)
        now = self._now
        status = Status.APPROVED if approve else Status.REJECTED
        join_action = ""
        if application.applicant_id and application.join_chat_id:
            join_action = "approve" if approve else "decline"
        decided = replace(
            application,
            status=status,
            decided_by=by,
            decided_at=now,
            join_action=join_action,
            join_queued=False,
        )
        self.repo.save(decided)
        self._clear_applicant_prompt(decided)
        if not approve:
            self.repo.set_prompt(Prompt(by, PromptKind.REASON, number, now))
        self._event(number, by, f"{status.value.capitalize()} by {by_name}")
        self.services.audit(by, "approve application" if approve else "reject application", f"application {number}")
        return Decision(decided, True)

    def give_reason(self, number: int, by: int, reason: str) -> GroupApplication | None:
        """The rejecting leader's reason, kept on the application and sent with the outcome."""
        application = self.repo.get(number)
        if application is None or application.decided_by != by or application.outcome_told:
            return None
        reason = clean_note(reason, "reason")
        application = replace(application, reason=reason)
        self.repo.save(application)
        self.repo.clear_prompt(by)
        self._event(number, by, f"Reason: {reason}")
        self.services.audit(by, "application reason", f"application {number}")
        return application

    def skip_reason(self, number: int, by: int) -> GroupApplication | None:
        application = self.repo.get(number)
        if application is None or application.decided_by != by or application.status is not Status.REJECTED:
            return None
        self.repo.clear_prompt(by)
        return application

    def outcome_told(self, number: int) -> None:
        application = self.repo.get(number)
        if application is not None and not application.outcome_told:
            self.repo.save(replace(application, outcome_told=True))
            self._event(number, 0, "Outcome sent")
            self.services.audit(0, "application outcome sent", f"application {number}")

    # ---- asking for information ---------------------------------------------------------
    def expect_question(self, number: int, by: int) -> GroupApplication | None:
        """A leader pressed Ask for information: their next text is the question."""
        application = self.repo.get(number)
        if application is None or application.status is not Status.PENDING:
            return None
        self.repo.set_prompt(Prompt(by, PromptKind.QUESTION, number, self._now))
        return application

    def ask(self, number: int, by: int, by_name: str, question: str) -> GroupApplication | None:
        """Record the question; an applicant on Telegram may then answer it in their chat."""
        application = self.repo.get(number)
        if application is None or application.status is not Status.PENDING:
            self.repo.clear_prompt(by)
            return None
        question = clean_note(question, "question")
        self.repo.clear_prompt(by)
        if application.applicant_id:
            self.repo.set_prompt(Prompt(application.applicant_id, PromptKind.ANSWER, number, self._now, asked_by=by))
        self._event(number, by, f"{by_name} asked: {question}")
        self.services.audit(by, "ask for information", f"application {number}")
        return application

    def answer(self, user_id: int, text: str) -> tuple[GroupApplication, int] | None:
        """The applicant's answer to a leader's question; returns the application and who asked."""
        prompt = self.repo.prompt_for(user_id)
        if prompt is None or prompt.kind is not PromptKind.ANSWER:
            return None
        application = self.repo.get(prompt.number)
        if application is None or application.status is not Status.PENDING:
            self.repo.clear_prompt(user_id)
            return None
        text = clean_note(text, "answer")
        self.repo.clear_prompt(user_id)
        self._event(application.number, user_id, f"Applicant replied: {text}")
        self.services.audit(user_id, "applicant answered", f"application {application.number}")
        return application, prompt.asked_by

    # ---- prompts ------------------------------------------------------------------------
    def awaiting(self, user_id: int) -> Prompt | None:
        """The text the bot waits for from this person now, if any (stale prompts are ignored)."""
        prompt = self.repo.prompt_for(user_id)
        if prompt is None:
            return None
        application = self.repo.get(prompt.number)
        live = application is not None and {
            PromptKind.REASON: application.status is Status.REJECTED and not application.outcome_told,
            PromptKind.QUESTION: application.status is Status.PENDING,
            PromptKind.ANSWER: application.status is Status.PENDING,
        }[prompt.kind]
        if prompt.kind is not PromptKind.ANSWER and self._now - prompt.asked_at > LEADER_PROMPT_WAIT:
            live = False
        return prompt if live else None

    def draft(self, user_id: int, text: str) -> Prompt | None:
        """A leader typed their reason or question: kept as a draft until they tap Send.

        The window starts again from the typing, so Send has the same few minutes.
        """
        prompt = self.awaiting(user_id)
        if prompt is None or prompt.kind is PromptKind.ANSWER:
            return None
        drafted = replace(prompt, draft=clean_note(text, prompt.kind.value), asked_at=self._now)
        self.repo.set_prompt(drafted)
        return drafted

    def ready_to_send(self, user_id: int, number: int) -> Prompt | None:
        """The draft Send would send now: still live, for this application, and typed."""
        prompt = self.awaiting(user_id)
        if prompt is None or prompt.number != number or not prompt.draft:
            return None
        return prompt

    def retype(self, user_id: int, number: int) -> Prompt | None:
        """Cancel on a previewed reason: the draft is dropped and the reason may be typed again."""
        prompt = self.awaiting(user_id)
        if prompt is None or prompt.number != number or prompt.kind is not PromptKind.REASON:
            return None
        fresh = replace(prompt, draft="", asked_at=self._now)
        self.repo.set_prompt(fresh)
        return fresh

    def wants_text(self, user_id: int) -> bool:
        """Is this person's next plain message meant for an application (a reply, not a command)?

        Staff only when asked for something; a join requester (not staff) whenever their
        application is open, so they hear where it stands instead of the stranger refusal.
        """
        if self.awaiting(user_id) is not None:
            return True
        own = self.repo.open_for_applicant(user_id)
        if own is None:
            return False
        asked_for_children = own.status is Status.COLLECTING and not own.children
        return asked_for_children or self.services.staff.role_of(user_id) is None

    def drop_prompt(self, user_id: int) -> None:
        self.repo.clear_prompt(user_id)

    # ---- chasing: what is owed, to whom, under which key -----------------------------------
    def chases_due(self) -> list[Chase]:
        """Reminders, the Head's notice, applicant nudges, outcomes and Telegram's side, due now."""
        now = self._now
        return [self._chase(a, kind, period) for a in self._attention() for kind, period, at in self._owed(a) if at <= now]

    def next_chase(self) -> datetime | None:
        return min((at for a in self._attention() for _, _, at in self._owed(a)), default=None)

    def _attention(self) -> list[GroupApplication]:
        """Open applications, decisions not yet announced, and decisions Telegram has not heard."""
        found = {a.number: a for a in self.repo.needing_attention()}
        found.update((a.number, a) for a in self.repo.join_actions())
        return [found[n] for n in sorted(found)]

    def _owed(self, application: GroupApplication) -> Iterable[tuple[ChaseKind, int, datetime]]:
        """Each thing still owed about an application, with the moment it becomes due."""
        a, now = application, self._now
        if a.status is Status.PENDING and a.submitted_at is not None:
            following = a.reminders_sent + 1
            # After a long outage one reminder covers every missed period (no burst of repeats).
            period = max(following, int((now - a.submitted_at) / self.remind_after))
            yield ChaseKind.REMIND, period, a.submitted_at + self.remind_after * following
            if not a.head_told:
                yield ChaseKind.HEAD, 0, a.submitted_at + HEAD_AFTER
        if a.status is Status.COLLECTING and not a.applicant_nudged:
            yield ChaseKind.APPLICANT, 0, a.created_at + self.remind_after
        if a.status in (Status.APPROVED, Status.REJECTED) and not a.outcome_told:
            assert a.decided_at is not None
            wait = REASON_WAIT if a.status is Status.REJECTED and not a.reason else timedelta(0)
            yield ChaseKind.OUTCOME, 0, a.decided_at + wait
        if a.join_action and not a.join_queued:
            yield ChaseKind.JOIN, 0, a.decided_at or now

    def _chase(self, a: GroupApplication, kind: ChaseKind, period: int = 0, detail: str = "") -> Chase:
        """Who is told, under which outbox key (the key makes each notice happen once)."""
        n = a.number
        staff = self.services.staff
        notices: list[Notice]
        if kind is ChaseKind.REMIND:
            notices = [Notice(f"app:{n}:remind:{period}:{u}", u, Reader.LEADER) for u in staff.with_roles(*REMINDED)]
        elif kind is ChaseKind.HEAD:
            notices = [Notice(f"app:{n}:head:{u}", u, Reader.LEADER) for u in staff.with_roles(Role.HEAD)]
        elif kind is ChaseKind.APPLICANT:
            notices = [Notice(f"app:{n}:nudge", a.applicant_id, Reader.APPLICANT)]
        elif kind is ChaseKind.OUTCOME:
            notices = [Notice(f"app:{n}:outcome:applicant", a.applicant_id, Reader.APPLICANT)] if a.applicant_id else []
            notices += [Notice(f"app:{n}:outcome:{u}", u, Reader.RECORDER) for u in a.recorded_by]
        elif kind is ChaseKind.JOIN:
            notices = [Notice(f"app:{n}:join", a.join_chat_id, Reader.TELEGRAM)]
        else:
            notices = [Notice(f"app:{n}:join-refused:{u}", u, Reader.LEADER) for u in staff.leaders()]
        return Chase(a, kind, tuple(notices), period, detail)

    def outcome(self, application: GroupApplication) -> Chase:
        """The decision, owed to the applicant and whoever recorded the form."""
        return self._chase(application, ChaseKind.OUTCOME)

    def join(self, application: GroupApplication) -> Chase | None:
        """Telegram's side of a decision just made, if there is a join request to answer."""
        return self._chase(application, ChaseKind.JOIN) if application.join_action and not application.join_queued else None

    def chased(self, chase: Chase) -> None:
        """Record a chase as done, so a restart or the next tick does not repeat it."""
        application = self.repo.get(chase.application.number)
        if application is None:
            return
        number = application.number
        if chase.kind is ChaseKind.REMIND:
            self.repo.save(replace(application, reminders_sent=chase.period))
            self._event(number, 0, "Senior leaders reminded")
            self.services.audit(0, "remind slt about application", f"application {number}")
        elif chase.kind is ChaseKind.HEAD:
            self.repo.save(replace(application, head_told=True))
            self._event(number, 0, "Head Teacher told: waiting a week")
            self.services.audit(0, "tell head about application", f"application {number}")
        elif chase.kind is ChaseKind.APPLICANT:
            self.repo.save(replace(application, applicant_nudged=True))
            self._event(number, 0, "Applicant reminded to answer")
            self.services.audit(0, "remind applicant", f"application {number}")
        elif chase.kind is ChaseKind.OUTCOME:
            self.outcome_told(number)
        elif chase.kind is ChaseKind.JOIN:
            self.repo.save(replace(application, join_queued=True))

    # ---- Telegram's side of the decision ------------------------------------------------
    def join_answered(self, group: int, user_id: int, answer: JoinAnswer, detail: str, attempts: int) -> Chase | None:
        """What Telegram made of a join-request decision; a refusal is owed to the leaders."""
        application = next(
            (a for a in self.repo.join_actions() if (a.join_chat_id, a.applicant_id) == (group, user_id)), None
        )
        if application is None:
            return None
        n, action = application.number, application.join_action
        target, who = f"application {n}", f"chat {group} user {user_id}"
        if answer is JoinAnswer.RETRYING:
            self.repo.save(replace(application, join_result=f"retrying: {detail}"))
            if attempts == 1:
                self.services.audit(0, f"{action} join request", target, outcome="retrying", detail=detail)
            return None
        self.repo.save(replace(application, join_action="", join_result=f"{answer.value}: {detail}" if detail else answer.value))
        if answer is JoinAnswer.REFUSED:
            self._event(n, 0, f"Telegram refused to {action} the join request ({detail}): leaders asked to do it by hand")
            self.services.audit(0, f"{action} join request", target, outcome="refused", detail=f"{who}; {detail}")
            return self._chase(application, ChaseKind.JOIN_REFUSED, detail=detail)
        self._event(n, 0, f"Telegram join request {action}d ({answer.value})")
        self.services.audit(0, f"{action} join request", target, detail=f"{who}; {answer.value}")
        return None

    # ---- helpers ------------------------------------------------------------------------
    def _open_same_person(
        self, candidate: GroupApplication, statuses: Sequence[Status] = (Status.PENDING, Status.COLLECTING)
    ) -> GroupApplication | None:
        return next(
            (a for a in self.repo.with_status(*statuses) if a.number != candidate.number and same_person(a, candidate)),
            None,
        )

    def _previous_of(self, candidate: GroupApplication) -> int:
        """The latest decided application by the same person, shown to SLT as history."""
        earlier = [a for a in self.repo.with_status(Status.APPROVED, Status.REJECTED) if same_person(a, candidate)]
        return max((a.number for a in earlier), default=0)

    def _clear_applicant_prompt(self, application: GroupApplication) -> None:
        if application.applicant_id:
            prompt = self.repo.prompt_for(application.applicant_id)
            if prompt is not None and prompt.number == application.number:
                self.repo.clear_prompt(application.applicant_id)

    def _event(self, number: int, actor_id: int, text: str) -> None:
        self.repo.add_event(Event(number, self._now, actor_id, text))

    def _event_once(self, number: int, actor_id: int, text: str) -> bool:
        """Add a history line unless it would repeat the last one (a flood adds nothing)."""
        last = self.repo.last_event(number)
        if last is not None and (last.actor_id, last.text) == (actor_id, text):
            return False
        self._event(number, actor_id, text)
        return True


def clip_name(name: str) -> str:
    name = " ".join(name.split())
    return name if len(name) <= MAX_PARENT else name[: MAX_PARENT - 1] + "…"


def _children_detail(application: GroupApplication) -> str:
    """For the audit log: pupil ids and a count of unmatched children, never a name."""
    ids = ",".join(application.pupil_ids()) or "none"
    return f"pupils {ids}; not on register {application.unmatched}"

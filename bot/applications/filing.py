"""How an application arrives: a paper form the office records, or a Telegram join request.

A join request answers the bot's questions (children, the code of conduct) before it goes to
SLT; a verified repeat (same account, username or phone) is linked into the open application
instead of reaching SLT twice; an unverified one with a form's name is only marked for SLT.
"""

from __future__ import annotations

from dataclasses import replace

from bot.applications.rules import (
    CONDUCT_REQUIRED,
    MAX_CHILD,
    MAX_CHILDREN,
    Filed,
    Invalid,
    Joined,
    PaperForm,
    children_detail,
    clean,
    clip_name,
    merge,
    phone_digits,
    same_name,
    same_phone,
)
from bot.applications.store import ApplicationStore
from bot.records.applications import (
    Child,
    GroupApplication,
    Source,
    Status,
)
from bot.wording import plural


class Filing(ApplicationStore):
    """Paper forms, join requests and the applicant's answers, linked to one open application per person."""

    def children_named(self, text: str) -> list[Child]:
        """Match typed names against the register: only a certain match becomes a pupil id."""
        lines = [line for line in (raw.strip() for raw in text.splitlines()) if line]
        if not lines:
            raise Invalid("Please type your child's full name.")
        if len(lines) > MAX_CHILDREN:
            raise Invalid(f"At most {MAX_CHILDREN} children on one application, please.")
        index = self.register.index()
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
            self.repo.save(merged)
            self._event(merged.number, by, f"Paper form {form.form_ref} recorded by {by_name}: linked to this application")
            detail = f"paper form; {children_detail(candidate)}"
            self.audit(by, "link application", f"application {merged.number}", detail=detail)
            return Filed(merged, linked=True, submitted=submitted, refreshed=not submitted)
        application = self.repo.add(replace(candidate, previous=self._previous_of(candidate)))
        self._event(application.number, by, f"Paper form {form.form_ref} recorded by {by_name}")
        self._event(application.number, 0, "Sent to the senior leaders")
        self.audit(by, "record application", f"application {application.number}", detail=children_detail(application))
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
                self.audit(user_id, "join request", f"application {own.number}", detail="repeat: linked")
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
        form = next((a for a in self.repo.with_status(Status.PENDING) if a.handles & candidate.handles), None)
        if form is not None:
            linked = merge(form, candidate)
            self.repo.save(linked)
            self._event(linked.number, user_id, f"Telegram join request from @{username}: linked to this application")
            self.audit(user_id, "join request", f"application {linked.number}", detail="linked to a paper form")
            return Joined(linked, "linked")
        application = self.repo.add(replace(candidate, previous=self._previous_of(candidate)))
        self._event(application.number, user_id, "Telegram join request received")
        self.audit(user_id, "join request", f"application {application.number}")
        return Joined(application, "new")

    def open_for_applicant(self, user_id: int) -> GroupApplication | None:
        return self.repo.open_for_applicant(user_id)

    def collecting_for(self, user_id: int) -> GroupApplication | None:
        """The join request this person is still answering questions about."""
        own = self.repo.open_for_applicant(user_id)
        return own if own is not None and own.status is Status.COLLECTING else None

    def applicant_children(self, user_id: int, text: str) -> GroupApplication | None:
        """The applicant's reply naming their children; next they confirm the code of conduct."""
        application = self.collecting_for(user_id)
        if application is None or application.children:
            return None
        children = self.children_named(text)
        application = replace(application, children=tuple(children))
        self.repo.save(application)
        flagged = application.unmatched
        note = f" ({flagged} not found on the register)" if flagged else ""
        self._event(application.number, user_id, f"Applicant named {plural(len(children), 'child')}{note}")
        detail = children_detail(application)
        self.audit(user_id, "applicant named children", f"application {application.number}", detail=detail)
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
            self.audit(user_id, "applicant code of conduct", f"application {number}", outcome="not agreed")
            return Filed(application)
        now = self._now
        application = replace(application, conduct_signed=True, conduct_refused=False)
        self._event(number, user_id, "Applicant agreed to the code of conduct")
        self.audit(user_id, "applicant code of conduct", f"application {number}")
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
        self.audit(user_id, "applicant shared contact", f"application {own.number}")
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
        folded = replace(request, status=Status.LINKED, linked_to=form.number, same_name_as=0, question_by=0)
        self.repo.save(folded)
        self._event(form.number, user_id, f"Telegram join request (application {request.number}) linked to this application")
        self._event(request.number, 0, f"Linked to application {form.number} from the same parent")
        self.audit(user_id, "link application", f"application {form.number}", detail=f"application {request.number}")
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

"""The decision and the conversation around it: approve or reject, a reason, a question and its answer.

The first decision wins. A leader's typed reason or question is a note, kept with their
conversation and previewed before Send; an applicant may answer a question in their own chat.
"""

from __future__ import annotations

from dataclasses import replace

from bot.applications.rules import Decision, clean_note
from bot.applications.store import ApplicationStore
from bot.records.applications import GroupApplication, JoinAction, LeaderNote, NoteKind, Status


class Deciding(ApplicationStore):
    """Decisions, reasons, questions, a leader's note under way and the applicant's answer."""

    # ---- the decision -------------------------------------------------------------------
    def decide(self, number: int, by: int, by_name: str, approve: bool) -> Decision:
        """Approve or reject; only the first decision counts (check and write with no await between)."""
        application = self.repo.get(number)
        if application is None or application.status is not Status.PENDING:
            return Decision(application, False)
        now = self._now
        status = Status.APPROVED if approve else Status.REJECTED
        join_action = None
        if application.applicant_id and application.join_chat_id:
            join_action = JoinAction.APPROVE if approve else JoinAction.DECLINE
        decided = replace(
            application,
            status=status,
            decided_by=by,
            decided_at=now,
            join_action=join_action,
            join_queued=False,
            question_by=0,  # decided: a question still open is not answered any more
            recorder_question_by=0,
        )
        self.repo.save(decided)
        self._event(number, by, f"{status.value.capitalize()} by {by_name}")
        self.audit(by, "approve application" if approve else "reject application", f"application {number}")
        return Decision(decided, True)

    def give_reason(self, number: int, by: int, reason: str) -> GroupApplication | None:
        """The rejecting leader's reason, kept on the application and sent with the outcome."""
        application = self.repo.get(number)
        if application is None or application.decided_by != by or application.outcome_told:
            return None
        reason = clean_note(reason, "reason")
        application = replace(application, reason=reason)
        self.repo.save(application)
        self._event(number, by, f"Reason: {reason}")
        self.audit(by, "application reason", f"application {number}")
        return application

    def skip_reason(self, number: int, by: int) -> GroupApplication | None:
        """The rejection the leader may still send without a reason: theirs, and no reason given already."""
        application = self.repo.get(number)
        if application is None or application.decided_by != by or application.status is not Status.REJECTED:
            return None
        return None if application.reason else application

    # ---- asking for information ---------------------------------------------------------
    def ask(self, number: int, by: int, by_name: str, question: str) -> GroupApplication | None:
        """Record the question; an applicant on Telegram may then answer it in their chat."""
        application = self.repo.get(number)
        if application is None or application.status is not Status.PENDING:
            return None
        question = clean_note(question, "question")
        if application.applicant_id:  # their next message in their own chat is the answer
            application = replace(application, question_by=by)
        if set(application.recorded_by) - {by}:  # whoever recorded the form may answer with its Answer button
            application = replace(application, recorder_question_by=by)
        self.repo.save(application)
        self._event(number, by, f"{by_name} asked: {question}")
        self.audit(by, "ask for information", f"application {number}")
        return application

    def answer(self, user_id: int, text: str) -> tuple[GroupApplication, int] | None:
        """The applicant's answer to a leader's question; returns the application and who asked.

        None when no question waits for this person (their text is then something else).
        """
        application = self.repo.open_for_applicant(user_id)
        if application is None or application.status is not Status.PENDING or not application.question_by:
            return None
        text = clean_note(text, "answer")
        self.repo.save(replace(application, question_by=0))
        self._event(application.number, user_id, f"Applicant replied: {text}")
        self.audit(user_id, "applicant answered", f"application {application.number}")
        return application, application.question_by

    def awaiting_recorder(self, number: int, by: int, may_decide: bool) -> GroupApplication | None:
        """The application whose question this person may answer: its recorder (or a leader), while it is pending."""
        application = self.repo.get(number)
        if application is None or application.status is not Status.PENDING or not application.recorder_question_by:
            return None
        return application if by in application.recorded_by or may_decide else None

    def recorder_answer(
        self, number: int, by: int, by_name: str, text: str, may_decide: bool
    ) -> tuple[GroupApplication, int] | None:
        """The office's answer to a leader's question: kept in the history; returns the application and who asked.

        None when there is nothing (any more) for this person to answer: decided, answered, or not theirs.
        """
        application = self.awaiting_recorder(number, by, may_decide)
        if application is None:
            return None
        text = clean_note(text, "answer")
        asker = application.recorder_question_by
        self.repo.save(replace(application, recorder_question_by=0))
        self._event(number, by, f"{by_name} answered: {text}")
        self.audit(by, "answer question about application", f"application {number}")
        return application, asker

    # ---- a leader's note under way --------------------------------------------------------
    def noted(self, note: LeaderNote, by: int) -> GroupApplication | None:
        """The application a leader's reason or question is about, if it still wants one from them.

        A reason: only the rejecting leader's, until the outcome has gone. A question: only while
        the application waits for a decision (someone else may have decided it meanwhile).
        """
        application = self.repo.get(note.number)
        if application is None:
            return None
        if note.kind is NoteKind.REASON:
            wanted = application.status is Status.REJECTED and application.decided_by == by and not application.outcome_told
        else:
            wanted = application.status is Status.PENDING
        return application if wanted else None

    def draft(self, note: LeaderNote, by: int, text: str) -> LeaderNote | None:
        """A leader typed their reason or question: tidied (or refused kindly), to be shown back before Send."""
        if self.noted(note, by) is None:
            return None
        return replace(note, draft=clean_note(text, note.kind.value))

    def expects_text_from(self, user_id: int) -> bool:
        """Is this person's next plain message meant for their application (a reply, not a command)?

        A join requester (not staff) whenever their application is open, so they hear where it
        stands instead of the stranger refusal; staff only when asked for their children or an answer.
        """
        own = self.repo.open_for_applicant(user_id)
        if own is None:
            return False
        asked_for_children = own.status is Status.COLLECTING and not own.children
        return asked_for_children or bool(own.question_by) or self.staff.role_of(user_id) is None

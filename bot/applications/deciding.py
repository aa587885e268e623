"""The decision and the conversation around it: approve or reject, a reason, a question and its answer.

The first decision wins. A leader's typed reason or question is a prompt that waits a few
minutes and is previewed before Send; an applicant may answer a question in their own chat.
"""

from __future__ import annotations

from dataclasses import replace

from bot.applications.rules import LEADER_PROMPT_WAIT, Decision, clean_note
from bot.applications.store import ApplicationStore
from bot.records.applications import (
    GroupApplication,
    Prompt,
    PromptKind,
    Status,
)


class Deciding(ApplicationStore):
    """Decisions, reasons, questions and the prompts that wait for a leader's or an applicant's text."""

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
        live = (
            application is not None
            and {
                PromptKind.REASON: application.status is Status.REJECTED and not application.outcome_told,
                PromptKind.QUESTION: application.status is Status.PENDING,
                PromptKind.ANSWER: application.status is Status.PENDING,
            }[prompt.kind]
        )
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

"""What is owed later, derived from what is stored: reminders, the Head's notice, nudges, outcomes, Telegram.

Each owed thing is a Chase naming who is told under which outbox key, so a restart or the
next tick never tells anyone twice; `chased` records it done.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime, timedelta

from bot.applications.rules import HEAD_AFTER, REASON_WAIT, REMINDED
from bot.applications.store import ApplicationStore
from bot.records.applications import (
    Chase,
    ChaseKind,
    GroupApplication,
    Notice,
    Reader,
    Status,
)
from bot.records.outbox import JoinAnswer
from bot.roles import Role


class Chasing(ApplicationStore):
    """Everything due after a step: worked out from the stored applications, recorded once done."""

    def outcome_told(self, number: int) -> None:
        application = self.repo.get(number)
        if application is not None and not application.outcome_told:
            self.repo.save(replace(application, outcome_told=True))
            self._event(number, 0, "Outcome sent")
            self.audit(0, "application outcome sent", f"application {number}")

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
        staff = self.staff
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
            self.audit(0, "remind slt about application", f"application {number}")
        elif chase.kind is ChaseKind.HEAD:
            self.repo.save(replace(application, head_told=True))
            self._event(number, 0, "Head Teacher told: waiting a week")
            self.audit(0, "tell head about application", f"application {number}")
        elif chase.kind is ChaseKind.APPLICANT:
            self.repo.save(replace(application, applicant_nudged=True))
            self._event(number, 0, "Applicant reminded to answer")
            self.audit(0, "remind applicant", f"application {number}")
        elif chase.kind is ChaseKind.OUTCOME:
            self.outcome_told(number)
        elif chase.kind is ChaseKind.JOIN:
            self.repo.save(replace(application, join_queued=True))

    # ---- Telegram's side of the decision ------------------------------------------------
    def join_answered(self, group: int, user_id: int, answer: JoinAnswer, detail: str, attempts: int) -> Chase | None:
        """What Telegram made of a join-request decision; a refusal is owed to the leaders."""
        application = next((a for a in self.repo.join_actions() if (a.join_chat_id, a.applicant_id) == (group, user_id)), None)
        if application is None:
            return None
        n, action = application.number, application.join_action
        target, who = f"application {n}", f"chat {group} user {user_id}"
        if answer is JoinAnswer.RETRYING:
            self.repo.save(replace(application, join_result=f"retrying: {detail}"))
            if attempts == 1:
                self.audit(0, f"{action} join request", target, outcome="retrying", detail=detail)
            return None
        self.repo.save(
            replace(application, join_action=None, join_result=f"{answer.value}: {detail}" if detail else answer.value)
        )
        if answer is JoinAnswer.REFUSED:
            self._event(n, 0, f"Telegram refused to {action} the join request ({detail}): leaders asked to do it by hand")
            self.audit(0, f"{action} join request", target, outcome="refused", detail=f"{who}; {detail}")
            return self._chase(application, ChaseKind.JOIN_REFUSED, detail=detail)
        self._event(n, 0, f"Telegram join request {action}d ({answer.value})")
        self.audit(0, f"{action} join request", target, detail=f"{who}; {answer.value}")
        return None

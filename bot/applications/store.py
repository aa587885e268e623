"""What every part of the application desk shares: the repository, the clock, the history and the audit."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from bot.applications.rules import same_person
from bot.auditing import Auditor
from bot.clock import Clock
from bot.config import ApplicationsConfig
from bot.records.applications import (
    Event,
    GroupApplication,
    Status,
)
from storage.applications import ApplicationRepository
from storage.consents import ConsentRepository
from storage.staff import StaffRepository


class ApplicationStore:
    """The repositories and the clock, the reading every part needs, and the helpers they share.

    Handed only what the desk uses: its own repository, the staff (who is told, who is staff),
    the register (children's names), the audit trail, the clock and its config (how long a reminder waits).
    """

    def __init__(
        self,
        repo: ApplicationRepository,
        staff: StaffRepository,
        register: ConsentRepository,
        audit: Auditor,
        clock: Clock,
        config: ApplicationsConfig,
    ) -> None:
        self.repo = repo
        self.staff = staff
        self.register = register
        self.audit = audit
        self.clock = clock
        self.remind_after = timedelta(hours=config.remind_after_hours)

    @property
    def _now(self) -> datetime:
        return self.clock.now()

    # ---- reading ------------------------------------------------------------------------
    def get(self, number: int) -> GroupApplication | None:
        return self.repo.get(number)

    def history(self, number: int) -> list[Event]:
        return self.repo.events(number)

    def open_applications(self) -> list[GroupApplication]:
        """Pending and still-collecting applications, oldest first."""
        return self.repo.with_status(Status.PENDING, Status.COLLECTING)

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

    def _event(self, number: int, actor_id: int, text: str) -> None:
        self.repo.add_event(Event(number, self._now, actor_id, text))

    def _event_once(self, number: int, actor_id: int, text: str) -> bool:
        """Add a history line unless it would repeat the last one (a flood adds nothing)."""
        last = self.repo.last_event(number)
        if last is not None and (last.actor_id, last.text) == (actor_id, text):
            return False
        self._event(number, actor_id, text)
        return True

"""What every part of the application desk shares: the repository, the clock, the history and the audit."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from bot.applications.rules import same_person
from bot.records.applications import (
    Event,
    GroupApplication,
    Status,
)

if TYPE_CHECKING:
    from bot.services import Services


class ApplicationStore:
    """The repository and the clock, the reading every part needs, and the helpers they share."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.repo = services.applications

    @property
    def _now(self) -> datetime:
        return self.services.clock.now()

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

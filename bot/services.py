"""The bot's domain services for one data folder, wired once at start-up.

Nothing here knows about Telegram: handlers call these and render the results.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.clock import Clock
from bot.config import Config
from bot.roles import Role
from storage.audit import AuditEntry
from storage.consents import ConsentRepository
from storage.database import Database
from storage.incidents import IncidentRepository
from storage.moderation import ModerationRepository
from storage.outbox import OutboxRepository
from storage.staff import StaffRepository


SYSTEM = 0  # the actor id of things the bot does by itself: reminders, timed alerts, imports from the CLI


@dataclass
class Services:
    config: Config
    clock: Clock
    db: Database
    staff: StaffRepository
    outbox: OutboxRepository
    moderation: ModerationRepository
    consents: ConsentRepository
    incidents: IncidentRepository

    @classmethod
    def open(cls, config: Config, clock: Clock) -> Services:
        db = Database(config.storage.data_dir)
        services = cls(
            config=config,
            clock=clock,
            db=db,
            staff=StaffRepository(db.file("staff")),
            outbox=OutboxRepository(db.file("outbox")),
            moderation=ModerationRepository(db.file("moderation")),
            consents=ConsentRepository(db.file("consents")),
            incidents=IncidentRepository(db.file("incidents"), db.evidence_dir),
        )
        services.staff.seed(config_roles(config), clock.now())
        return services

    def audit(
        self,
        actor_id: int,
        action: str,
        target: str = "",
        outcome: str = "ok",
        detail: str = "",
    ) -> None:
        """Record a sensitive action (or a refused attempt) with the actor's current role."""
        role = self.staff.role_of(actor_id)
        role_name = role.value if role else ("system" if actor_id == SYSTEM else "stranger")
        self.db.audit.append(
            AuditEntry(
                at=self.clock.now(),
                actor_id=actor_id,
                actor_role=role_name,
                action=action,
                target=target,
                outcome=outcome,
                detail=detail,
            )
        )

    def close(self) -> None:
        self.db.close()


def config_roles(config: Config) -> dict[int, Role]:
    """The roles the config seeds; when an id is listed twice the higher role wins."""
    seeds: dict[int, Role] = {}
    for role, ids in (
        (Role.OFFICE, config.roles.office),
        (Role.ADMIN, config.roles.admins),
        (Role.SLT, config.roles.slt),
        (Role.DEPUTY, config.roles.deputy),
        (Role.HEAD, config.roles.head),
    ):
        for user_id in ids:
            seeds[user_id] = role
    return seeds

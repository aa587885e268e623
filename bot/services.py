"""The bot's repositories and domain services for one data folder, wired once at start-up.

Nothing here knows about Telegram: handlers call these and render the results.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from bot.applications import Applications
from bot.auditing import Auditor
from bot.backups import Backups
from bot.clock import Clock, local_day
from bot.config import Config
from bot.draft_check import DraftPolicy
from bot.escalation import Escalation
from bot.incidents import IncidentLog
from bot.moderation import Moderation
from bot.photo_check import PhotoChecks
from bot.register import RegisterService
from bot.retention import Retention
from bot.roles import Role
from bot.staff import StaffAccess
from storage.applications import ApplicationRepository
from storage.atomic import DamagedDataFile
from storage.consents import ConsentRepository
from storage.database import Database
from storage.incidents import IncidentRepository
from storage.moderation import ModerationRepository
from storage.outbox import OutboxRepository
from storage.retention import RetentionRepository
from storage.staff import StaffRepository

log = logging.getLogger(__name__)


@dataclass
class Services:
    """Everything the handlers and the shell reach, built once here and nowhere else.

    Two kinds of member, named one way each:
    - a repository (storage/, one per data file) is named after its file, which is named after
      what it keeps: `staff`, `outbox`, `consents`, `incidents`, `moderation`, `applications`;
    - a domain service (bot/, the rules) is named after the job it does, never after a file:
      `staff_access`, `register`, `photo_checks`, `incident_log`, `incident_escalation`,
      `moderation_duty`, `application_desk`, `backups`, `retention`.
    Each domain service is handed only the repositories, config and collaborators it uses, among
    them the audit trail (`audit`, called like a function), so none of them needs `Services`.
    Handlers call the domain services; the repositories are for the services, the shell
    (delivery reads the outbox) and tests that look at what is on disk.
    """

    config: Config
    clock: Clock
    db: Database
    staff: StaffRepository
    outbox: OutboxRepository
    moderation: ModerationRepository
    consents: ConsentRepository
    incidents: IncidentRepository
    applications: ApplicationRepository
    audit: Auditor = field(init=False, repr=False)
    staff_access: StaffAccess = field(init=False, repr=False)
    register: RegisterService = field(init=False, repr=False)
    photo_checks: PhotoChecks = field(init=False, repr=False)
    incident_log: IncidentLog = field(init=False, repr=False)
    incident_escalation: Escalation = field(init=False, repr=False)
    moderation_duty: Moderation = field(init=False, repr=False)
    application_desk: Applications = field(init=False, repr=False)
    backups: Backups = field(init=False, repr=False)
    retention: Retention = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.audit = Auditor(self.db.audit, self.db.health, self.staff, self.clock)
        self.staff_access = StaffAccess(self.staff, self.audit, self.clock, self.config.access)
        self.register = RegisterService(
            self.consents, self.staff, self.audit, self.today, self.config.consent, DraftPolicy.from_config(self.config)
        )
        self.photo_checks = PhotoChecks(self.consents, self.audit, self.today, DraftPolicy.from_config(self.config))
        self.incident_log = IncidentLog(
            self.incidents, self.staff, self.audit, self.clock, self.config.escalation, self.config.school.timezone
        )
        self.incident_escalation = Escalation(self.incidents, self.outbox, self.staff, self.audit, self.config.escalation)
        self.moderation_duty = Moderation(
            self.moderation,
            self.staff,
            self.incidents,
            self.audit,
            self.clock,
            self.config.moderation,
            self.config.digest,
            self.config.school.timezone,
        )
        self.application_desk = Applications(
            self.applications,
            self.staff,
            self.consents,
            self.audit,
            self.clock,
            self.config.applications,
        )
        self.backups = Backups(self.config.backup, self.db.data_dir, self.config.school.timezone, self.clock)
        self.retention = Retention(
            self.config.retention,
            self.incidents,
            self.applications,
            self.consents,
            self.db.audit.folder,
            RetentionRepository(self.db.file("meta")),
            self.staff,
            self.audit,
            self.clock,
            self.config.school.timezone,
        )

    @classmethod
    def open(cls, config: Config, clock: Clock) -> Services:
        db = Database(config.storage.data_dir)
        try:
            services = cls(
                config=config,
                clock=clock,
                db=db,
                staff=StaffRepository(db.file("staff")),
                outbox=OutboxRepository(db.file("outbox")),
                moderation=ModerationRepository(db.file("moderation")),
                consents=ConsentRepository(db.file("consents")),
                incidents=IncidentRepository(db.file("incidents"), db.evidence_dir, db.health),
                applications=ApplicationRepository(db.file("applications")),
            )
            services.check_records()
            services.staff.seed(config_roles(config), clock.now())
        except BaseException:
            db.close()
            raise
        return services

    def check_records(self) -> None:
        """Read every record once at start-up: one the bot cannot read stops it, naming its file.

        Without this a damaged record would surface later as a crash in the middle of an alert.
        """
        far = datetime.max.replace(tzinfo=UTC)

        def every(name: str, table: str, get: Callable[[int], object]) -> list[object]:
            return [get(doc.doc_id) for doc in self.db.file(name).table(table).all()]

        reads: dict[str, Callable[[], object]] = {
            "staff": lambda: (
                self.staff.active(),
                [self.staff.last_request(uid) for uid in {d["user_id"] for d in self.db.file("staff").table("access_requests")}],
            ),
            "consents": self.consents.all,
            "incidents": lambda: (self.incidents.all(), self.incidents.all_actions(), self.incidents.bans()),
            "outbox": lambda: (every("outbox", "outbox", self.outbox.get), self.outbox.unreachable(0)),
            "moderation": lambda: (
                self.moderation.rota(),
                self.moderation.days_since(date.min),
                self.moderation.reminders_due(far),
                self.moderation.tracking_since(),
            ),
            "applications": lambda: (
                every("applications", "applications", self.applications.get),
                [self.applications.events(n) for n in {d["number"] for d in self.db.file("applications").table("events")}],
            ),
        }
        for name, read in reads.items():
            try:
                read()
            except (KeyError, TypeError, ValueError, AttributeError, IndexError):
                raise DamagedDataFile(
                    self.db.data_dir / f"{name}.json", "a record in it is not in the shape the bot wrote"
                ) from None

    def write_held_audit(self) -> bool:
        """Write audit lines held while the disk refused them; True when none is left waiting."""
        return self.audit.write_held()

    def today(self) -> date:
        """The school's date now, in its own time zone (not the server's)."""
        return local_day(self.clock.now(), self.config.school.timezone)

    def close(self) -> None:
        """Held audit lines get a last chance; they are lost only if the disk still refuses them."""
        try:
            if not self.write_held_audit():
                log.error("%d audit lines could not be written before stopping: the disk refused them", self.db.audit.held)
        finally:
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

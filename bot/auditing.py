"""The audit trail as the domain writes it: who did what, with the role they held when they did it.

Every domain service is handed the one `Auditor` and calls it like a function,
`audit(actor_id, action, target, outcome=..., detail=...)`, so none needs the whole of `Services`.
"""

from __future__ import annotations

from bot.clock import Clock
from bot.records.audit import SYSTEM, AuditEntry
from storage.atomic import DiskHealth, DiskWriteFailed, UnstorableValue
from storage.audit import AuditLog
from storage.staff import StaffRepository


class Auditor:
    """Records sensitive actions (and refused attempts) in the data folder's audit log."""

    def __init__(self, log: AuditLog, health: DiskHealth, staff: StaffRepository, clock: Clock) -> None:
        self.log = log
        self.health = health
        self.staff = staff
        self.clock = clock

    def __call__(
        self,
        actor_id: int,
        action: str,
        target: str = "",
        outcome: str = "ok",
        detail: str = "",
        *,
        strict: bool = False,
    ) -> None:
        """Record a sensitive action (or a refused attempt) with the actor's current role.

        Callers save their action first. When the disk then refuses the line, it is held in memory
        and written at the next append or tick (the leaders are told the disk is failing): the
        action is on disk, so telling the user "not saved" would be untrue. `strict` raises
        instead, for a change its caller undoes rather than leave unaudited (staff access).
        """
        role = self.staff.role_of(actor_id)
        role_name = role.value if role else ("system" if actor_id == SYSTEM else "stranger")
        entry = AuditEntry(
            at=self.clock.now(),
            actor_id=actor_id,
            actor_role=role_name,
            action=action,
            target=target,
            outcome=outcome,
            detail=detail,
        )
        where = self.log.folder
        try:
            self.log.append(entry)
        except (UnicodeError, TypeError, ValueError) as exc:
            raise UnstorableValue(where, exc) from exc
        except OSError as exc:
            self.health.failed(exc)
            if strict or not self.log.hold(entry):
                raise DiskWriteFailed(where, exc) from exc

    def write_held(self) -> bool:
        """Write audit lines held while the disk refused them; True when none is left waiting."""
        try:
            self.log.write_held()
        except OSError as exc:
            self.health.failed(exc)
            return False
        return True

"""Staff access rules: who may grant or revoke which role, and access requests from strangers."""

from __future__ import annotations

from dataclasses import dataclass

from bot.roles import Role
from bot.services import Services
from storage.staff import AccessRequest

# SLT and the deputy look after everyday access; the Head alone appoints leaders.
_MAY_GRANT: dict[Role, frozenset[Role]] = {
    Role.HEAD: frozenset(Role),
    Role.DEPUTY: frozenset({Role.ADMIN, Role.OFFICE}),
    Role.SLT: frozenset({Role.ADMIN, Role.OFFICE}),
}


@dataclass(frozen=True)
class AccessChange:
    ok: bool
    message: str
    target_id: int = 0
    role: Role | None = None


class StaffAccess:
    def __init__(self, services: Services) -> None:
        self.services = services

    def _refused(self, by: int, action: str, target: int, why: str) -> AccessChange:
        self.services.audit(by, action, f"user {target}", outcome="refused", detail=why)
        return AccessChange(False, why, target)

    def grant(self, by: int, target: int, role: Role) -> AccessChange:
        staff = self.services.staff
        by_role = staff.role_of(by)
        current = staff.role_of(target)
        allowed = _MAY_GRANT.get(by_role, frozenset()) if by_role else frozenset()
        if role not in allowed or (current is not None and current not in allowed):
            return self._refused(by, "grant", target, f"Only the Head Teacher can make someone {role.title}.")
        if current is Role.HEAD and role is not Role.HEAD and len(staff.with_roles(Role.HEAD)) == 1:
            return self._refused(by, "grant", target, "There must always be at least one Head Teacher.")
        if current is role:
            return AccessChange(False, f"They are already {role.title}.", target, role)
        request = staff.pending_request(target)
        staff.set_role(target, role, by, self.services.clock.now(), name=request.name if request else "")
        if request:
            staff.decide_request(target, "granted", role.value, by, self.services.clock.now())
        self.services.audit(by, "grant", f"user {target}", detail=f"{current.value if current else 'none'} -> {role.value}")
        return AccessChange(True, f"Done: they are now {role.title}.", target, role)

    def revoke(self, by: int, target: int) -> AccessChange:
        staff = self.services.staff
        by_role = staff.role_of(by)
        current = staff.role_of(target)
        if current is None:
            return AccessChange(False, "They have no access to revoke.", target)
        if by_role is None or current not in _MAY_GRANT.get(by_role, frozenset()):
            return self._refused(by, "revoke", target, f"Only the Head Teacher can remove a {current.title}.")
        if current is Role.HEAD and len(staff.with_roles(Role.HEAD)) == 1:
            return self._refused(by, "revoke", target, "There must always be at least one Head Teacher.")
        staff.set_role(target, None, by, self.services.clock.now())
        self.services.audit(by, "revoke", f"user {target}", detail=f"{current.value} -> none")
        return AccessChange(True, "Done: their access is removed.", target, None)

    def request_access(self, user_id: int, name: str, username: str) -> AccessRequest | None:
        """Record a stranger's request; None if one is already waiting (a double tap)."""
        request = AccessRequest(user_id, name, username, self.services.clock.now())
        if not self.services.staff.add_request(request):
            return None
        self.services.audit(user_id, "request access", f"user {user_id}")
        return request

    def decline_request(self, by: int, target: int) -> AccessRequest | None:
        decided = self.services.staff.decide_request(target, "declined", "", by, self.services.clock.now())
        if decided:
            self.services.audit(by, "decline access", f"user {target}")
        return decided

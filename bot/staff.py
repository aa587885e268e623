"""Staff access rules: who may grant or revoke which role, and access requests from strangers."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from bot.auditing import Auditor
from bot.clock import Clock
from bot.config import AccessConfig
from bot.records.staff import AccessRequest, InGroup, RequestStatus, StaffMember
from bot.roles import LEADERS, Role
from bot.wording import a_role
from storage.atomic import WriteFailed
from storage.staff import StaffRepository

# SLT and the deputy look after everyday access; the Head alone appoints leaders.
_MAY_GRANT: dict[Role, frozenset[Role]] = {
    Role.HEAD: frozenset(Role),
    Role.DEPUTY: frozenset({Role.ADMIN, Role.OFFICE}),
    Role.SLT: frozenset({Role.ADMIN, Role.OFFICE}),
}


def staff_name(staff: StaffRepository, user_id: int) -> str:
    """A member of staff as other staff read them (plain text): their name, or "user N" before they have written."""
    member = staff.get(user_id)
    return member.name if member and member.name else f"user {user_id}"


@dataclass(frozen=True)
class AccessChange:
    """What a grant or revoke did. With `question` set nothing changed yet: ask it, then do it confirmed."""

    ok: bool
    message: str
    target_id: int = 0
    role: Role | None = None
    previous: Role | None = None
    question: str = ""


class RequestState(StrEnum):
    NEW = "new"  # recorded: the leaders get a card
    WAITING = "waiting"  # one is already with the leaders (a double tap)
    DECLINED = "declined"  # declined within the cool-down: the leaders are not asked again
    BUSY = "busy"  # too many requests already wait: not recorded, the stranger is to try later


@dataclass(frozen=True)
class RequestOutcome:
    state: RequestState
    request: AccessRequest


class StaffAccess:
    """Grants, revocations and strangers' requests, each audited."""

    def __init__(self, staff: StaffRepository, audit: Auditor, clock: Clock, config: AccessConfig) -> None:
        self.staff = staff
        self.audit = audit
        self.clock = clock
        self.config = config

    def namesakes(self, name: str) -> list[StaffMember]:
        """Staff whose Telegram name reads as `name` does: a stranger asking under it may be posing as them."""
        key = _name_key(name)
        return [m for m in self.staff.active() if key and _name_key(m.name) == key]

    def _refused(self, by: int, action: str, target: int, why: str) -> AccessChange:
        self.audit(by, action, f"user {target}", outcome="refused", detail=why)
        return AccessChange(False, why, target)

    def grant(self, by: int, target: int, role: Role, *, confirmed: bool = False, opened_bot: bool = True) -> AccessChange:
        """Give `target` a role. Unconfirmed, a risky change (someone who never opened the bot, one's
        own role, the last other leader) comes back as a question and changes nothing."""
        staff = self.staff
        by_role = staff.role_of(by)
        current = staff.role_of(target)
        allowed = _MAY_GRANT.get(by_role, frozenset()) if by_role else frozenset()
        if role not in allowed or (current is not None and current not in allowed):
            return self._refused(by, "grant", target, f"Only the Head Teacher can make someone {a_role(role)}.")
        if current is Role.HEAD and role is not Role.HEAD and len(staff.with_roles(Role.HEAD)) == 1:
            return self._refused(by, "grant", target, "There must always be at least one Head Teacher.")
        if current is role:
            return AccessChange(False, f"They are already {a_role(role)}.", target, role, current)
        if not confirmed:
            question = self._risk(by, target, current, role) or (
                ""
                if opened_bot
                else f"{target} has never opened this bot, so I cannot check who they are or tell "
                f"them. Check the id with them first. Make {target} {a_role(role)} anyway?"
            )
            if question:
                return AccessChange(False, question, target, role, current, question=question)
        request = staff.pending_request(target)
        before = staff.get(target)
        staff.set_role(target, role, by, self.clock.now(), name=request.name if request else "")
        if request:
            staff.decide_request(target, RequestStatus.GRANTED, role.value, by, self.clock.now())
        self._audited(by, "grant", target, f"{current.value if current else 'none'} -> {role.value}", before, request)
        return AccessChange(True, f"Done: they are now {a_role(role)}.", target, role, current)

    def revoke(self, by: int, target: int, *, confirmed: bool = False) -> AccessChange:
        """End someone's access: unconfirmed, only the question to ask (nothing changes)."""
        staff = self.staff
        by_role = staff.role_of(by)
        current = staff.role_of(target)
        if current is None:
            return AccessChange(False, "They have no access to revoke.", target)
        if by_role is None or current not in _MAY_GRANT.get(by_role, frozenset()):
            return self._refused(by, "revoke", target, f"Only the Head Teacher can remove {a_role(current)}.")
        if current is Role.HEAD and len(staff.with_roles(Role.HEAD)) == 1:
            return self._refused(by, "revoke", target, "There must always be at least one Head Teacher.")
        if not confirmed:  # it cannot be undone from the other side: always asked first
            question = self._risk(by, target, current, None) or (
                f"Remove {staff_name(staff, target)}'s access? They are {a_role(current)} now; afterwards "
                "I will not answer them or send them anything."
            )
            return AccessChange(False, question, target, None, current, question=question)
        before = staff.get(target)
        staff.set_role(target, None, by, self.clock.now())
        self._audited(by, "revoke", target, f"{current.value} -> none", before)
        return AccessChange(True, "Done: their access is removed.", target, None, current)

    def _audited(
        self, by: int, action: str, target: int, detail: str, before: StaffMember | None, request: AccessRequest | None = None
    ) -> None:
        """Audit a change just saved, or put the records back: access never changes unaudited."""
        try:
            self.audit(by, action, f"user {target}", detail=detail, strict=True)
        except WriteFailed:
            self.staff.put_back(target, before, request)
            raise

    def _risk(self, by: int, target: int, current: Role | None, new: Role | None) -> str:
        """A question when a change takes a leader's powers from the actor or from the last other leader."""
        if current not in LEADERS or new in LEADERS:
            return ""
        what = f"access as {a_role(new)}" if new else "no access at all"
        if target == by:
            return f"This changes your own access: you will have {what} and can no longer manage staff. Are you sure?"
        others = [leader for leader in self.staff.leaders() if leader != by]
        if others == [target]:
            who = staff_name(self.staff, target)
            return (
                f"{who} is the last leader besides you: afterwards you alone receive access requests, "
                f"applications and escalated alerts. They will have {what}. Are you sure?"
            )
        return ""

    def request_access(self, user_id: int, name: str, username: str, in_group: InGroup) -> RequestOutcome:
        """Record a stranger's request, unless one is waiting or one was declined within the cool-down."""
        staff = self.staff
        now = self.clock.now()
        waiting = staff.pending_request(user_id)
        if waiting is not None:
            return RequestOutcome(RequestState.WAITING, waiting)
        last = staff.last_request(user_id)
        cool_down = timedelta(days=self.config.request_cooldown_days)
        if last is not None and last.status == RequestStatus.DECLINED and last.decided_at and now < last.decided_at + cool_down:
            return RequestOutcome(RequestState.DECLINED, last)
        request = AccessRequest(user_id, name, username, now, in_group=in_group)
        if staff.waiting_requests() >= self.config.max_waiting_requests:
            return RequestOutcome(RequestState.BUSY, request)  # a flood of strangers: nothing stored
        staff.add_request(request)
        self.audit(user_id, "request access", f"user {user_id}", detail=f"in the parents' group: {in_group}")
        return RequestOutcome(RequestState.NEW, request)

    def decline_request(self, by: int, target: int) -> AccessRequest | None:
        decided = self.staff.decide_request(target, RequestStatus.DECLINED, "", by, self.clock.now())
        if decided:
            self.audit(by, "decline access", f"user {target}")
        return decided


def _name_key(name: str) -> str:
    """A display name compared as a reader sees it: case, accents, spacing and punctuation aside."""
    folded = unicodedata.normalize("NFKD", name).casefold()
    return "".join(c for c in folded if c.isalnum())

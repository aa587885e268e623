"""Staff and their roles: seeded from the config, changed at run time by SLT and the Head."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tinydb import Query, TinyDB

from bot.records.staff import AccessRequest, GrantSource, InGroup, RequestStatus, StaffMember
from bot.roles import LEADERS, Role


class StaffRepository:
    def __init__(self, db: TinyDB) -> None:
        self._staff = db.table("staff")
        self._requests = db.table("access_requests")

    def seed(self, seeds: dict[int, Role], now: datetime) -> None:
        """Add config roles for people the bot has no record of; run-time changes win."""
        known = {doc["user_id"] for doc in self._staff.all()}
        new = [_to_doc(StaffMember(uid, role, "", 0, now, GrantSource.CONFIG)) for uid, role in seeds.items() if uid not in known]
        if new:
            self._staff.insert_multiple(new)

    def get(self, user_id: int) -> StaffMember | None:
        doc = self._staff.get(Query().user_id == user_id)
        return _from_doc(doc) if doc else None

    def role_of(self, user_id: int) -> Role | None:
        member = self.get(user_id)
        return member.role if member else None

    def active(self) -> list[StaffMember]:
        return [m for m in (_from_doc(d) for d in self._staff.all()) if m.role is not None]

    def with_roles(self, *roles: Role) -> list[int]:
        return [m.user_id for m in self.active() if m.role in roles]

    def leaders(self) -> list[int]:
        """The leaders: the Head, the deputy and SLT (`bot.roles.LEADERS`), wherever the code says it."""
        return self.with_roles(*LEADERS)

    def set_role(self, user_id: int, role: Role | None, by: int, now: datetime, name: str = "") -> None:
        member = self.get(user_id)
        doc = _to_doc(StaffMember(user_id, role, name or (member.name if member else ""), by, now, GrantSource.GRANT))
        self._staff.upsert(doc, Query().user_id == user_id)

    def put_back(self, user_id: int, member: StaffMember | None, request: AccessRequest | None = None) -> None:
        """Undo a change whose audit line could not be written: the records exactly as they were."""
        q = Query()
        if member is None:
            self._staff.remove(q.user_id == user_id)
        else:
            self._staff.upsert(_to_doc(member), q.user_id == user_id)
        if request is not None:
            self._requests.update(
                _request_doc(request), (q.user_id == user_id) & (q.requested_at == request.requested_at.isoformat())
            )

    def remember_name(self, user_id: int, name: str) -> None:
        """Keep the Telegram display name so lists show people, not numbers."""
        member = self.get(user_id)
        if member and member.name != name:
            self._staff.update({"name": name}, Query().user_id == user_id)

    def has_chat(self, user_id: int) -> bool:
        """True once this person has written to the bot (their name is known)."""
        member = self.get(user_id)
        return bool(member and member.name) or self.last_request(user_id) is not None

    def add_request(self, request: AccessRequest) -> bool:
        """Record a request; False if one from this person is already waiting."""
        if self.pending_request(request.user_id):
            return False
        self._requests.insert(_request_doc(request))
        return True

    def waiting_requests(self) -> int:
        """How many access requests wait for a decision."""
        return self._requests.count(Query().status == RequestStatus.PENDING)

    def pending_request(self, user_id: int) -> AccessRequest | None:
        q = Query()
        doc = self._requests.get((q.user_id == user_id) & (q.status == RequestStatus.PENDING))
        return _request_from_doc(doc) if doc else None

    def decide_request(self, user_id: int, status: RequestStatus, role: str, by: int, now: datetime) -> AccessRequest | None:
        """Decide a pending request; None if it was already decided (the first decision wins)."""
        pending = self.pending_request(user_id)
        if pending is None:
            return None
        q = Query()
        self._requests.update(
            {"status": status, "role": role, "decided_by": by, "decided_at": now.isoformat()},
            (q.user_id == user_id) & (q.status == RequestStatus.PENDING),
        )
        return self.last_request(user_id)

    def last_request(self, user_id: int) -> AccessRequest | None:
        docs = self._requests.search(Query().user_id == user_id)
        return _request_from_doc(docs[-1]) if docs else None


def _to_doc(m: StaffMember) -> dict[str, Any]:
    return {
        "user_id": m.user_id,
        "role": m.role.value if m.role else None,
        "name": m.name,
        "granted_by": m.granted_by,
        "granted_at": m.granted_at.isoformat(),
        "source": m.source,
    }


def _from_doc(d: dict[str, Any]) -> StaffMember:
    return StaffMember(
        user_id=d["user_id"],
        role=Role(d["role"]) if d["role"] else None,
        name=d.get("name", ""),
        granted_by=d.get("granted_by", 0),
        granted_at=datetime.fromisoformat(d["granted_at"]),
        source=GrantSource(d.get("source", GrantSource.GRANT)),
    )


def _request_doc(r: AccessRequest) -> dict[str, Any]:
    return {
        "user_id": r.user_id,
        "name": r.name,
        "username": r.username,
        "requested_at": r.requested_at.isoformat(),
        "status": r.status,
        "decided_by": r.decided_by,
        "decided_at": r.decided_at.isoformat() if r.decided_at else None,
        "role": r.role,
        "in_group": r.in_group.value,
    }


def _request_from_doc(d: dict[str, Any]) -> AccessRequest:
    return AccessRequest(
        user_id=d["user_id"],
        name=d["name"],
        username=d["username"],
        requested_at=datetime.fromisoformat(d["requested_at"]),
        status=RequestStatus(d["status"]),
        decided_by=d["decided_by"],
        decided_at=datetime.fromisoformat(d["decided_at"]) if d["decided_at"] else None,
        role=d["role"],
        in_group=InGroup(d["in_group"]) if d.get("in_group") else InGroup.UNKNOWN,  # absent in requests from before
    )

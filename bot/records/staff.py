"""Who has access, and who asked for it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.roles import Role


class GrantSource(StrEnum):
    CONFIG = "config"  # seeded from config.toml at start-up
    GRANT = "grant"  # given (or taken away) with /grant, /revoke or an access request


@dataclass(frozen=True)
class StaffMember:
    user_id: int
    role: Role | None  # None: access was revoked (kept so a restart does not re-seed it)
    name: str
    granted_by: int
    granted_at: datetime
    source: GrantSource


class RequestStatus(StrEnum):
    PENDING = "pending"  # with the leaders
    GRANTED = "granted"
    DECLINED = "declined"


class InGroup(StrEnum):
    """Whether Telegram said a stranger asking for access is in the parents' group."""

    YES = "yes"
    NO = "no"
    UNKNOWN = "unknown"  # Telegram would not say
    NO_GROUP = "none"  # no parents' group is set up


@dataclass(frozen=True)
class AccessRequest:
    user_id: int
    name: str
    username: str
    requested_at: datetime
    status: RequestStatus = RequestStatus.PENDING
    decided_by: int = 0
    decided_at: datetime | None = None
    role: str = ""
    in_group: InGroup = InGroup.UNKNOWN

"""An incident, the screenshots kept as its evidence, what was done about it, and the ban register."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class EvidenceKind(StrEnum):
    """How a screenshot reached the bot."""

    PHOTO = "photo"
    DOCUMENT = "document"  # an image sent as a file


@dataclass(frozen=True)
class Evidence:
    """One screenshot as it was received, with what proves it has not changed since."""

    path: str  # under the data folder, e.g. "evidence/INC-0042/3f2a9c0d1b2e4f56.jpg"
    sha256: str
    size: int
    file_id: str
    file_unique_id: str
    kind: EvidenceKind
    mime_type: str
    uploader_id: int
    received_at: datetime
    origin: str = ""  # who it was forwarded from, as Telegram tells it; "" when not forwarded
    origin_type: str = ""  # Telegram's forward origin type: user, hidden_user, chat, channel
    origin_date: datetime | None = None


class IncidentState(StrEnum):
    OPEN = "open"  # waiting for a leader to acknowledge it
    ACKNOWLEDGED = "acknowledged"
    CLOSED = "closed"


@dataclass(frozen=True)
class Incident:
    number: int
    draft_id: str  # the logging flow's id: confirming the same draft twice finds this incident
    category: str
    urgent: bool
    reporter_id: int
    reporter_name: str
    note: str
    opened_at: datetime
    evidence: tuple[Evidence, ...]
    state: IncidentState = IncidentState.OPEN
    acknowledged_by: int = 0
    acknowledged_name: str = ""
    acknowledged_at: datetime | None = None
    closed_at: datetime | None = None
    outcome: str = ""
    # Escalation bookkeeping: the timers live here, not in the scheduler.
    alert_posted: bool = False
    pings: int = 0
    next_ping_at: datetime | None = None
    fallback_alerted: bool = False  # the deputy and SLT have the alert too
    unreachable_told: bool = False

    @property
    def ref(self) -> str:
        return f"INC-{self.number:04d}"


@dataclass(frozen=True)
class Action:
    """Something done about an incident, by whom and when (at most one of each kind)."""

    number: int
    kind: str
    by: int
    by_name: str
    at: datetime
    detail: str = ""


@dataclass(frozen=True)
class Ban:
    """A line of the ban register: who was banned on the platform, why, by whom, when."""

    number: int
    platform_name: str
    reason: str
    by: int
    by_name: str
    at: datetime

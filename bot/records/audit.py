"""One line of the audit log: who did what, on what, when, and how it ended."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime

SYSTEM = 0  # the actor id of things the bot does by itself: reminders, timed alerts, imports from the CLI


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    actor_id: int
    actor_role: str
    action: str
    target: str = ""
    outcome: str = "ok"
    detail: str = ""

    def to_json(self) -> str:
        record = asdict(self)
        record["at"] = self.at.isoformat()
        return json.dumps(record, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, line: str) -> AuditEntry:
        """One line back as an entry; ValueError for a line of any other shape (a hand edit, a bad
        copy), which readers skip like a line cut short, so one bad line cannot stop /audit."""
        record = json.loads(line)
        if not isinstance(record, dict) or not isinstance(record.get("at"), str):
            raise ValueError("not an audit entry")
        record["at"] = datetime.fromisoformat(record["at"])
        entry = cls(**record)
        texts = (entry.actor_role, entry.action, entry.target, entry.outcome, entry.detail)
        if entry.at.tzinfo is None or type(entry.actor_id) is not int or not all(isinstance(t, str) for t in texts):
            raise ValueError("not an audit entry")
        return entry

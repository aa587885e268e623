"""The IncidentLog service: drafts become incidents with write-once evidence, and leaders act on them.

A /log draft holds references to screenshots already on disk; confirming it opens the
incident once (INC-0042), and every action is recorded once per kind and audited.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.auditing import Auditor
from bot.clock import Clock
from bot.config import EscalationConfig
from bot.escalation import ping_interval
from bot.incidents.vocabulary import (
    MAX_PLATFORM_NAME,
    MAX_REASON,
    MAX_SCREENSHOTS,
    OUTCOMES,
    REPORTER_ACTIONS,
    ActionKind,
    category,
    is_category,
    ref,
)
from bot.records.incidents import Action, Ban, Evidence, EvidenceKind, Incident, IncidentState
from bot.roles import Permission, allows
from bot.wording import plural
from storage.incidents import IncidentRepository
from storage.staff import StaffRepository

# ---- the logging flow's draft -------------------------------------------------------------


@dataclass(frozen=True)
class Origin:
    """Where a forwarded screenshot came from, as Telegram tells the bot."""

    kind: str  # user, hidden_user, chat, channel
    name: str
    date: datetime | None


@dataclass(frozen=True)
class Screenshot:
    """A screenshot received during the flow: a file from the moment it arrives, not yet evidence.

    The draft holds only where the file is, so an unfinished /log kept across a restart
    (bot.shell.persistence) carries references, never pictures.
    """

    stored: str  # the file under the data folder, as Evidence.path
    sha256: str
    size: int
    file_id: str
    file_unique_id: str
    kind: EvidenceKind
    mime_type: str
    suffix: str
    received_at: datetime
    origin: Origin | None = None


def draft_folder(draft_id: str) -> str:
    """Where a draft's screenshots wait, beside the incidents' evidence folders."""
    return f"draft-{draft_id}"


@dataclass(frozen=True)
class Draft:
    """What the person has given so far; lives in the conversation until confirmed or cancelled."""

    id: str
    reporter_id: int
    started_at: datetime
    screenshots: tuple[Screenshot, ...] = ()
    category: str = ""
    note: str = ""

    def add(self, shot: Screenshot) -> tuple[Draft, bool]:
        """The draft with this screenshot; False when it is already there (sent twice) or full."""
        if any(s.sha256 == shot.sha256 for s in self.screenshots) or len(self.screenshots) >= MAX_SCREENSHOTS:
            return self, False
        return replace(self, screenshots=(*self.screenshots, shot)), True

    @property
    def full(self) -> bool:
        return len(self.screenshots) >= MAX_SCREENSHOTS

    @property
    def ready(self) -> bool:
        return bool(self.screenshots) and is_category(self.category)


# ---- results the handlers render ----------------------------------------------------------


class ActionStatus(StrEnum):
    DONE = "done"
    ALREADY = "already"  # someone recorded it first: `action` is theirs
    REFUSED = "refused"  # the person may not do this
    MISSING = "missing"  # no such incident


@dataclass(frozen=True)
class ActionResult:
    status: ActionStatus
    incident: Incident | None = None
    action: Action | None = None  # the one recorded now, or the earlier one for "already"


class IncidentLog:
    """Opening incidents and recording what is done about them (bot.escalation decides who is told)."""

    def __init__(
        self,
        incidents: IncidentRepository,
        staff: StaffRepository,
        audit: Auditor,
        clock: Clock,
        escalation: EscalationConfig,
        timezone: ZoneInfo,
    ) -> None:
        self.repo = incidents
        self.staff = staff
        self.audit = audit
        self.clock = clock
        self.escalation = escalation
        self.timezone = timezone

    # ---- opening ------------------------------------------------------------------------
    def by_draft(self, draft_id: str) -> Incident | None:
        return self.repo.by_draft(draft_id)

    def take_screenshot(
        self,
        draft_id: str,
        data: bytes,
        file_id: str,
        file_unique_id: str,
        kind: EvidenceKind,
        mime_type: str,
        suffix: str,
        origin: Origin | None = None,
    ) -> Screenshot:
        """Save a screenshot as it arrives, so a draft never holds the picture itself."""
        stored = self.repo.evidence.keep(draft_folder(draft_id), data, suffix)
        return Screenshot(
            stored.path,
            stored.sha256,
            stored.size,
            file_id,
            file_unique_id,
            kind,
            mime_type,
            suffix,
            self.clock.now(),
            origin,
        )

    def drop_draft(self, draft_id: str) -> None:
        """A draft given up (cancelled, timed out, or logged): its waiting screenshots go."""
        self.repo.evidence.discard(draft_folder(draft_id))

    def drop_abandoned_drafts(self, live: Collection[str]) -> int:
        """Delete the waiting screenshots of every draft no flow holds any more; how many drafts.

        A draft's screenshots are files from the moment they arrive, so a flow that ended
        without its own clean-up (the bot killed before it saved the flow, a person whose kept
        state no longer reads after a deploy) would otherwise leave them in the data folder for
        ever, out of reach of retention.
        """
        abandoned = [folder for folder in self.repo.evidence.drafts() if folder.removeprefix("draft-") not in live]
        for folder in abandoned:
            self.repo.evidence.discard(folder)
        return len(abandoned)

    def confirm(self, draft: Draft, reporter_name: str) -> tuple[Incident, bool]:
        """Open the incident for a draft once: a second confirm of the same draft finds the first.

        Evidence files are written before the record, both without an await, so a crash
        leaves at worst an unreferenced file and never a record without its evidence.
        """
        existing = self.repo.by_draft(draft.id)
        if existing is not None:
            self.audit(draft.reporter_id, "confirm incident", existing.ref, outcome="already logged")
            return existing, False
        if not draft.ready:
            raise ValueError("a draft needs a screenshot and a category")
        if not all(self.repo.evidence.within(shot.stored, draft_folder(draft.id)) for shot in draft.screenshots):
            # The draft came back from conversations.json: never another draft's or incident's screenshots.
            raise ValueError("a draft's screenshot is not in its own folder")
        now = self.clock.now()
        number = self.repo.next_number()
        evidence = tuple(self._keep(ref(number), shot, draft.reporter_id) for shot in draft.screenshots)
        kind = category(draft.category)
        incident = self.repo.insert(
            Incident(
                number=number,
                draft_id=draft.id,
                category=kind.key,
                urgent=kind.urgent,
                reporter_id=draft.reporter_id,
                reporter_name=reporter_name,
                note=draft.note,
                opened_at=now,
                evidence=evidence,
                next_ping_at=now + ping_interval(self.escalation, kind.urgent),
                fallback_alerted=self.escalation.fallback_after == 0,
            )
        )
        self.audit(
            draft.reporter_id,
            "incident opened",
            incident.ref,
            # One entry for the whole /log (its steps are one action): the screenshots' hashes ride in it.
            detail=f"category {kind.clause or kind.key}; {plural(len(evidence), 'screenshot')}"
            + ("; urgent" if kind.urgent else "")
            + "".join(f"; sha256 {item.sha256} ({item.size} bytes)" for item in evidence),
        )
        self.drop_draft(draft.id)
        return incident, True

    def _keep(self, reference: str, shot: Screenshot, uploader: int) -> Evidence:
        stored = self.repo.evidence.keep(reference, self.repo.evidence.read(shot.stored), shot.suffix)
        origin = shot.origin
        return Evidence(
            path=stored.path,
            sha256=stored.sha256,
            size=stored.size,
            file_id=shot.file_id,
            file_unique_id=shot.file_unique_id,
            kind=shot.kind,
            mime_type=shot.mime_type,
            uploader_id=uploader,
            received_at=shot.received_at,
            origin=origin.name if origin else "",
            origin_type=origin.kind if origin else "",
            origin_date=origin.date if origin else None,
        )

    # ---- reading ------------------------------------------------------------------------
    def get(self, number: int) -> Incident | None:
        return self.repo.get(number)

    def actions(self, number: int) -> list[Action]:
        return self.repo.actions(number)

    def listing(self, by: int) -> list[Incident]:
        """Open and acknowledged incidents first (newest first), then closed ones (newest first)."""
        self.audit(by, "list incidents")
        return sorted(self.repo.all(), key=lambda i: (i.state == IncidentState.CLOSED, -i.number))

    def view(self, number: int, by: int) -> Incident | None:
        """One incident for someone allowed to see it; the lookup itself is audited."""
        incident = self.repo.get(number)
        self.audit(by, "view incident", ref(number), outcome="ok" if incident else "not found")
        return incident

    def bans(self, by: int) -> list[Ban]:
        self.audit(by, "list bans")
        return self.repo.bans()

    def ban_for(self, number: int) -> Ban | None:
        return self.repo.ban_for(number)

    def evidence_intact(self, evidence: Evidence) -> bool:
        return self.repo.evidence.intact(evidence)

    # ---- acting -------------------------------------------------------------------------
    def acknowledge(self, number: int, by: int, name: str) -> ActionResult:
        """First acknowledgement wins; it stops the re-pings."""
        incident = self.repo.get(number)
        if incident is None:
            return ActionResult(ActionStatus.MISSING)
        if not allows(self.staff.role_of(by), Permission.ACT_ON_ALERTS):
            self.audit(by, "acknowledge incident", incident.ref, outcome="refused: role")
            return ActionResult(ActionStatus.REFUSED, incident)
        done = self.repo.acknowledge(number, by, name, self.clock.now())
        if done is None:
            self.audit(by, "acknowledge incident", incident.ref, outcome="already")
            return ActionResult(ActionStatus.ALREADY, incident)
        self.audit(by, "acknowledge incident", incident.ref)
        return ActionResult(ActionStatus.DONE, done)

    def may_record(self, by: int, incident: Incident, kind: ActionKind) -> bool:
        """Leaders may record anything; the person who logged it may record what they do on the page."""
        if allows(self.staff.role_of(by), Permission.ACT_ON_ALERTS):
            return True
        return by == incident.reporter_id and kind in REPORTER_ACTIONS and self.staff.role_of(by) is not None

    def record_action(self, number: int, kind: ActionKind, by: int, name: str, detail: str = "") -> ActionResult:
        """Record an action once per kind. A leader's action also acknowledges an open incident."""
        incident = self.repo.get(number)
        if incident is None:
            return ActionResult(ActionStatus.MISSING)
        if kind is ActionKind.CLOSED or kind is ActionKind.BANNED or not self.may_record(by, incident, kind):
            self.audit(by, f"incident action {kind.value}", incident.ref, outcome="refused")
            return ActionResult(ActionStatus.REFUSED, incident)
        return self._record(incident, kind, by, name, detail)

    def _record(self, incident: Incident, kind: ActionKind, by: int, name: str, detail: str) -> ActionResult:
        """Record once; a closed incident takes no more actions (a tap on a message older than the close)."""
        if incident.state == IncidentState.CLOSED:
            self.audit(by, f"incident action {kind.value}", incident.ref, outcome="already closed")
            return ActionResult(ActionStatus.ALREADY, incident, self.repo.action(incident.number, ActionKind.CLOSED.value))
        now = self.clock.now()
        action = self.repo.add_action(Action(incident.number, kind.value, by, name, now, detail))
        if action is None:
            self.audit(by, f"incident action {kind.value}", incident.ref, outcome="already")
            return ActionResult(ActionStatus.ALREADY, incident, self.repo.action(incident.number, kind.value))
        leader = allows(self.staff.role_of(by), Permission.ACT_ON_ALERTS)
        acknowledged = incident.state == IncidentState.OPEN and leader and self.repo.acknowledge(incident.number, by, name, now)
        # One tap, one entry: an action that also acknowledges the alert says so in its detail.
        said = "; ".join(part for part in (detail, "acknowledged" if acknowledged else "") if part)
        self.audit(by, f"incident action {kind.value}", incident.ref, detail=said)
        return ActionResult(ActionStatus.DONE, self.repo.get(incident.number), action)

    def record_ban(self, number: int, platform_name: str, reason: str, by: int, name: str) -> ActionResult:
        """Add the offender to the ban register and record "user banned", both once per incident."""
        incident = self.repo.get(number)
        if incident is None:
            return ActionResult(ActionStatus.MISSING)
        if not self.may_record(by, incident, ActionKind.BANNED):
            self.audit(by, "ban", incident.ref, outcome="refused")
            return ActionResult(ActionStatus.REFUSED, incident)
        if incident.state == IncidentState.CLOSED:
            return self._record(incident, ActionKind.BANNED, by, name, "")
        now = self.clock.now()
        ban = Ban(number, platform_name.strip()[:MAX_PLATFORM_NAME], reason.strip()[:MAX_REASON], by, name, now)
        if self.repo.add_ban(ban) is None:
            self.audit(by, "ban", incident.ref, outcome="already")
            return ActionResult(ActionStatus.ALREADY, incident, self.repo.action(number, ActionKind.BANNED.value))
        return self._record(incident, ActionKind.BANNED, by, name, "added to the ban register")

    def close(self, number: int, outcome: str, by: int, name: str) -> ActionResult:
        """Close with an outcome, once; leaders only. Closing stops the re-pings."""
        incident = self.repo.get(number)
        if incident is None or outcome not in OUTCOMES:
            return ActionResult(ActionStatus.MISSING)
        if not allows(self.staff.role_of(by), Permission.ACT_ON_ALERTS):
            self.audit(by, "close incident", incident.ref, outcome="refused: role")
            return ActionResult(ActionStatus.REFUSED, incident)
        now = self.clock.now()
        closed = self.repo.close(number, now, outcome)
        if closed is None:
            self.audit(by, "close incident", incident.ref, outcome="already")
            return ActionResult(ActionStatus.ALREADY, incident, self.repo.action(number, ActionKind.CLOSED.value))
        action = self.repo.add_action(Action(number, ActionKind.CLOSED.value, by, name, now, OUTCOMES[outcome]))
        self.audit(by, "close incident", incident.ref, detail=outcome)
        return ActionResult(ActionStatus.DONE, closed, action)

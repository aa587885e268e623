"""The consent register as staff use it: lookups, photo checks, draft checks and imports, all audited.

The rules live in bot/consent.py, bot/names.py, bot/draft_check.py and
bot/register_import.py; this module applies them to the stored register and records
who asked about whom (by pupil id: the audit never holds a pupil's name).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from bot.auditing import Auditor
from bot.config import ConsentConfig
from bot.consent import ConsentVerdict, expiring_within, verdict
from bot.draft_check import DraftPolicy, DraftReport, check_draft, named_pupil_ids
from bot.names import Resolution
from bot.records.audit import SYSTEM
from bot.records.consent import Pupil
from bot.register_import import ImportPreview, Narrowed, ParsedRegister, import_events, parse_register, preview_import
from bot.roles import LEADERS, Role
from bot.wording import plural
from storage.consents import ConsentRepository
from storage.staff import StaffRepository

AUDIT_IDS = 100  # pupil ids named in one audit entry; the rest are counted


@dataclass(frozen=True)
class PendingImport:
    parsed: ParsedRegister
    preview: ImportPreview


class RegisterChanged(ValueError):
    """The register is no longer what the preview was made against: what was confirmed is not what would happen."""


class MassRemovalRefused(ValueError):
    """More than a fifth of the register would leave and nobody said that was meant."""


@dataclass(frozen=True)
class WithdrawalNotice:
    """Who must hear that an import withdrew or narrowed consent (policy 4.1: old photos may need taking down)."""

    reference: str
    narrowed: tuple[Narrowed, ...]
    recipients: tuple[int, ...]


def answers(result: ConsentVerdict) -> str:
    """The verdict as the audit keeps it ("page:yes,group:no"): what the person was told, by purpose."""
    return ",".join(f"{item.purpose}:{'yes' if item.allowed else 'no'}" for item in result.purposes)


class RegisterService:
    """The stored register read and replaced on staff's behalf; `today` is the school's date now."""

    def __init__(
        self,
        register: ConsentRepository,
        staff: StaffRepository,
        audit: Auditor,
        today: Callable[[], date],
        config: ConsentConfig,
        draft_policy: DraftPolicy,
    ) -> None:
        self.register = register
        self.staff = staff
        self.audit = audit
        self._today = today
        self.config = config
        self.draft_policy = draft_policy

    @property
    def today(self) -> date:
        return self._today()

    @property
    def purposes(self) -> tuple[str, ...]:
        return self.config.purposes

    def lookup(self, actor_id: int, query: str) -> Resolution:
        resolution = self.register.index().resolve(query)
        if resolution.kind == "one":
            pupil = resolution.matches[0].pupil
            self.audit(actor_id, "consent lookup", pupil.pupil_id, outcome="one", detail=answers(self.verdict_of(pupil)))
        else:
            self.audit(actor_id, "consent lookup", f"{len(resolution.matches)} matches", outcome=resolution.kind)
        return resolution

    def verdict_for(self, actor_id: int, pupil_id: str) -> ConsentVerdict | None:
        """The verdict for a pupil picked from the buttons; None if the id is not (or no longer) current."""
        pupil = self.register.get(pupil_id)
        if pupil is None or pupil.left:
            self.audit(actor_id, "consent lookup", pupil_id, outcome="refused: unknown pupil")
            return None
        result = verdict(pupil, self.purposes, self.today)
        self.audit(actor_id, "consent lookup", pupil_id, outcome="one", detail=answers(result))
        return result

    def none_of_these(self, actor_id: int) -> None:
        """The person said a near name is none of the pupils offered: no verdict, and that is audited."""
        self.audit(actor_id, "consent lookup", "none of these", outcome="not confirmed")

    def verdict_of(self, pupil: Pupil) -> ConsentVerdict:
        return verdict(pupil, self.purposes, self.today)

    def check_draft(self, actor_id: int, text: str) -> DraftReport:
        report = check_draft(text, self.register.index(), self.draft_policy)
        kinds = sorted({f.kind for f in report.findings})
        pupils = named_pupil_ids(report.findings, self.register.index())
        detail = ",".join(kinds) + (f"; pupils {','.join(pupils)}" if pupils else "")
        self.audit(actor_id, "draft check", f"{len(text)} chars", outcome=report.verdict, detail=detail)
        return report

    def expiring(self, actor_id: int, days: int = 30) -> list[Pupil]:
        self.audit(actor_id, "expiring consents", f"next {plural(days, 'day')}")
        return expiring_within(self.register.all(), self.today, days)

    def prepare_import(self, actor_id: int, data: bytes) -> tuple[ParsedRegister, ImportPreview | None]:
        """Validate a file and preview its effect; nothing is written until `commit_import`."""
        consent = self.config
        parsed = parse_register(data, consent.purposes, consent.header_map, max_bytes=consent.max_file_kb * 1024)
        preview = None if parsed.fatal else preview_import(self.register.all(), parsed, self.today)
        outcome = "rejected file" if parsed.fatal else f"previewed, {plural(len(parsed.rejected), 'row')} rejected"
        self.audit(actor_id, "register import", f"{len(data)} bytes", outcome=outcome)
        return parsed, preview

    def commit_import(self, actor_id: int, pending: PendingImport, allow_mass_removal: bool = False) -> ImportPreview:
        """Apply a previewed import in one write, exactly as previewed, with what it changed in
        each pupil's consent history (by `actor_id`; the bot's own id means the command line).

        It re-previews first: if the register changed meanwhile, what was confirmed is not
        what would happen, so nothing is written. A mass removal needs `allow_mass_removal`.
        """
        preview = preview_import(self.register.all(), pending.parsed, self.today)
        if not preview.can_confirm:
            raise RegisterChanged("rows for pupils already in the register were rejected")
        if preview != pending.preview:
            raise RegisterChanged("the register changed since the preview")
        if preview.mass_removal and not allow_mass_removal:
            self.audit(
                actor_id, "register import", f"{len(preview.leaving)} leaving", outcome="refused: mass removal not confirmed"
            )
            raise MassRemovalRefused(f"{len(preview.leaving)} of {plural(preview.on_roll, 'pupil')} would leave")
        leaving = [p.pupil_id for p in preview.leaving]
        before = {p.pupil_id: p for p in self.register.all()}
        via = "cli" if actor_id == SYSTEM else "telegram"
        events = import_events(before, pending.parsed.pupils, leaving, self.audit.clock.now(), actor_id, via)
        self.register.replace_register(pending.parsed.pupils, leaving, events)
        self.audit(
            actor_id,
            "register import",
            plural(len(pending.parsed.pupils), "pupil"),
            outcome="confirmed, mass removal" if preview.mass_removal else "confirmed",
            detail=f"new {len(preview.new)}, changed {len(preview.changed)}, unchanged {len(preview.unchanged)}, "
            f"leaving {len(preview.leaving)}, consent withdrawn or narrowed {len(preview.narrowed)}",
        )
        return preview

    def withdrawal_notice(self, actor_id: int, done: ImportPreview) -> WithdrawalNotice | None:
        """The admins, SLT, deputy and Head hear of consent this import took away; audited by pupil id."""
        if not done.narrowed:
            return None
        recipients = tuple(self.staff.with_roles(Role.ADMIN, *LEADERS))
        notice = WithdrawalNotice(uuid.uuid4().hex[:12], done.narrowed, recipients)
        self.audit(
            actor_id,
            "consent withdrawn notice",
            plural(len(done.narrowed), "pupil"),
            outcome=f"to {len(recipients)} staff",
            detail="pupils "
            + ",".join(entry.after.pupil_id for entry in done.narrowed[:AUDIT_IDS])
            + (f" and {len(done.narrowed) - AUDIT_IDS} more" if len(done.narrowed) > AUDIT_IDS else ""),
        )
        return notice

    def expiry_reminder_day(self, year: int) -> date:
        """When to remind the office about consents that end with the consent year (default 1 July)."""
        configured = self.config.expiry_reminder
        if configured is None:
            return date(year, 7, 1)
        # A reminder set on 29 February falls on the 28th in other years.
        return date(year, configured.month, min(configured.day, 28 if configured.month == 2 else 31))

    def ending_this_consent_year(self) -> list[Pupil]:
        """Consents that end within the next ~2 months: what the end-of-year reminder lists."""
        return expiring_within(self.register.all(), self.today, days=62)

    def next_expiry_check(self) -> date:
        today = self.today
        reminder = self.expiry_reminder_day(today.year)
        return reminder if reminder >= today else self.expiry_reminder_day(today.year + 1)

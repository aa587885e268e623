"""The Moderation service: the rota in force, the page checks, what is due, history and the digest.

Everything is derived from config and storage, never from what a scheduler remembers: the
timed work asks `Moderation.due(now)` what is owed right now, sends it, records it, and a
restart simply asks again.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.auditing import Auditor
from bot.clock import Clock, local_day, local_moment
from bot.config import WEEKDAYS, DigestConfig, ModerationConfig
from bot.moderation.results import (
    CheckResult,
    Compliance,
    DayResult,
    DayStatus,
    DigestDue,
    Due,
    EscalationDue,
    NudgeDue,
    compliance,
    days_back,
)
from bot.moderation.rota import Duty, RotaError, describe_rota, may_be_on_rota
from bot.records.moderation import CheckOutcome, DayRecord, Reminder, Rota, RotaKind
from bot.roles import Role
from storage.incidents import IncidentRepository
from storage.moderation import ModerationRepository
from storage.staff import StaffRepository

REMIND_AFTER = timedelta(hours=1)
HISTORY_DAYS = 30


class Moderation:
    """The moderation duty for one data folder: rota, checks, what is due, history, digest.

    The digest counts the week's audit lines and incidents, so it reads the audit trail and the incidents too.
    """

    def __init__(
        self,
        repo: ModerationRepository,
        staff: StaffRepository,
        incidents: IncidentRepository,
        audit: Auditor,
        clock: Clock,
        config: ModerationConfig,
        digest: DigestConfig,
        tz: ZoneInfo,
    ) -> None:
        self.repo = repo
        self.staff = staff
        self.incidents = incidents
        self.audit = audit
        self.clock = clock
        self.config = config
        self.digest = digest
        self.tz = tz

    # -- time helpers
    def today(self) -> date:
        return local_day(self.clock.now(), self.tz)

    def nudge_at(self, day: date) -> datetime:
        return local_moment(day, self.config.nudge_time, self.tz)

    def deadline_at(self, day: date) -> datetime:
        return local_moment(day, self.config.deadline, self.tz)

    def start_tracking(self) -> None:
        """Remember when the bot first ran: a day whose nudge time came before that is not owed."""
        self.repo.start_tracking(self.clock.now())

    def tracked(self, day: date) -> bool:
        since = self.repo.tracking_since()
        return since is not None and self.nudge_at(day) >= since

    def first_tracked_day(self) -> date | None:
        since = self.repo.tracking_since()
        if since is None:
            return None
        day = local_day(since, self.tz)
        # A first day that started after its nudge time is not owed a check, but one made counts.
        record = self.repo.day(day)
        return day if self.tracked(day) or (record is not None and record.checked) else day + timedelta(days=1)

    # -- the rota
    def duty(self, day: date) -> Duty:
        """Who is on duty: the day's record once nudged, else the rota, else every admin."""
        moderation_day = self.config.is_moderation_day(day)
        record = self.repo.day(day)
        if record and record.nudged_at:
            return Duty(day, record.on_duty, moderation_day, everyone=False)
        staff = self.staff
        named = tuple(uid for uid in self.repo.rota().named_for(day, self.config) if may_be_on_rota(staff.role_of(uid)))
        if named:
            return Duty(day, named, moderation_day, everyone=False)
        return Duty(day, tuple(sorted(staff.with_roles(Role.ADMIN))), moderation_day, everyone=True)

    def change_rota(self, by: int, new: Rota) -> bool:
        """Save a new rota (audited); False when it is the rota already (a double tap)."""
        if self.repo.rota().same_plan(new):
            return False
        rota = Rota(new.kind, new.admins, new.fixed, new.starts, by, self.clock.now())
        self.repo.set_rota(rota)
        self.audit(by, "rota change", "rota", detail=describe_rota(rota))
        return True

    def rotate_all_admins(self, kind: RotaKind) -> Rota:
        """A rotation through every page admin, in name order, from today."""
        staff = self.staff
        admins = sorted(staff.with_roles(Role.ADMIN), key=lambda uid: (((m := staff.get(uid)) and m.name) or "", uid))
        if not admins:
            raise RotaError("There are no page admins yet: /grant ID admin first.")
        return Rota(kind, tuple(admins), starts=self.today())

    # -- answering the nudge
    def check(self, by: int, day: date, outcome: CheckOutcome) -> CheckResult:
        """Record that the page was checked (first answer wins; double taps change nothing)."""
        now = self.clock.now()
        today = local_day(now, self.tz)
        if day != today:
            return CheckResult(False, self.repo.day(day), refusal="day over")
        if not self.config.is_moderation_day(day):
            return CheckResult(False, None, refusal="no duty")
        existing = self.repo.day(day)
        if existing and existing.checked:
            return CheckResult(False, existing, late=self._late(existing))
        duty = self.duty(day)
        record = self.repo.record_check(day, by, now, outcome, duty.admins)
        late = self._late(record)
        self.audit(by, "moderation check", day.isoformat(), detail=f"{outcome}{' late' if late else ''}")
        return CheckResult(True, record, late=late)

    def _late(self, record: DayRecord) -> bool:
        return record.checked_at is not None and record.checked_at > self.deadline_at(record.day)

    def remind_later(self, user_id: int, day: date) -> Reminder | CheckResult:
        """Store a reminder an hour from now, or say why none is needed."""
        now = self.clock.now()
        record = self.repo.day(day)
        if day != local_day(now, self.tz):
            return CheckResult(False, record, refusal="day over")
        if record and record.checked:
            return CheckResult(False, record, late=self._late(record))
        return self.repo.add_reminder(Reminder(day, user_id, now + REMIND_AFTER))

    # -- timed work
    def due(self, now: datetime) -> Due:
        """Everything owed at `now`, derived from config and storage alone (restart-safe)."""
        today = local_day(now, self.tz)
        record = self.repo.day(today)
        checked = bool(record and record.checked)
        owed_today = self.config.is_moderation_day(today) and self.tracked(today)
        nudge = escalation = None
        if owed_today and not checked and now >= self.nudge_at(today) and not (record and record.nudged_at):
            nudge = NudgeDue(today, self.duty(today), late=now >= self.deadline_at(today))
        if owed_today and not checked and now >= self.deadline_at(today) and not (record and record.escalated_at):
            on_duty = nudge.duty.admins if nudge else self.duty(today).admins
            escalation = EscalationDue(today, on_duty, tuple(self.staff.with_roles(Role.HEAD)))
        reminders: list[Reminder] = []
        stale: list[Reminder] = []
        for reminder in self.repo.reminders_due(now):
            done = self.repo.day(reminder.day)
            (stale if reminder.day != today or (done and done.checked) else reminders).append(reminder)
        return Due(nudge, escalation, tuple(reminders), tuple(stale), self.digest_due(now), self._next(now))

    def record_nudge(self, due: NudgeDue) -> None:
        self.repo.record_nudge(due.day, due.duty.admins, self.clock.now())

    def record_escalation(self, due: EscalationDue) -> None:
        self.repo.record_escalation(due.day, self.clock.now())

    def _next(self, now: datetime) -> datetime:
        """The next moment anything here could become due (the ticker also runs every 30 s)."""
        today = local_day(now, self.tz)
        candidates = [self.repo.next_reminder()]
        for offset in range(0, 9):
            day = today + timedelta(days=offset)
            if self.config.is_moderation_day(day):
                candidates += [self.nudge_at(day), self.deadline_at(day)]
        candidates.append(self._digest_moment(self._digest_day_on_or_after(today + timedelta(days=1))))
        candidates.append(self._digest_moment(self._digest_day_on_or_after(today)))
        return min(c for c in candidates if c is not None and c > now)

    # -- history
    def history(self, days: int = HISTORY_DAYS) -> list[DayResult]:
        """The last `days` days, newest first, from the day the bot started tracking."""
        today = self.today()
        first = self.first_tracked_day()
        if first is None:
            return []
        first = max(first, today - timedelta(days=days - 1))
        return [self.result(day) for day in days_back(today, first)]

    def result(self, day: date, record: DayRecord | None = None) -> DayResult:
        """How one day went: on time, late, missed, still due, or not a moderation day."""
        record = record or self.repo.day(day)
        if not self.config.is_moderation_day(day):
            return DayResult(day, DayStatus.NO_DUTY, record)
        on_duty = record.on_duty if record and record.on_duty else self.duty(day).admins
        if record and record.checked:
            return DayResult(day, DayStatus.LATE if self._late(record) else DayStatus.ON_TIME, record, on_duty)
        if self.clock.now() < self.deadline_at(day):
            return DayResult(day, DayStatus.DUE, record, on_duty)
        return DayResult(day, DayStatus.MISSED, record, on_duty)

    def streak(self) -> int:
        """Moderation days in a row checked on time, counting back from today (a pending today is skipped)."""
        first = self.first_tracked_day()
        if first is None:
            return 0
        records = self.repo.days_since(first)
        now = self.clock.now()
        count = 0
        for day in days_back(self.today(), first):
            if not self.config.is_moderation_day(day):
                continue
            record = records.get(day)
            if record and record.checked and not self._late(record):
                count += 1
            elif (record and record.checked) or now >= self.deadline_at(day):
                break  # late, or missed
        return count

    def compliance(self, results: Sequence[DayResult]) -> Compliance:
        return compliance(results, self.streak())

    # -- the weekly digest
    def _digest_day_on_or_after(self, day: date) -> date:
        return day + timedelta(days=(WEEKDAYS.index(self.digest.weekday) - day.weekday()) % 7)

    def _digest_moment(self, day: date) -> datetime:
        return local_moment(day, self.digest.time, self.tz)

    def digest_due(self, now: datetime) -> DigestDue | None:
        """This week's digest once its moment has come (late after a restart), unless already sent."""
        today = local_day(now, self.tz)
        day = self._digest_day_on_or_after(today - timedelta(days=6))
        if now < self._digest_moment(day):
            day -= timedelta(days=7)
        end = local_moment(day, _MIDNIGHT, self.tz)
        since = self.repo.tracking_since()
        # Not owed when the bot was not running during the week it covers, or once sent.
        if since is None or since >= end or self.repo.digest_sent(day):
            return None
        return self.digest_for(day)

    def digest_for(self, day: date) -> DigestDue:
        """The digest of the seven days before `day` (also asked for on demand with /digest)."""
        first, last = day - timedelta(days=7), day - timedelta(days=1)
        start, end = local_moment(first, _MIDNIGHT, self.tz), local_moment(day, _MIDNIGHT, self.tz)
        tracked_from = self.first_tracked_day() or first
        results = [self.result(first + timedelta(days=n)) for n in range(7) if first + timedelta(days=n) >= tracked_from]
        actions = Counter(e.action for e in self.audit.log.between(start, end))  # only its week is read
        return DigestDue(
            day,
            first,
            last,
            tuple(self.staff.with_roles(Role.HEAD)),
            self.compliance(results),
            tuple(sorted(actions.items(), key=lambda item: (-item[1], item[0]))),
            self._incident_counts(start, end),
        )

    def record_digest(self, due: DigestDue) -> None:
        self.repo.record_digest(due.day, self.clock.now())

    def _incident_counts(self, start: datetime, end: datetime) -> tuple[int, int]:
        """Incidents opened and closed in [start, end)."""
        found = self.incidents.all()

        def within(moment: datetime | None) -> bool:
            return moment is not None and start <= moment < end

        opened = sum(1 for incident in found if within(incident.opened_at))
        closed = sum(1 for incident in found if within(incident.closed_at))
        return opened, closed


_MIDNIGHT = datetime.min.time()

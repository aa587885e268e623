"""The configuration's sections as frozen dataclasses: every key of SPEC.md's contract is a field here.

bot/config/loading.py reads and validates the TOML into these; bot/config/reading.py holds each key's default.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.wording import plural

TOKEN_ENV = "TELEGRAM_BOT_TOKEN"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_API_URL = "https://api.telegram.org/bot"
DEFAULT_FILE_URL = "https://api.telegram.org/file/bot"


class ConfigError(Exception):
    """The configuration is unusable; `problems` lists every finding, one per line."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class TelegramConfig:
    token: str = field(repr=False)
    base_url: str = DEFAULT_API_URL
    base_file_url: str = DEFAULT_FILE_URL


@dataclass(frozen=True)
class SchoolConfig:
    name: str
    timezone: ZoneInfo
    # The school's own contact details: a draft post may always give them (never flagged).
    phone_numbers: tuple[str, ...] = ()
    email_domains: tuple[str, ...] = ()
    postcodes: tuple[str, ...] = ()


@dataclass(frozen=True)
class RolesConfig:
    head: tuple[int, ...]
    deputy: tuple[int, ...] = ()
    slt: tuple[int, ...] = ()
    admins: tuple[int, ...] = ()
    office: tuple[int, ...] = ()
    # Staff who may also answer subject access requests (/pupil), beside the Head: the school's
    # data-protection lead. A role of its own is not needed: they keep the role they have.
    data_protection_leads: tuple[int, ...] = ()


@dataclass(frozen=True)
class StorageConfig:
    data_dir: Path


_DEFAULT_PURPOSE_LABELS = {"page": "Facebook page", "group": "parents' private group", "press": "press and publicity"}


@dataclass(frozen=True)
class ConsentConfig:
    purposes: tuple[str, ...] = ("page", "group", "press")
    purpose_labels: dict[str, str] = field(default_factory=dict)
    header_map: dict[str, str] = field(default_factory=dict)
    max_file_kb: int = 2048
    expiry_reminder: date | None = None
    common_first_names: tuple[str, ...] = ()
    allow_words: tuple[str, ...] = ()

    def label(self, purpose: str) -> str:
        return self.purpose_labels.get(purpose) or _DEFAULT_PURPOSE_LABELS.get(purpose, purpose)


@dataclass(frozen=True)
class HolidayRange:
    first: date
    last: date

    def __contains__(self, day: date) -> bool:
        return self.first <= day <= self.last


@dataclass(frozen=True)
class ModerationConfig:
    nudge_time: time = time(8, 30)
    deadline: time = time(12, 0)
    days: tuple[str, ...] = WEEKDAYS
    holidays: tuple[HolidayRange, ...] = ()

    def is_moderation_day(self, day: date) -> bool:
        return WEEKDAYS[day.weekday()] in self.days and not any(day in h for h in self.holidays)


@dataclass(frozen=True)
class EscalationConfig:
    ack_minutes: int = 30
    urgent_ack_minutes: int = 5
    fallback_after: int = 2
    unreachable_minutes: int = 5


# The code of conduct applicants read before agreeing: a phone screen or two, inside one message.
MAX_CODE_OF_CONDUCT = 2000


@dataclass(frozen=True)
class ApplicationsConfig:
    group_chat_id: int = 0
    remind_after_hours: int = 48
    code_of_conduct: str = ""  # the group's rules as applicants read them before agreeing ("" = a summary of policy 2.2)
    code_of_conduct_url: str = ""  # or a link to the school's own copy


@dataclass(frozen=True)
class AccessConfig:
    request_cooldown_days: int = 7  # a declined stranger waits this long before leaders hear again
    stranger_window_minutes: int = 10  # one refusal and one audit line per stranger per window
    max_waiting_requests: int = 10  # undecided requests at once: many strangers cannot bury the leaders


@dataclass(frozen=True)
class DeliveryConfig:
    give_up_after_minutes: int = 60  # someone Telegram will not let the bot write to: then the leaders are told


@dataclass(frozen=True)
class DigestConfig:
    weekday: str = "mon"
    time: time = time(7, 30)


@dataclass(frozen=True)
class BackupConfig:
    folder: Path | None = None  # None: no daily backup (check-config and /status say so)
    key_file: Path | None = None
    time: time = time(2, 0)  # school-local: when nobody is using the bot
    keep_daily: int = 7
    keep_weekly: int = 5
    keep_monthly: int = 12


@dataclass(frozen=True)
class RetentionConfig:
    """How long each kind of record is kept before the Head is asked to purge it (months)."""

    closed_incident_months: int = 24
    decided_application_months: int = 12
    audit_months: int = 36
    left_pupil_months: int = 12
    weekday: str = "mon"  # the weekly check: the Head hears on this day what is due
    time: time = time(9, 0)


@dataclass(frozen=True)
class Config:
    telegram: TelegramConfig
    school: SchoolConfig
    roles: RolesConfig
    storage: StorageConfig
    consent: ConsentConfig = field(default_factory=ConsentConfig)
    moderation: ModerationConfig = field(default_factory=ModerationConfig)
    escalation: EscalationConfig = field(default_factory=EscalationConfig)
    applications: ApplicationsConfig = field(default_factory=ApplicationsConfig)
    digest: DigestConfig = field(default_factory=DigestConfig)
    access: AccessConfig = field(default_factory=AccessConfig)
    delivery: DeliveryConfig = field(default_factory=DeliveryConfig)
    backup: BackupConfig = field(default_factory=BackupConfig)
    retention: RetentionConfig = field(default_factory=RetentionConfig)

    def summary(self) -> str:
        """A short human summary for `check-config`; never includes the token."""
        r = self.roles
        return "\n".join(
            [
                f"School: {self.school.name} ({self.school.timezone.key})",
                f"Roles: {plural(len(r.head), 'head')}, {plural(len(r.deputy), 'deputy')}, {len(r.slt)} SLT, "
                f"{plural(len(r.admins), 'admin')}, {len(r.office)} office",
                f"Data folder: {self.storage.data_dir}",
                f"Consent purposes: {', '.join(self.consent.purposes)}",
                f"Nudge {self.moderation.nudge_time:%H:%M}, deadline {self.moderation.deadline:%H:%M} "
                f"on {', '.join(self.moderation.days)}; {plural(len(self.moderation.holidays), 'holiday range')}",
                f"Escalation: re-ping after {self.escalation.ack_minutes} min "
                f"({self.escalation.urgent_ack_minutes} min urgent), fallback after "
                f"{self.escalation.fallback_after} re-pings",
                f"Applications group: {self.applications.group_chat_id or 'none'}",
                f"Backups: daily at {self.backup.time:%H:%M} to {self.backup.folder}"
                if self.backup.folder
                else "Backups: none (set backup.folder and backup.key_file)",
                f"Retention (months): closed incidents {self.retention.closed_incident_months}, decided applications "
                f"{self.retention.decided_application_months}, audit {self.retention.audit_months}, pupils who left "
                f"{self.retention.left_pupil_months}; checked {self.retention.weekday} {self.retention.time:%H:%M}",
                f"Bot API: {self._shown_url(self.telegram.base_url)}",
                "Token: set"
                if self.telegram.token
                else "Token: not set here; `python -m bot run` needs TELEGRAM_BOT_TOKEN in its environment (or telegram.token)",
            ]
        )

    def _shown_url(self, url: str) -> str:
        """A URL as check-config prints it: a token pasted into it (".../bot<token>") is hidden."""
        from bot.logsafe import redact  # logging's helper; imported here to keep config import-light

        return redact(url.replace(self.telegram.token, "[token]") if self.telegram.token else url)

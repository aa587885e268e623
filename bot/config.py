"""Typed, validated configuration read from TOML.

Every key of SPEC.md's contract lives here as a frozen dataclass field. Errors name
the key and the problem so a school's IT person can fix the file without reading code.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from dataclasses import dataclass, field
from datetime import date, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.numbers import TELEGRAM_USER_ID_MAX

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


@dataclass(frozen=True)
class ApplicationsConfig:
    group_chat_id: int = 0
    remind_after_hours: int = 48


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
                f"Roles: {len(r.head)} head, {len(r.deputy)} deputy, {len(r.slt)} SLT, "
                f"{len(r.admins)} admins, {len(r.office)} office",
                f"Data folder: {self.storage.data_dir}",
                f"Consent purposes: {', '.join(self.consent.purposes)}",
                f"Nudge {self.moderation.nudge_time:%H:%M}, deadline {self.moderation.deadline:%H:%M} "
                f"on {', '.join(self.moderation.days)}; {len(self.moderation.holidays)} holiday range(s)",
                f"Escalation: re-ping after {self.escalation.ack_minutes} min "
                f"({self.escalation.urgent_ack_minutes} min urgent), fallback after "
                f"{self.escalation.fallback_after} re-pings",
                f"Applications group: {self.applications.group_chat_id or 'none'}",
                f"Backups: daily at {self.backup.time:%H:%M} to {self.backup.folder}"
                if self.backup.folder
                else "Backups: none (set backup.folder and backup.key_file)",
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


# The schema: section -> key -> default (None means required). Used for "did you mean".
_SCHEMA: dict[str, dict[str, Any]] = {
    "telegram": {"token": "", "base_url": DEFAULT_API_URL, "base_file_url": DEFAULT_FILE_URL},
    "school": {
        "name": "Example Primary School",
        "timezone": "Europe/London",
        "phone_numbers": [],
        "email_domains": [],
        "postcodes": [],
    },
    "roles": {"head": None, "deputy": [], "slt": [], "admins": [], "office": [], "data_protection_leads": []},
    "storage": {"data_dir": "data"},
    "consent": {
        "purposes": ["page", "group", "press"],
        "purpose_labels": {},
        "header_map": {},
        "max_file_kb": 2048,
        "expiry_reminder": "",
        "common_first_names": [],
        "allow_words": [],
    },
    "moderation": {
        "nudge_time": "08:30",
        "deadline": "12:00",
        "days": list(WEEKDAYS),
        "holidays": [],
    },
    "escalation": {
        "ack_minutes": 30,
        "urgent_ack_minutes": 5,
        "fallback_after": 2,
        "unreachable_minutes": 5,
    },
    "applications": {"group_chat_id": 0, "remind_after_hours": 48},
    "digest": {"weekday": "mon", "time": "07:30"},
    "access": {"request_cooldown_days": 7, "stranger_window_minutes": 10, "max_waiting_requests": 10},
    "delivery": {"give_up_after_minutes": 60},
    "backup": {"folder": "", "key_file": "", "time": "02:00", "keep_daily": 7, "keep_weekly": 5, "keep_monthly": 12},
    "retention": {
        "closed_incident_months": 24,
        "decided_application_months": 12,
        "audit_months": 36,
        "left_pupil_months": 12,
        "weekday": "mon",
        "time": "09:00",
    },
}

_TIME_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


class _Reader:
    """Collects every problem instead of stopping at the first one."""

    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw
        self.problems: list[str] = []

    def check_unknown_keys(self) -> None:
        for section, value in self.raw.items():
            if section not in _SCHEMA:
                self.problems.append(f"[{section}]: unknown section{_did_you_mean(section, _SCHEMA)}")
                continue
            if not isinstance(value, dict):
                self.problems.append(f"[{section}]: must be a table of keys")
                continue
            for key in value:
                if key not in _SCHEMA[section]:
                    self.problems.append(f"{section}.{key}: unknown key{_did_you_mean(key, _SCHEMA[section])}")

    def get(self, section: str, key: str) -> Any:
        table = self.raw.get(section, {})
        default = _SCHEMA[section][key]
        if not isinstance(table, dict) or key not in table:
            if default is None:
                self.problems.append(f"{section}.{key}: required but missing")
            return default
        return table[key]

    def string(self, section: str, key: str) -> str:
        value = self.get(section, key)
        if not isinstance(value, str):
            self.problems.append(f"{section}.{key}: must be text in quotes")
            return str(_SCHEMA[section][key])
        return value

    def integer(self, section: str, key: str, minimum: int | None = None) -> int:
        value = self.get(section, key)
        if not isinstance(value, int) or isinstance(value, bool):
            self.problems.append(f"{section}.{key}: must be a whole number, not {value!r}")
            return int(_SCHEMA[section][key] or 0)
        if minimum is not None and value < minimum:
            self.problems.append(f"{section}.{key}: must be at least {minimum}, not {value}")
        return value

    def ids(self, section: str, key: str) -> tuple[int, ...]:
        value = self.get(section, key)
        if value is None:
            return ()
        if not isinstance(value, list) or not all(
            isinstance(v, int) and not isinstance(v, bool) and 0 < v <= TELEGRAM_USER_ID_MAX for v in value
        ):
            self.problems.append(f"{section}.{key}: must be a list of Telegram user ids, like [123456789]")
            return ()
        return tuple(value)

    def strings(self, section: str, key: str) -> tuple[str, ...]:
        value = self.get(section, key)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.problems.append(f"{section}.{key}: must be a list of text values")
            return tuple(_SCHEMA[section][key])
        return tuple(value)

    def mapping(self, section: str, key: str) -> dict[str, str]:
        value = self.get(section, key)
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            self.problems.append(f"{section}.{key}: must be a table of text values")
            return {}
        return dict(value)

    def clock_time(self, section: str, key: str) -> time:
        value = self.get(section, key)
        match = _TIME_RE.match(value) if isinstance(value, str) else None
        if not match:
            self.problems.append(f'{section}.{key}: {value!r} is not a time; write 24-hour "HH:MM", like "08:30"')
            return time.fromisoformat(_SCHEMA[section][key])
        return time(int(match.group(1)), int(match.group(2)))

    def iso_date(self, section: str, key: str, text: str) -> date | None:
        try:
            return date.fromisoformat(text.strip())
        except ValueError:
            self.problems.append(f'{section}.{key}: {text!r} is not a date; write "YYYY-MM-DD"')
            return None


def _did_you_mean(word: str, choices: Any) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f' (did you mean "{close[0]}"?)' if close else ""


def parse_config(raw: dict[str, Any], base_dir: Path, env: dict[str, str] | None = None) -> Config:
    """Build a Config from parsed TOML, or raise ConfigError listing every problem."""
    env = dict(os.environ) if env is None else env
    r = _Reader(raw)
    r.check_unknown_keys()

    token = env.get(TOKEN_ENV) or r.string("telegram", "token")
    telegram = TelegramConfig(
        token=token.strip(),
        base_url=r.string("telegram", "base_url"),
        base_file_url=r.string("telegram", "base_file_url"),
    )

    tz_name = r.string("school", "timezone")
    try:
        tz = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        r.problems.append(f'school.timezone: unknown time zone {tz_name!r}; use a name like "Europe/London"')
        tz = ZoneInfo("Europe/London")
    school = SchoolConfig(
        name=r.string("school", "name"),
        timezone=tz,
        phone_numbers=r.strings("school", "phone_numbers"),
        email_domains=r.strings("school", "email_domains"),
        postcodes=r.strings("school", "postcodes"),
    )
    for number in school.phone_numbers:
        if len(re.sub(r"\D", "", number)) < 10:
            r.problems.append(f'school.phone_numbers: {number!r} is not a whole phone number, like "01632 960000"')
    for domain in school.email_domains:
        if not re.fullmatch(r"@?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+", domain):
            r.problems.append(f'school.email_domains: {domain!r} must be a domain, like "example.sch.uk"')
    for postcode in school.postcodes:
        if not re.fullmatch(r"[A-Za-z]{1,2}[0-9][A-Za-z0-9]? ?[0-9][A-Za-z]{2}", postcode.strip()):
            r.problems.append(f'school.postcodes: {postcode!r} must be a UK postcode, like "AB1 2CD"')

    roles = RolesConfig(
        head=r.ids("roles", "head"),
        deputy=r.ids("roles", "deputy"),
        slt=r.ids("roles", "slt"),
        admins=r.ids("roles", "admins"),
        office=r.ids("roles", "office"),
        data_protection_leads=r.ids("roles", "data_protection_leads"),
    )
    if not roles.head and "roles.head: required but missing" not in r.problems:
        r.problems.append("roles.head: at least one Head Teacher id is required (alerts go there)")

    data_dir = Path(r.string("storage", "data_dir")).expanduser()
    storage = StorageConfig(data_dir=data_dir if data_dir.is_absolute() else base_dir / data_dir)

    purposes = r.strings("consent", "purposes")
    if not purposes:
        r.problems.append('consent.purposes: list at least one purpose, like ["page"]')
    for purpose in purposes:
        if not re.fullmatch(r"[a-z][a-z0-9_]{0,15}", purpose):
            r.problems.append(f"consent.purposes: {purpose!r} must be short lowercase letters, digits or _")
    reminder_text = r.string("consent", "expiry_reminder")
    consent = ConsentConfig(
        purposes=purposes,
        purpose_labels=r.mapping("consent", "purpose_labels"),
        header_map=r.mapping("consent", "header_map"),
        max_file_kb=r.integer("consent", "max_file_kb", minimum=1),
        expiry_reminder=r.iso_date("consent", "expiry_reminder", reminder_text) if reminder_text else None,
        common_first_names=r.strings("consent", "common_first_names"),
        allow_words=r.strings("consent", "allow_words"),
    )

    moderation = _moderation(r)
    escalation = EscalationConfig(
        ack_minutes=r.integer("escalation", "ack_minutes", minimum=1),
        urgent_ack_minutes=r.integer("escalation", "urgent_ack_minutes", minimum=1),
        fallback_after=r.integer("escalation", "fallback_after", minimum=0),
        unreachable_minutes=r.integer("escalation", "unreachable_minutes", minimum=1),
    )
    applications = ApplicationsConfig(
        group_chat_id=r.integer("applications", "group_chat_id"),
        remind_after_hours=r.integer("applications", "remind_after_hours", minimum=1),
    )
    digest_day = r.string("digest", "weekday").lower()
    if digest_day not in WEEKDAYS:
        r.problems.append(f"digest.weekday: {digest_day!r} is not a weekday{_did_you_mean(digest_day, WEEKDAYS)}")
        digest_day = "mon"
    digest = DigestConfig(weekday=digest_day, time=r.clock_time("digest", "time"))

    access = AccessConfig(
        request_cooldown_days=r.integer("access", "request_cooldown_days", minimum=0),
        stranger_window_minutes=r.integer("access", "stranger_window_minutes", minimum=1),
        max_waiting_requests=r.integer("access", "max_waiting_requests", minimum=1),
    )

    delivery = DeliveryConfig(give_up_after_minutes=r.integer("delivery", "give_up_after_minutes", minimum=1))

    backup = _backup(r, base_dir)
    retention = _retention(r)

    if r.problems:
        raise ConfigError(r.problems)
    return Config(
        telegram,
        school,
        roles,
        storage,
        consent,
        moderation,
        escalation,
        applications,
        digest,
        access,
        delivery,
        backup,
        retention,
    )


def _backup(r: _Reader, base_dir: Path) -> BackupConfig:
    def path(key: str) -> Path | None:
        text = r.string("backup", key).strip()
        if not text:
            return None
        found = Path(text).expanduser()
        return found if found.is_absolute() else base_dir / found

    folder, key_file = path("folder"), path("key_file")
    if folder and not key_file:
        r.problems.append("backup.key_file: required with backup.folder (create one with: python -m bot backup-key)")
    return BackupConfig(
        folder=folder,
        key_file=key_file,
        time=r.clock_time("backup", "time"),
        keep_daily=r.integer("backup", "keep_daily", minimum=1),
        keep_weekly=r.integer("backup", "keep_weekly", minimum=0),
        keep_monthly=r.integer("backup", "keep_monthly", minimum=0),
    )


def _retention(r: _Reader) -> RetentionConfig:
    weekday = r.string("retention", "weekday").lower()
    if weekday not in WEEKDAYS:
        r.problems.append(f"retention.weekday: {weekday!r} is not a weekday{_did_you_mean(weekday, WEEKDAYS)}")
        weekday = "mon"
    return RetentionConfig(
        closed_incident_months=r.integer("retention", "closed_incident_months", minimum=1),
        decided_application_months=r.integer("retention", "decided_application_months", minimum=1),
        audit_months=r.integer("retention", "audit_months", minimum=1),
        left_pupil_months=r.integer("retention", "left_pupil_months", minimum=1),
        weekday=weekday,
        time=r.clock_time("retention", "time"),
    )


def _moderation(r: _Reader) -> ModerationConfig:
    nudge = r.clock_time("moderation", "nudge_time")
    deadline = r.clock_time("moderation", "deadline")
    if deadline <= nudge:
        r.problems.append(f"moderation.deadline: {deadline:%H:%M} must be later than moderation.nudge_time {nudge:%H:%M}")
    days = tuple(d.lower() for d in r.strings("moderation", "days"))
    for day in days:
        if day not in WEEKDAYS:
            r.problems.append(
                f"moderation.days: {day!r} is not a weekday{_did_you_mean(day, WEEKDAYS)}; use mon, tue, wed, thu, fri, sat, sun"
            )
    holidays: list[HolidayRange] = []
    for text in r.strings("moderation", "holidays"):
        first_text, sep, last_text = text.partition("..")
        first = r.iso_date("moderation", "holidays", first_text)
        last = r.iso_date("moderation", "holidays", last_text) if sep else first
        if first and last:
            if last < first:
                r.problems.append(f"moderation.holidays: {text!r} ends before it starts")
            else:
                holidays.append(HolidayRange(first, last))
    return ModerationConfig(nudge, deadline, tuple(d for d in days if d in WEEKDAYS), tuple(holidays))


def load_config(path: Path, env: dict[str, str] | None = None) -> Config:
    """Read and validate a TOML config file; the token may come from the environment."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError([f"{path}: no such file; copy config.example.toml to start"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{path}: not valid TOML ({exc})"]) from None
    return parse_config(raw, path.resolve().parent, env)

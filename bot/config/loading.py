"""Typed, validated configuration read from TOML: the file and the environment become a `Config`.

Every problem is collected before the bot refuses to start, so one run of check-config lists them all.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.config.reading import Reader, did_you_mean
from bot.config.sections import (
    MAX_CODE_OF_CONDUCT,
    TOKEN_ENV,
    WEEKDAYS,
    AccessConfig,
    ApplicationsConfig,
    BackupConfig,
    Config,
    ConfigError,
    ConsentConfig,
    DeliveryConfig,
    DigestConfig,
    EscalationConfig,
    HolidayRange,
    ModerationConfig,
    RetentionConfig,
    RolesConfig,
    SchoolConfig,
    StorageConfig,
    TelegramConfig,
)


def parse_config(raw: dict[str, Any], base_dir: Path, env: dict[str, str] | None = None) -> Config:
    """Build a Config from parsed TOML, or raise ConfigError listing every problem."""
    env = dict(os.environ) if env is None else env
    r = Reader(raw)
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
        code_of_conduct=r.string("applications", "code_of_conduct").strip(),
        code_of_conduct_url=r.string("applications", "code_of_conduct_url").strip(),
    )
    if len(applications.code_of_conduct) > MAX_CODE_OF_CONDUCT:
        r.problems.append(
            f"applications.code_of_conduct: at most {MAX_CODE_OF_CONDUCT} characters (a phone screen or two); "
            "put a longer one on the school website and give its address as code_of_conduct_url"
        )
    if applications.code_of_conduct_url and not re.match(r"^https?://\S+$", applications.code_of_conduct_url):
        r.problems.append("applications.code_of_conduct_url: must be a web address starting with https://")
    digest_day = r.string("digest", "weekday").lower()
    if digest_day not in WEEKDAYS:
        r.problems.append(f"digest.weekday: {digest_day!r} is not a weekday{did_you_mean(digest_day, WEEKDAYS)}")
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


def _backup(r: Reader, base_dir: Path) -> BackupConfig:
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


# A century: longer has no meaning for a school's records, and a date that many months back would not exist.
MAX_RETENTION_MONTHS = 1200


def _retention(r: Reader) -> RetentionConfig:
    weekday = r.string("retention", "weekday").lower()
    if weekday not in WEEKDAYS:
        r.problems.append(f"retention.weekday: {weekday!r} is not a weekday{did_you_mean(weekday, WEEKDAYS)}")
        weekday = "mon"
    months = {"minimum": 1, "maximum": MAX_RETENTION_MONTHS}
    return RetentionConfig(
        closed_incident_months=r.integer("retention", "closed_incident_months", **months),
        decided_application_months=r.integer("retention", "decided_application_months", **months),
        audit_months=r.integer("retention", "audit_months", **months),
        left_pupil_months=r.integer("retention", "left_pupil_months", **months),
        weekday=weekday,
        time=r.clock_time("retention", "time"),
    )


def _moderation(r: Reader) -> ModerationConfig:
    nudge = r.clock_time("moderation", "nudge_time")
    deadline = r.clock_time("moderation", "deadline")
    if deadline <= nudge:
        r.problems.append(f"moderation.deadline: {deadline:%H:%M} must be later than moderation.nudge_time {nudge:%H:%M}")
    days = tuple(d.lower() for d in r.strings("moderation", "days"))
    for day in days:
        if day not in WEEKDAYS:
            r.problems.append(
                f"moderation.days: {day!r} is not a weekday{did_you_mean(day, WEEKDAYS)}; use mon, tue, wed, thu, fri, sat, sun"
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

"""Each key's default (the schema), and a reader that checks values against it, collecting every problem.

Errors name the key and the problem so a school's IT person can fix the file without reading code.
"""

from __future__ import annotations

import difflib
import re
from datetime import date, time
from typing import Any

from bot.config.sections import DEFAULT_API_URL, DEFAULT_FILE_URL, WEEKDAYS
from bot.numbers import TELEGRAM_USER_ID_MAX

# The schema: section -> key -> default (None means required). Used for "did you mean".
SCHEMA: dict[str, dict[str, Any]] = {
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
    "applications": {"group_chat_id": 0, "remind_after_hours": 48, "code_of_conduct": "", "code_of_conduct_url": ""},
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


class Reader:
    """Collects every problem instead of stopping at the first one."""

    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw
        self.problems: list[str] = []

    def check_unknown_keys(self) -> None:
        for section, value in self.raw.items():
            if section not in SCHEMA:
                self.problems.append(f"[{section}]: unknown section{did_you_mean(section, SCHEMA)}")
                continue
            if not isinstance(value, dict):
                self.problems.append(f"[{section}]: must be a table of keys")
                continue
            for key in value:
                if key not in SCHEMA[section]:
                    self.problems.append(f"{section}.{key}: unknown key{did_you_mean(key, SCHEMA[section])}")

    def get(self, section: str, key: str) -> Any:
        table = self.raw.get(section, {})
        default = SCHEMA[section][key]
        if not isinstance(table, dict) or key not in table:
            if default is None:
                self.problems.append(f"{section}.{key}: required but missing")
            return default
        return table[key]

    def string(self, section: str, key: str) -> str:
        value = self.get(section, key)
        if not isinstance(value, str):
            self.problems.append(f"{section}.{key}: must be text in quotes")
            return str(SCHEMA[section][key])
        return value

    def integer(self, section: str, key: str, minimum: int | None = None, maximum: int | None = None) -> int:
        value = self.get(section, key)
        if not isinstance(value, int) or isinstance(value, bool):
            self.problems.append(f"{section}.{key}: must be a whole number, not {value!r}")
            return int(SCHEMA[section][key] or 0)
        if minimum is not None and value < minimum:
            self.problems.append(f"{section}.{key}: must be at least {minimum}, not {value}")
        if maximum is not None and value > maximum:
            self.problems.append(f"{section}.{key}: must be at most {maximum:,}, not {value:,}")
            return int(SCHEMA[section][key] or 0)
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
            return tuple(SCHEMA[section][key])
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
            return time.fromisoformat(SCHEMA[section][key])
        return time(int(match.group(1)), int(match.group(2)))

    def iso_date(self, section: str, key: str, text: str) -> date | None:
        try:
            return date.fromisoformat(text.strip())
        except ValueError:
            self.problems.append(f'{section}.{key}: {text!r} is not a date; write "YYYY-MM-DD"')
            return None


def did_you_mean(word: str, choices: Any) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f' (did you mean "{close[0]}"?)' if close else ""

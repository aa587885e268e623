"""Who may do what. Head ⊇ SLT ⊇ admin (SPEC); office staff keep the register and forms."""

from __future__ import annotations

from enum import Enum, StrEnum


class Role(StrEnum):
    HEAD = "head"
    DEPUTY = "deputy"
    SLT = "slt"
    ADMIN = "admin"
    OFFICE = "office"
    # How people say each role ("a page admin", "an SLT member") is bot.wording's.


GRANTABLE = (Role.ADMIN, Role.OFFICE, Role.SLT, Role.DEPUTY, Role.HEAD)


class Permission(Enum):
    CHECK_CONSENT = "check consent"
    CHECK_POST = "check a draft post"
    LOG_MISUSE = "log misuse"
    MODERATE = "answer the moderation nudge"
    RECORD_APPLICATION = "record an application"
    IMPORT_REGISTER = "load the consent register"
    VIEW_EXPIRING = "see expiring consents"
    VIEW_INCIDENTS = "see incidents"
    ACT_ON_ALERTS = "act on incident alerts"
    DECIDE_APPLICATIONS = "decide applications"
    MANAGE_STAFF = "manage staff access"
    MANAGE_ROTA = "change the rota"
    VIEW_AUDIT = "read the audit log"
    VIEW_STATUS = "see how the bot is running"
    PURGE_RECORDS = "delete records past their retention period"


_ADMIN = {
    Permission.CHECK_CONSENT,
    Permission.CHECK_POST,
    Permission.LOG_MISUSE,
    Permission.MODERATE,
    Permission.RECORD_APPLICATION,
}
_OFFICE = {Permission.IMPORT_REGISTER, Permission.RECORD_APPLICATION, Permission.VIEW_EXPIRING}
_SLT = (
    _ADMIN
    | _OFFICE
    | {
        Permission.VIEW_INCIDENTS,
        Permission.ACT_ON_ALERTS,
        Permission.DECIDE_APPLICATIONS,
        Permission.MANAGE_STAFF,
        Permission.MANAGE_ROTA,
        Permission.VIEW_STATUS,
    }
)

PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(_ADMIN),
    Role.OFFICE: frozenset(_OFFICE),
    Role.SLT: frozenset(_SLT),
    Role.DEPUTY: frozenset(_SLT),
    Role.HEAD: frozenset(_SLT | {Permission.VIEW_AUDIT, Permission.PURGE_RECORDS}),
}

LEADERS = (Role.HEAD, Role.DEPUTY, Role.SLT)  # "the leaders", wherever the code says it
FALLBACK = (Role.DEPUTY, Role.SLT)  # the leaders after the Head: who hears of an alert the Head leaves unacknowledged


def allows(role: Role | None, permission: Permission) -> bool:
    return role is not None and permission in PERMISSIONS[role]


_ROLE_WORDS = {role.value: role for role in Role} | {"admins": Role.ADMIN, "head_teacher": Role.HEAD}


def parse_role(text: str) -> Role | None:
    """Accept what staff type: "admin", "Admins", "SLT", "office"."""
    return _ROLE_WORDS.get(text.strip().lower().replace(" ", "_"))

"""The bot's words as a Head reads them: counts, roles and times (bot.wording)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot.roles import Role
from bot.wording import a_role, listing, plural, role_name, roles_named, verb, when, you_are

LONDON = ZoneInfo("Europe/London")


def test_a_count_reads_with_the_right_noun() -> None:
    assert plural(1, "pupil") == "1 pupil"
    assert plural(0, "pupil") == "0 pupils"
    assert plural(2, "child") == "2 children"
    assert plural(1, "child") == "1 child"
    assert plural(3, "person") == "3 people"
    assert plural(2, "match") == "2 matches"
    assert plural(2, "reply") == "2 replies"
    assert plural(2, "day") == "2 days"
    assert plural(4, "staff") == "4 staff"
    assert plural(2, "form of consent", "forms of consent") == "2 forms of consent"
    assert verb(1, "is") == "is" and verb(2, "is") == "are" and verb(2, "was") == "were"


def test_roles_read_as_people_say_them() -> None:
    assert you_are(Role.ADMIN) == "You are a page admin."
    assert you_are(Role.SLT) == "You are an SLT member."
    assert you_are(Role.HEAD) == "You are the Head Teacher."
    assert role_name(Role.SLT) == "SLT member"
    assert a_role(Role.OFFICE) == "office staff"
    assert roles_named({Role.HEAD, Role.SLT, Role.ADMIN}) == "page admins, SLT members and the Head Teacher"
    assert listing(["one"]) == "one" and listing(["a", "b"]) == "a and b"


def test_times_read_as_today_yesterday_or_a_day_in_the_school_zone() -> None:
    now = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
    assert when(datetime(2026, 11, 30, 14, 35, tzinfo=UTC), now, LONDON) == "today 14:35"
    assert when(datetime(2026, 11, 29, 9, 10, tzinfo=UTC), now, LONDON) == "yesterday 09:10"
    assert when(datetime(2026, 11, 23, 14, 35, tzinfo=UTC), now, LONDON) == "Mon 23 Nov 14:35"
    assert when(datetime(2025, 11, 30, 14, 35, tzinfo=UTC), now, LONDON) == "Sun 30 Nov 2025 14:35"
    # Summer time: 23:30 UTC on 1 Jul is already 2 Jul, 00:30 in London.
    assert when(datetime(2026, 7, 1, 23, 30, tzinfo=UTC), datetime(2026, 7, 2, 8, 0, tzinfo=UTC), LONDON) == "today 00:30"

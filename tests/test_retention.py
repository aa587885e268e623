"""Retention as the Head meets it: the weekly check lists what is past its period, and only the Head's
Delete removes exactly that (a stale preview cannot reach anything newer), audited without names.

Periods here: closed incidents 24 months, decided applications, audit months and pupils who left
12 months. The story starts in January 2024 and the check runs on Monday 30 November 2026 at 09:00.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.clock import FakeClock
from bot.config import Config
from bot.records.applications import GroupApplication, Source, Status
from bot.records.consent import Pupil
from bot.shell.callbacks import pack
from tests.conftest import ADMIN, HEAD, SLT, BotHarness, make_config
from tests.test_incidents import log_misuse

OLD = datetime(2024, 1, 10, 10, 0, tzinfo=UTC)
CHECK = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)  # Monday; London is on GMT


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(OLD)


@pytest.fixture
def config(data_dir: Path) -> Config:
    return make_config(
        data_dir,
        retention={"decided_application_months": 12, "audit_months": 12, "left_pupil_months": 12},
    )


def pupil(pupil_id: str, first: str, last: str) -> Pupil:
    return Pupil(pupil_id, first, last, class_name="Year 3", consents={"page": True})


async def closed_incident(bot: BotHarness, at: datetime) -> int:
    bot.clock.set(at)
    incident = await log_misuse(bot, ADMIN)
    bot.services.incident_log.close(incident.number, "resolved", HEAD, "Helen Head")
    return incident.number


def decided_application(bot: BotHarness, at: datetime, name: str) -> int:
    stored = bot.services.applications.add(
        GroupApplication(0, Source.PAPER, Status.APPROVED, name, at, decided_by=SLT, decided_at=at, outcome_told=True)
    )
    return stored.number


def files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


async def the_school_over_three_years(bot: BotHarness) -> dict[str, Any]:
    """Records old enough to go, and others not yet: each kind, on both sides of its period."""
    for user in (HEAD, SLT, ADMIN):
        await bot.say(user, "/help")
    old_incident = await closed_incident(bot, OLD)
    bot.services.consents.replace_register([pupil("P1", "Amelia", "Smith"), pupil("P2", "Oliver", "Jones")], ())
    bot.services.consents.replace_register([pupil("P2", "Oliver", "Jones")], ["P1"])  # Amelia left
    [nothing_yet] = await bot.say(HEAD, "/retention")  # the check notes who it sees as left from now on
    assert nothing_yet.plain == "Nothing is past its retention period today."
    old_application = decided_application(bot, OLD, "Mrs Old")
    recent_incident = await closed_incident(bot, datetime(2025, 12, 1, 10, 0, tzinfo=UTC))
    recent_application = decided_application(bot, datetime(2026, 6, 1, 10, 0, tzinfo=UTC), "Mr Recent")
    bot.services.consents.replace_register([], ["P2"])  # Oliver left this autumn
    bot.clock.set(datetime(2026, 10, 1, 10, 0, tzinfo=UTC))
    await bot.say(HEAD, "/retention")
    return {
        "old_incident": old_incident,
        "recent_incident": recent_incident,
        "old_application": old_application,
        "recent_application": recent_application,
    }


def previews_to(bot: BotHarness, user: int) -> list[Any]:
    return [m for m in bot.emu.messages_to(user) if "Records past their retention period (as of" in (m.plain or "")]


async def test_the_weekly_check_previews_and_delete_removes_exactly_what_it_listed(bot: BotHarness, data_dir: Path) -> None:
    story = await the_school_over_three_years(bot)
    bot.clock.set(CHECK.replace(hour=8, minute=59))
    await bot.tick()
    weekly = len(previews_to(bot, HEAD))
    bot.clock.set(CHECK)
    await bot.tick()
    [preview] = previews_to(bot, HEAD)[weekly:]
    text = preview.plain
    assert "• 1 closed incident with 1 screenshot, the oldest closed 10 Jan 2024 (kept 24 months)" in text
    assert "• 1 decided application to the parents' group, the oldest decided 10 Jan 2024 (kept 12 months)" in text
    assert "• 1 month of the audit log: Jan 2024" in text and "Dec 2025" not in text and "2024-01" not in text
    assert "• 1 pupil who left the school, the oldest first seen as left 10 Jan 2024 (kept 12 months)" in text
    assert "Amelia" not in text and "Smith" not in text
    await bot.tick()
    assert len(previews_to(bot, HEAD)) == weekly + 1, "one preview a week"

    delete = dict(preview.buttons)["Delete these records"]
    before = files(data_dir)
    await bot.press(HEAD, preview, "Delete these records")
    after = files(data_dir)

    services = bot.services
    assert services.incidents.get(story["old_incident"]) is None
    assert services.incidents.get(story["recent_incident"]) is not None
    assert services.applications.get(story["old_application"]) is None
    assert services.applications.get(story["recent_application"]) is not None
    assert [p.pupil_id for p in services.consents.all()] == ["P2"]
    gone = sorted(set(before) - set(after))
    assert gone == sorted(
        [n for n in before if n.startswith(f"evidence/INC-{story['old_incident']:04d}/")] + ["audit/audit-2024-01.jsonl"]
    ), "the old incident's screenshots and the old audit month, nothing else"
    changed = sorted(n for n in set(before) & set(after) if before[n] != after[n] and not n.startswith("audit/"))
    assert changed == ["applications.json", "consents.json", "incidents.json", "meta.json", "outbox.json"]
    [entry] = [e for e in bot.audit() if e.action == "retention purge" and e.outcome == "ok"]
    assert entry.actor_id == HEAD
    assert "1 closed incident (1 screenshot)" in entry.detail and "1 pupil who left" in entry.detail
    assert "Amelia" not in entry.detail and "P1" not in entry.detail
    assert "Deleted by Helen Head" in preview.plain and preview.buttons == []

    answer = await bot.press(HEAD, preview, data=delete)  # a second tap, from a slow phone
    assert "already been answered" in answer["text"]
    assert services.incidents.get(story["recent_incident"]) is not None
    services.incidents.forget([story["recent_incident"]])  # the newest too, as a later purge would
    services.applications.forget([story["recent_application"]])
    await bot.restart()
    assert bot.services.incidents.next_number() == story["recent_incident"] + 1, "a deleted reference is never given again"
    assert decided_application(bot, CHECK, "Ms New") == story["recent_application"] + 1, "nor an application's number"


async def test_a_stale_preview_deletes_only_what_it_listed_never_anything_newer(bot: BotHarness) -> None:
    for user in (HEAD, ADMIN):
        await bot.say(user, "/help")
    listed = await closed_incident(bot, datetime(2024, 11, 20, 10, 0, tzinfo=UTC))
    newer = await closed_incident(bot, datetime(2024, 11, 27, 10, 0, tzinfo=UTC))  # due two days after the preview
    bot.clock.set(datetime(2026, 11, 25, 10, 0, tzinfo=UTC))
    [preview] = await bot.say(HEAD, "/retention")
    assert "1 closed incident" in preview.plain
    bot.clock.set(datetime(2026, 11, 28, 10, 0, tzinfo=UTC))  # now both are past 24 months
    await bot.press(HEAD, preview, "Delete these records")
    assert bot.services.incidents.get(listed) is None
    assert bot.services.incidents.get(newer) is not None, "only what the Head saw"


async def test_nothing_is_deleted_without_the_heads_confirmation(bot: BotHarness) -> None:
    for user in (HEAD, SLT, ADMIN):
        await bot.say(user, "/help")
    number = await closed_incident(bot, OLD)
    bot.clock.set(CHECK)
    [first] = await bot.say(HEAD, "/retention")
    old_delete = dict(first.buttons)["Delete these records"]
    [preview] = await bot.say(HEAD, "/retention")  # a newer preview: the first one's buttons are taken away
    assert not first.buttons and "Replaced by a newer list: nothing was deleted" in first.plain

    answer = await bot.press(HEAD, first, data=old_delete)  # a tap from a phone that had not caught up
    assert "out of date" in answer["text"]
    [slt_view] = await bot.say(SLT, "/help")
    delete = dict(preview.buttons)["Delete these records"]
    answer = await bot.press(SLT, slt_view, data=delete)  # SLT forging the Head's button
    assert "Sorry, only the Head Teacher can do that" in answer["text"]
    answer = await bot.press(HEAD, preview, data=pack("ret", "ok", 99))  # a preview that never was
    assert "out of date" in answer["text"]
    await bot.press(HEAD, preview, "Cancel")
    assert "Cancelled by Helen Head: nothing was deleted." in preview.plain
    answer = await bot.press(HEAD, preview, data=delete)
    assert "already been answered" in answer["text"]
    assert bot.services.incidents.get(number) is not None
    assert [
        (e.action, e.outcome) for e in bot.audit() if e.action.startswith("retention ") and e.action != "retention preview"
    ] == [
        ("retention purge", "refused: role"),
        ("retention cancel", "ok"),
    ]


async def test_the_weekly_check_says_nothing_when_nothing_is_due(bot: BotHarness) -> None:
    await bot.say(HEAD, "/help")
    bot.clock.set(CHECK)
    await bot.tick()
    assert previews_to(bot, HEAD) == []
    [reply] = await bot.say(HEAD, "/retention")
    assert reply.plain == "Nothing is past its retention period today."


async def test_a_pupil_is_counted_as_left_from_the_day_the_bot_saw_it_even_when_an_older_list_is_answered(
    bot: BotHarness,
) -> None:
    for user in (HEAD, ADMIN):
        await bot.say(user, "/help")
    bot.services.consents.replace_register([pupil("P1", "Amelia", "Smith"), pupil("P2", "Oliver", "Jones")], ())
    await closed_incident(bot, datetime(2023, 11, 1, 10, 0, tzinfo=UTC))
    bot.clock.set(datetime(2025, 11, 20, 10, 0, tzinfo=UTC))
    [preview] = await bot.say(HEAD, "/retention")
    bot.clock.set(datetime(2025, 11, 23, 10, 0, tzinfo=UTC))
    bot.services.consents.replace_register([pupil("P1", "Amelia", "Smith")], ["P2"])  # Oliver leaves on the 23rd
    await bot.press(HEAD, preview, "Delete these records")  # the list of the 20th, answered on the 23rd

    bot.clock.set(datetime(2026, 11, 21, 10, 0, tzinfo=UTC))
    [reply] = await bot.say(HEAD, "/retention")
    assert reply.plain == "Nothing is past its retention period today.", "Oliver's 12 months run from the 23rd"
    bot.clock.set(datetime(2026, 11, 23, 10, 0, tzinfo=UTC))
    [reply] = await bot.say(HEAD, "/retention")
    assert "1 pupil who left the school, the oldest first seen as left 23 Nov 2025" in reply.plain


async def test_the_domain_checks_the_role_again_whoever_calls_it(bot: BotHarness) -> None:
    for user in (HEAD, ADMIN):
        await bot.say(user, "/help")
    number = await closed_incident(bot, OLD)
    bot.clock.set(CHECK)
    [preview] = await bot.say(HEAD, "/retention")
    preview_id = int(dict(preview.buttons)["Delete these records"].rsplit(":", 1)[1])
    outcome = bot.services.retention.answer(ADMIN, preview_id, True)
    assert outcome.answer.value == "refused"
    assert bot.services.incidents.get(number) is not None

"""The office loads the register on a phone and cannot wipe it by mistake; withdrawn consent reaches the page team."""

from __future__ import annotations

from datetime import date

import pytest

from bot.register import PendingImport
from tests.conftest import ADMIN, ADMIN2, DEPUTY, HEAD, OFFICE, SLT, SLT2, STRANGER, BotHarness

HEADER = (
    "pupil_id,first_name,last_name,preferred_name,class,consent_page,consent_group,consent_press,form_date,expires,withdrawn\n"
)
ROWS = (
    "P001,Amelia,Smith,,Year 3,yes,yes,no,2025-09-05,,",
    "P002,Zoë,O'Brien,,Year 4,yes,yes,yes,2025-09-05,2027-07-31,",
    "P003,Oliver,Smith-Jones,Ollie,Year 3,no,yes,no,2025-09-06,,",
    "P004,Noah,Williams,,Year 5,yes,yes,yes,2025-09-05,,",
    "P005,Isla,Brown,,Year 6,yes,no,no,2025-09-05,,",
    "P006,Amelia,Jones,,Year 1,yes,yes,yes,2025-09-08,,",
    "P007,Grace,Lee,,Year 2,yes,yes,yes,2025-09-08,,",
    "P008,Harry,Khan,,Year 2,yes,yes,yes,2025-09-08,,",
)
EVERYONE_TOLD = (ADMIN, ADMIN2, SLT, SLT2, DEPUTY, HEAD)

NOAH_NARROWED = (
    "Noah Williams (Year 5): no longer Facebook page, parents' private group, press and publicity (withdrawn from 1 Dec 2026)"
)


def csv(*rows: str) -> bytes:
    return (HEADER + "\n".join(rows) + "\n").encode()


def load(bot: BotHarness, data: bytes) -> None:
    """The register as it stood before the test (loaded without the phone)."""
    register = bot.services.register
    parsed, preview = register.prepare_import(0, data)
    assert preview is not None, parsed.fatal
    register.commit_import(0, PendingImport(parsed, preview))


async def send_file(bot: BotHarness, user: int, data: bytes, chat_id: int | None = None) -> list:
    mark = bot.emu.mark()
    bot.emu.send_document(user, data, "register.csv", "text/csv", chat_id=chat_id)
    await bot.settle()
    return bot.emu.since(mark)


@pytest.fixture
async def school(bot: BotHarness) -> BotHarness:
    load(bot, csv(*ROWS))
    return bot


def the_update() -> bytes:
    """Noah's parents withdrew; Amelia moved class and said no to the group; Grace left; twelve new starters."""
    rows = [row for row in ROWS if not row.startswith("P007")]
    rows[0] = "P001,Amelia,Smith,,Year 4,yes,no,no,2025-09-05,,"
    rows[3] = "P004,Noah,Williams,,Year 5,yes,yes,yes,2025-09-05,,2026-12-01"
    rows += [f"P1{n:02},Starter{n},New,,Reception,yes,yes,yes,01/09/2026,31/7/27," for n in range(12)]
    return csv(*rows)


async def test_preview_names_who_is_new_changed_and_leaving_with_withdrawn_consent_first(school: BotHarness) -> None:
    [preview] = await send_file(school, OFFICE, the_update())
    text = preview.plain
    withdrawn, new, changed, leaving = (
        text.index("Consent withdrawn or narrowed (2)"),
        text.index("New (12)"),
        text.index("Changed (2)"),
        text.index("Leaving (1)"),
    )
    assert withdrawn < new < changed < leaving
    assert NOAH_NARROWED in text
    assert "Amelia Smith (Year 4): no longer parents' private group" in text
    assert "Amelia Smith (Year 3): class Year 3 → Year 4; parents' private group yes → no" in text
    assert "Starter0 New (Reception)" in text and "Starter9 New" in text and "Starter10" not in text
    assert "…and 2 more." in text
    assert "• Grace Lee (Year 2)" in text[leaving:]
    assert school.services.consents.get("P004").withdrawn is None  # nothing saved before Confirm
    # One pupil of eight leaving is an ordinary update: one Confirm tap loads it.
    assert [label for label, _ in preview.buttons] == ["Confirm", "Cancel"]
    await school.press(OFFICE, preview, "Confirm")
    assert "12 new, 2 changed, 5 unchanged, 1 marked as left" in school.last(OFFICE).plain


async def test_withdrawn_consent_reaches_admins_slt_and_head_once_after_confirm(school: BotHarness) -> None:
    [cancelled] = await send_file(school, OFFICE, the_update())
    await school.press(OFFICE, cancelled, "Cancel")
    [preview] = await send_file(school, OFFICE, the_update())
    assert not any(school.emu.messages_to(person) for person in EVERYONE_TOLD)  # not before Confirm, nor after Cancel
    await school.press(OFFICE, preview, "Confirm")
    done = school.last(OFFICE).plain
    assert "Register loaded" in done and "the page team has been told" in done
    for person in EVERYONE_TOLD:
        [notice] = school.emu.messages_to(person)
        assert "Photo consent withdrawn or narrowed" in notice.plain and "by Olive Office" in notice.plain
        assert NOAH_NARROWED in notice.plain
        assert "Amelia Smith (Year 4): no longer parents' private group" in notice.plain
        assert (
            "Policy 4.1: check where these pupils may already appear (Facebook page, parents' private group, press and publicity)"
            in notice.plain
        )
        assert "Zoë" not in notice.plain and "Starter" not in notice.plain
    assert not any("withdrawn or narrowed" in m.plain and "Policy 4.1" in m.plain for m in school.emu.messages_to(OFFICE))
    [entry] = [e for e in school.audit() if e.action == "consent withdrawn notice"]
    assert entry.actor_id == OFFICE and entry.detail == "pupils P001,P004" and entry.outcome == "to 6 staff"
    for e in school.audit():
        assert "Noah" not in e.target + e.detail and "Amelia" not in e.target + e.detail
    # The same file again changes nothing and tells nobody again.
    [again] = await send_file(school, OFFICE, the_update())
    await school.press(OFFICE, again, "Confirm")
    assert len(school.emu.messages_to(ADMIN)) == 1


async def test_many_withdrawals_give_each_person_one_notice_split_under_telegrams_limit(bot: BotHarness) -> None:
    rows = [
        f"Q{n:03},Pupilwithalongname{n},Surname-Double-Barrelled{n},,Class {n % 7},yes,yes,yes,2025-09-05,," for n in range(300)
    ]
    load(bot, csv(*rows))
    withdrawn = [row[: -len(",,")] + ",,15/11/2026" for row in rows]
    [*_, preview] = await send_file(bot, OFFICE, csv(*withdrawn))
    await bot.press(OFFICE, preview, "Confirm")
    parts = bot.emu.messages_to(ADMIN)
    assert len(parts) > 1 and all(len(m.text or "") <= 4096 for m in parts)
    assert all(f"(part {n} of {len(parts)})" in m.plain for n, m in enumerate(parts, start=1))
    named = "\n".join(m.plain for m in parts)
    assert all(named.count(f"Pupilwithalongname{n} Surname-Double-Barrelled{n} ") == 1 for n in range(300))
    assert len(bot.emu.messages_to(SLT)) == len(parts)


async def test_removing_most_of_the_register_needs_a_second_explicit_tap(bot: BotHarness) -> None:
    load(bot, csv(*(f"S{n:04},Child{n},Family{n},,Year {n % 6 + 1},yes,yes,yes,2025-09-05,," for n in range(5000))))
    two_rows = csv(
        "S0000,Child0,Family0,,Year 1,yes,yes,yes,2025-09-05,,", "S0001,Child1,Family1,,Year 2,yes,yes,yes,2025-09-05,,"
    )
    [preview] = await send_file(bot, OFFICE, two_rows)
    assert "Leaving (4,998)" in preview.plain and "…and 4,988 more." in preview.plain
    assert "4,998 of the 5,000 pupils on roll would be marked as left" in preview.plain
    assert [label for label, _ in preview.buttons] == ["⚠️ Confirm: 4,998 pupils leave", "Cancel"]

    await bot.press(OFFICE, preview, "⚠️ Confirm: 4,998 pupils leave")
    question = bot.last(OFFICE)
    assert "Remove 4,998 of the 5,000 pupils on roll?" in question.plain
    assert [label for label, _ in question.buttons] == ["Yes, remove 4,998 pupils", "Cancel"]
    assert not any(p.left for p in bot.services.consents.all())  # the first tap saves nothing

    # Nobody else can give the second tap, even with the button's data.
    yes = dict(question.buttons)["Yes, remove 4,998 pupils"]
    refused = await bot.press(ADMIN, question, data=yes)
    assert refused and refused["text"].startswith("Sorry")
    refused = await bot.press(STRANGER, question, data=yes)
    assert refused and "not for you" in refused["text"]
    assert not any(p.left for p in bot.services.consents.all())

    await bot.press(OFFICE, question, "Yes, remove 4,998 pupils")
    assert "4,998 marked as left" in bot.last(OFFICE).plain
    assert sum(not p.left for p in bot.services.consents.all()) == 2
    assert [e.outcome for e in bot.audit() if e.action == "register import"][-1] == "confirmed, mass removal"


async def test_cancel_on_the_second_question_changes_nothing(bot: BotHarness) -> None:
    load(bot, csv(*ROWS))
    [preview] = await send_file(bot, OFFICE, csv(ROWS[0]))
    await bot.press(OFFICE, preview, 0)
    await bot.press(OFFICE, bot.last(OFFICE), "Cancel")
    assert "Import cancelled" in bot.last(OFFICE).plain
    assert not any(p.left for p in bot.services.consents.all())


async def test_uk_dates_are_read_as_the_spreadsheet_writes_them(school: BotHarness) -> None:
    rows = [
        *ROWS,
        "P009,Ava,Patel,,Year 1,yes,yes,yes,05/09/2025,31/7/27,",
        "P010,Leo,Ward,,Year 1,yes,yes,yes,5/9/25,31/07/2027,01/03/2026",
    ]
    [preview] = await send_file(school, OFFICE, csv(*rows))
    assert "New (2)" in preview.plain and "rejected" not in preview.plain
    await school.press(OFFICE, preview, "Confirm")
    ava, leo = school.services.consents.get("P009"), school.services.consents.get("P010")
    assert (ava.form_date, ava.expires, leo.form_date, leo.withdrawn) == (
        date(2025, 9, 5),
        date(2027, 7, 31),
        date(2025, 9, 5),
        date(2026, 3, 1),
    )
    [card] = await school.say(ADMIN, "/consent Leo Ward")
    assert "withdrawn on 1 Mar 2026" in card.plain


async def test_an_ambiguous_date_is_refused_with_the_row_named(school: BotHarness) -> None:
    # Somebody's spreadsheet wrote US dates: 07/31/2027 can only be month first, so 03/04/2026 could be either.
    rows = [
        *ROWS,
        "P009,Ava,Patel,,Year 1,yes,yes,yes,2025-09-05,07/31/2027,",
        "P010,Leo,Ward,,Year 1,yes,yes,yes,2025-09-05,,03/04/2026",
    ]
    [preview] = await send_file(school, OFFICE, csv(*rows))
    assert "2 rows rejected" in preview.plain
    assert 'line 10 (pupil P009): expires "07/31/2027" puts the month first (US style)' in preview.plain
    assert 'line 11 (pupil P010): withdrawn "03/04/2026" is ambiguous' in preview.plain
    assert "3 Apr 2026 or 4 Mar 2026" in preview.plain
    assert "New (2)" not in preview.plain


async def test_a_long_preview_is_split_between_lines_and_confirm_comes_last(bot: BotHarness) -> None:
    load(bot, csv(*ROWS))
    long = "x" * 200
    rows = [*ROWS] + [f"L{n:02},Pupil{n}{long},Family{n}{long},,Year 1,yes,yes,yes,2025-09-05,," for n in range(12)]
    rows += [f"R{n:02},Bad{n},Row,,Year 1,{long},yes,yes,,," for n in range(15)]
    messages = await send_file(bot, OFFICE, csv(*rows))
    assert len(messages) > 1 and all(len(m.text) <= 4096 for m in messages)
    assert all(not m.buttons for m in messages[:-1]) and dict(messages[-1].buttons)["Confirm"]
    everything = "\n".join(m.plain for m in messages)
    assert all(f"Pupil{n}x" in everything for n in range(10)) and "…and 2 more." in everything


async def test_only_office_slt_and_head_import_and_only_in_a_private_chat(school: BotHarness) -> None:
    before = school.services.consents.all()
    for person in (ADMIN, STRANGER):
        replies = await send_file(school, person, the_update())
        assert replies and all("Noah" not in m.plain and "Starter" not in m.plain for m in replies)
    assert "Sorry" in school.last(ADMIN).plain and "only for staff" in school.last(STRANGER).plain
    school.emu.add_group(-100300, "Staff room")
    replies = await send_file(school, OFFICE, the_update(), chat_id=-100300)
    assert all("Noah" not in m.plain for m in replies)
    [preview] = await send_file(school, SLT, the_update())
    assert "Noah Williams" in preview.plain
    # The office's own Confirm, forged by someone else, is refused.
    refused = await school.press(ADMIN, preview, data=dict(preview.buttons)["Confirm"])
    assert refused and refused["text"].startswith("Sorry")
    assert school.services.consents.all() == before
    assert not any(school.emu.messages_to(person) for person in (ADMIN2, HEAD))


async def test_a_confirm_after_the_register_changed_is_refused_not_applied_differently(school: BotHarness) -> None:
    """Two previews of different files: confirming the second after the first is loaded would do what nobody saw."""
    [office_preview] = await send_file(school, OFFICE, csv(*ROWS[:7]))  # Harry Khan leaving
    [slt_preview] = await send_file(school, SLT, the_update())  # previewed while Harry was still on roll
    await school.press(OFFICE, office_preview, "Confirm")
    await school.press(SLT, slt_preview, "Confirm")
    assert "changed since the preview" in school.last(SLT).plain
    assert school.services.consents.get("P004").withdrawn is None and school.services.consents.get("P101") is None
    assert not any(school.emu.messages_to(person) for person in (ADMIN, HEAD))


async def test_import_help_names_the_columns_and_the_date_formats(school: BotHarness) -> None:
    [help_text] = await school.say(OFFICE, "/import")
    assert "consent_page" in help_text.plain and "31/07/2026 or 2026-07-31" in help_text.plain


async def test_an_old_export_that_would_undo_a_withdrawal_says_so_before_anything_else(school: BotHarness) -> None:
    load(school, csv(*ROWS[:3], "P004,Noah,Williams,,Year 5,yes,yes,yes,2025-09-05,,2026-11-01", *ROWS[4:]))
    [preview] = await send_file(school, OFFICE, csv(*ROWS))  # last month's file: Noah's withdrawal is not in it
    text = preview.plain
    assert (
        "⚠️ Withdrawal removed (load only if the parent consented again) (1)\n"
        "• Noah Williams (Year 5): was withdrawn from 1 Nov 2026"
    ) in text
    assert text.index("Withdrawal removed") < text.index("Changed (1)")
    assert "Noah Williams (Year 5): withdrawn 1 Nov 2026 → (none)" in text

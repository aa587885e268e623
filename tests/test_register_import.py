"""The office loads the consent register from the MIS export: a report first, then one clean write."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from tinydb import TinyDB
from tinydb.storages import MemoryStorage

from bot.consent import verdict
from bot.records.consent import Pupil
from bot.register_import import ParsedRegister, parse_register, preview_import, preview_sections, read_date
from storage.consents import ConsentRepository

PURPOSES = ("page", "group", "press")
HEADER = "pupil_id,first_name,last_name,preferred_name,class,consent_page,consent_group,consent_press,form_date,expires,withdrawn"


def csv_bytes(*rows: str, header: str = HEADER, delimiter: str = ",", bom: bool = False) -> bytes:
    lines = [header, *rows]
    text = "\r\n".join(line.replace(",", delimiter) for line in lines) + "\r\n"
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")


def parse(data: bytes, **options: Any) -> ParsedRegister:
    return parse_register(data, PURPOSES, **options)


GOOD_ROWS = (
    "1001,Amelia,Smith,,4B,yes,Y,no,2025-09-05,2026-07-31,",
    "1002,Zoë,Lefèvre,,2A,TRUE,1,false,2025-09-05,,",
    "1003,Liam,O'Brien,,5C,No,n,0,2025-09-05,,2026-01-15",
)


def test_a_good_file_gives_every_pupil_with_their_consents_and_dates() -> None:
    parsed = parse(csv_bytes(*GOOD_ROWS))
    assert parsed.ok and not parsed.rejected
    amelia, zoe, liam = parsed.pupils
    assert amelia == Pupil(
        "1001",
        "Amelia",
        "Smith",
        "",
        "4B",
        {"page": True, "group": True, "press": False},
        date(2025, 9, 5),
        date(2026, 7, 31),
        None,
    )
    assert zoe.first_name == "Zoë" and zoe.expires is None
    assert liam.withdrawn == date(2026, 1, 15)


def test_a_bom_and_semicolons_from_european_excel_are_read() -> None:
    parsed = parse(csv_bytes(*GOOD_ROWS, delimiter=";", bom=True))
    assert parsed.ok
    assert [p.pupil_id for p in parsed.pupils] == ["1001", "1002", "1003"]


def test_headers_are_matched_without_case_or_spacing() -> None:
    header = (
        "Pupil ID,First Name,Last Name,Preferred name,Class,Consent Page,Consent Group,Consent Press,Form date,Expires,Withdrawn"
    )
    assert parse(csv_bytes(*GOOD_ROWS, header=header)).ok


def test_the_school_can_map_its_own_headers() -> None:
    header = HEADER.replace("pupil_id", "UPN").replace("consent_page", "Facebook OK")
    parsed = parse(csv_bytes(*GOOD_ROWS, header=header), header_map={"pupil_id": "UPN", "consent_page": "Facebook OK"})
    assert parsed.ok and parsed.pupils[0].pupil_id == "1001"


def test_a_misnamed_required_column_is_named_with_a_suggestion() -> None:
    header = HEADER.replace("withdrawn", "withdrawl").replace("consent_press", "")
    parsed = parse(csv_bytes(*GOOD_ROWS, header=header))
    assert not parsed.pupils
    assert parsed.fatal == (
        'The column "withdrawn" is missing (did you mean "withdrawl"?).',
        'The column "consent_press" is missing.',
    )


def test_optional_columns_may_be_absent() -> None:
    parsed = parse(
        csv_bytes(
            "7,Ann,Lee,yes,yes,yes,,",
            header="pupil_id,first_name,last_name,consent_page,consent_group,consent_press,expires,withdrawn",
        )
    )
    assert parsed.ok
    assert parsed.pupils[0].preferred_name == "" and parsed.pupils[0].form_date is None


def test_bad_rows_are_rejected_with_every_reason_and_the_rest_imported() -> None:
    parsed = parse(
        csv_bytes(
            GOOD_ROWS[0],
            "1004,Harry,,,3A,maybe,yes,no,09/05/2025,,",
            ",Noah,Wilson,,3C,yes,yes,yes,,,",
            "1005,Ava,Khan,,1A,yes,yes,yes,2025-09-05,2026-02-30,",
            "1006,Mia,Hall,,1A,yes",
        )
    )
    assert [p.pupil_id for p in parsed.pupils] == ["1001"]
    assert [(r.line_no, r.pupil_id, r.reason) for r in parsed.rejected] == [
        (3, "1004", 'missing last name; consent_page "maybe" is not yes or no'),
        (4, "", "missing pupil id"),
        (5, "1005", 'expires "2026-02-30" is not a real date'),
        (6, "1006", "the row has 6 cells but the header has 11"),
    ]


def test_a_blank_consent_cell_means_no_consent() -> None:
    parsed = parse(csv_bytes("1001,Amelia,Smith,,4B,,yes,,2025-09-05,,"))
    assert dict(parsed.pupils[0].consents) == {"page": False, "group": True, "press": False}


def test_a_pupil_id_twice_in_the_file_rejects_both_rows() -> None:
    parsed = parse(csv_bytes(GOOD_ROWS[0], GOOD_ROWS[1], "1001,Amelia,Smyth,,4B,no,no,no,,,"))
    assert [p.pupil_id for p in parsed.pupils] == ["1002"]
    assert [(r.line_no, r.reason) for r in parsed.rejected] == [
        (2, "pupil id 1001 also appears on line 4"),
        (4, "pupil id 1001 also appears on line 2"),
    ]


def test_html_special_characters_in_names_round_trip_through_import_and_search() -> None:
    db = TinyDB(storage=MemoryStorage)
    repository = ConsentRepository(db)
    parsed = parse(csv_bytes('2001,"Tom & Jerry",<Smith>,,<b>4B</b>,yes,yes,yes,2025-09-05,,'))
    repository.replace_register(parsed.pupils, ())
    stored = ConsentRepository(db).get("2001")
    assert stored is not None and (stored.first_name, stored.last_name, stored.class_name) == (
        "Tom & Jerry",
        "<Smith>",
        "<b>4B</b>",
    )
    resolution = ConsentRepository(db).index().resolve("Tom & Jerry <Smith>")
    assert resolution.kind == "one" and resolution.matches[0].pupil == stored


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"", "The file is empty."),
        (b"\xef\xbb\xbf \r\n", "The file is empty."),
        (HEADER.encode(), "The file has a header row but no pupils."),
        ("pupil_id,first_name\n1,Zoë".encode("latin-1"), "The file is not UTF-8 text."),
        (b"PK\x03\x04 rest of a spreadsheet", "This is an Excel (or zip) file, not a CSV."),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "This does not look like a CSV file"),
        (b"x" * 2000, "The file is too big (1 KB); the limit is 1 KB."),
    ],
)
def test_a_bad_file_gives_a_report_and_no_pupils(data: bytes, problem: str) -> None:
    parsed = parse(data, max_bytes=1024)
    assert not parsed.ok and not parsed.pupils
    assert parsed.fatal[0].startswith(problem)


def test_a_file_where_no_row_can_be_used_is_fatal_but_still_reports_the_rows() -> None:
    parsed = parse(csv_bytes("1001,Amelia,Smith,,4B,yes,yes,yes,1st Sept,,"))
    assert parsed.fatal == ("None of the rows could be used.",)
    assert len(parsed.rejected) == 1 and not parsed.pupils


def test_too_many_rows_is_fatal() -> None:
    parsed = parse(csv_bytes(*GOOD_ROWS), max_rows=2)
    assert parsed.fatal == ("The file has more than 2 rows of pupils; the limit is 2.",)


def test_preview_counts_new_changed_unchanged_and_leaving() -> None:
    existing = [*parse(csv_bytes(*GOOD_ROWS)).pupils, Pupil("0999", "Old", "Leaver", left=True)]
    update = parse(
        csv_bytes(
            GOOD_ROWS[0],
            "1002,Zoë,Lefèvre,,2A,TRUE,1,false,2025-09-05,,2026-03-01",
            "1010,New,Starter,,R,yes,yes,yes,2025-09-05,,",
        )
    )
    preview = preview_import(existing, update)
    assert [p.pupil_id for p in preview.new] == ["1010"]
    assert [p.pupil_id for p in preview.changed] == ["1002"]
    assert [p.pupil_id for p in preview.unchanged] == ["1001"]
    assert [p.pupil_id for p in preview.leaving] == ["1003"]
    assert preview.can_confirm


def test_a_rejected_row_for_a_pupil_already_registered_holds_the_import() -> None:
    existing = parse(csv_bytes(*GOOD_ROWS)).pupils
    # The parent withdrew, but the date came out month first.
    update = parse(csv_bytes(GOOD_ROWS[0], GOOD_ROWS[1], "1003,Liam,O'Brien,,5C,yes,yes,yes,2025-09-05,,01/15/2026"))
    preview = preview_import(existing, update)
    assert not preview.can_confirm
    assert [(row.line_no, row.pupil_id) for row in preview.blocking] == [(4, "1003")]
    assert preview.leaving == ()


def test_a_file_with_fatal_problems_cannot_be_previewed() -> None:
    with pytest.raises(ValueError):
        preview_import([], parse(b""))


def test_confirmed_import_replaces_the_register_and_marks_leavers_in_one_write() -> None:
    db = TinyDB(storage=MemoryStorage)
    repository = ConsentRepository(db)
    repository.replace_register(parse(csv_bytes(*GOOD_ROWS)).pupils, ())
    assert repository.index().resolve("Liam O'Brien").kind == "one"

    writes = []
    original_write = db.storage.write

    def counted_write(data: dict[str, dict[str, Any]]) -> None:
        writes.append(data)
        original_write(data)

    db.storage.write = counted_write  # type: ignore[method-assign]
    update = parse(csv_bytes(GOOD_ROWS[0], GOOD_ROWS[1]))
    preview = preview_import(repository.all(), update)
    repository.replace_register(update.pupils, [p.pupil_id for p in preview.leaving])

    assert len(writes) == 1
    reopened = ConsentRepository(db)
    liam = reopened.get("1003")
    assert liam is not None and liam.left
    assert reopened.index().resolve("Liam O'Brien").kind == "none"
    assert repository.index().resolve("Liam O'Brien").kind == "none"
    assert not verdict(liam, ("page",), date(2026, 3, 1)).allowed
    assert reopened.all() == repository.all()


def test_dates_are_stored_as_iso_strings() -> None:
    db = TinyDB(storage=MemoryStorage)
    ConsentRepository(db).replace_register(parse(csv_bytes(GOOD_ROWS[2])).pupils, ())
    (doc,) = db.table("pupils").all()
    assert (doc["form_date"], doc["expires"], doc["withdrawn"]) == ("2025-09-05", None, "2026-01-15")
    assert doc["consents"] == {"page": False, "group": False, "press": False}


def test_a_write_that_fails_leaves_the_old_register() -> None:
    db = TinyDB(storage=MemoryStorage)
    repository = ConsentRepository(db)
    repository.replace_register(parse(csv_bytes(*GOOD_ROWS)).pupils, ())

    def crash(data: object) -> None:
        raise OSError("disk full")

    db.storage.write = crash  # type: ignore[method-assign]
    with pytest.raises(OSError):
        repository.replace_register(parse(csv_bytes(GOOD_ROWS[0])).pupils, ["1002", "1003"])
    assert len(ConsentRepository(db).all()) == 3
    assert not any(p.left for p in ConsentRepository(db).all())


def test_a_file_the_csv_reader_chokes_on_is_fatal() -> None:
    parsed = parse(csv_bytes('1001,"' + "x" * 200_000 + '",Smith,,4B,yes,yes,yes,,,'), max_bytes=1_000_000)
    assert parsed.fatal and parsed.fatal[0].startswith("The file could not be read as CSV near line 2")


@pytest.mark.parametrize(
    ("typed", "day"),
    [
        ("2026-07-31", date(2026, 7, 31)),
        ("31/07/2026", date(2026, 7, 31)),
        ("31/7/26", date(2026, 7, 31)),
        ("1/9/25", date(2025, 9, 1)),
        ("01.09.2025", date(2025, 9, 1)),
        ("01-09-2025", date(2025, 9, 1)),
        ("2025/09/01", date(2025, 9, 1)),
        ("01/09/2025 00:00", date(2025, 9, 1)),
        (" 05/05/2026 ", date(2026, 5, 5)),
    ],
)
def test_iso_and_uk_dates_are_read(typed: str, day: date) -> None:
    assert read_date(typed) == (day, "")


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        ("07/31/2026", "puts the month first (US style)"),
        ("05-09-25", "is ambiguous (is the year first or last?)"),
        ("31/02/2026", "is not a real date"),
        ("2026-13-01", "is not a real date"),
        ("46000", "is not a date like 31/07/2026"),
        ("1/2/3", "is not a date like 31/07/2026"),
        ("next July", "is not a date like 31/07/2026"),
    ],
)
def test_dates_that_cannot_be_trusted_are_refused(typed: str, problem: str) -> None:
    day, reason = read_date(typed)
    assert day is None and reason.startswith(problem)


def test_in_a_file_with_month_first_dates_a_date_that_reads_both_ways_is_refused() -> None:
    parsed = parse(
        csv_bytes(
            "1001,Amelia,Smith,,4B,yes,yes,no,2025-09-05,07/31/2026,",
            "1002,Zoë,Lefèvre,,2A,yes,yes,no,03/04/2025,,",
            "1003,Liam,O'Brien,,5C,yes,yes,no,05/05/2025,13/08/2026,",
        )
    )
    assert [(r.line_no, r.pupil_id, r.reason) for r in parsed.rejected] == [
        (2, "1001", 'expires "07/31/2026" puts the month first (US style): dates must be day/month/year, like 31/07/2026'),
        (
            3,
            "1002",
            'form_date "03/04/2025" is ambiguous: other rows of this file put the month first, so it could be '
            "3 Apr 2025 or 4 Mar 2025; export dates as 31/07/2026",
        ),
    ]
    # 05/05 means the same either way, and 13/08 can only be day first.
    assert [(p.pupil_id, p.form_date, p.expires) for p in parsed.pupils] == [("1003", date(2025, 5, 5), date(2026, 8, 13))]


def test_preview_lists_withdrawn_or_narrowed_consent_first_with_what_changed() -> None:
    existing = parse(csv_bytes(*GOOD_ROWS)).pupils
    update = parse(
        csv_bytes(
            "1001,Amelia,Smith,Millie,5B,yes,no,yes,2025-09-05,2027-07-31,",
            "1002,Zoë,Lefèvre,,2A,TRUE,1,false,2025-09-05,,2026-03-01",
            "1003,Liam,O'Brien,,5C,yes,yes,yes,2025-09-05,,2026-01-15",
        )
    )
    preview = preview_import(existing, update)
    assert [p.pupil_id for p in preview.changed] == ["1001", "1002", "1003"]
    assert [(n.after.pupil_id, n.purposes) for n in preview.narrowed] == [("1001", ("group",)), ("1002", ("page", "group"))]
    sections = preview_sections(preview, str.upper)
    assert [s.title for s in sections] == ["Consent withdrawn or narrowed (2)", "Changed (3)"]
    assert sections[0].lines == (
        "Millie Smith (5B): no longer GROUP",
        "Zoë Lefèvre (2A): no longer PAGE, GROUP (withdrawn from 1 Mar 2026)",
    )
    assert sections[1].lines[0] == (
        "Amelia Smith (4B): known as (none) → Millie; class 4B → 5B; GROUP yes → no; PRESS no → yes; "
        "expires 31 Jul 2026 → 31 Jul 2027"
    )
    # Liam was already withdrawn: his new yes is not a withdrawal, and nobody needs telling.
    assert sections[1].lines[2] == "Liam O'Brien (5C): PAGE no → yes; GROUP no → yes; PRESS no → yes"
    by_id = preview_sections(preview, str.upper, names=False)
    assert by_id[0].lines[0] == "1001: no longer GROUP" and by_id[1].lines[0].startswith("1001: known as; class")


def test_lists_show_ten_names_and_count_the_rest() -> None:
    update = parse(csv_bytes(*(f"{n},Pupil,Number{n},,R,yes,yes,yes,,," for n in range(25))))
    [new] = preview_sections(preview_import([], update), str)
    assert len(new.lines) == 10 and new.more == 15 and new.title == "New (25)"


@pytest.mark.parametrize(
    ("on_roll", "leaving", "mass"), [(10, 2, False), (10, 3, True), (5000, 1000, False), (5000, 1001, True), (1, 1, True)]
)
def test_more_than_a_fifth_of_the_register_leaving_is_a_mass_removal(on_roll: int, leaving: int, mass: bool) -> None:
    existing = parse(csv_bytes(*(f"{n},Pupil,Number{n},,R,yes,yes,yes,,," for n in range(on_roll)))).pupils
    staying = parse(
        csv_bytes(
            *(f"{n},Pupil,Number{n},,R,yes,yes,yes,,," for n in range(leaving, on_roll)), "new,New,Starter,,R,yes,yes,yes,,,"
        )
    )
    preview = preview_import(existing, staying)
    assert (len(preview.leaving), preview.on_roll, preview.mass_removal) == (leaving, on_roll, mass)

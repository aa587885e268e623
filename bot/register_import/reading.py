"""Reading the consent register from the school's CSV export: columns, rows, dates, duplicates.

Nothing here writes: a file with a fatal problem yields no pupils at all, so a bad
export can never leave half a register behind (bot/register_import/preview.py says what
the rest would change).
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from rapidfuzz import fuzz, process

from bot.clock import show_date
from bot.records.consent import Pupil

MAX_BYTES = 2048 * 1024
MAX_ROWS = 10_000

# Columns of the SPEC's CSV contract (consent_<purpose> columns are added per purpose).
# Without these a misnamed column would silently mean "no withdrawal" or "never expires".
REQUIRED = ("pupil_id", "first_name", "last_name", "expires", "withdrawn")
OPTIONAL = ("preferred_name", "class", "form_date")

_YES = frozenset({"yes", "y", "true", "1"})
_NO = frozenset({"no", "n", "false", "0", ""})
DATE_COLUMNS = ("form_date", "expires", "withdrawn")
# Year first (ISO, or with slashes or dots), then UK day/month/year; an Excel export may add a time.
_YEAR_FIRST = re.compile(r"(\d{4})([-/.])(\d{1,2})\2(\d{1,2})")
_DAY_FIRST = re.compile(r"(\d{1,2})([-/.])(\d{1,2})\2(\d{4}|\d{2})")
_TIME = re.compile(r"\s+\d{1,2}:\d{2}(:\d{2})?$")


@dataclass(frozen=True)
class RejectedRow:
    """A row left out of the import, with every reason, so the office can fix the export."""

    line_no: int
    pupil_id: str
    reason: str


@dataclass(frozen=True)
class ParsedRegister:
    """The pupils a file describes, the rows that could not be used, and problems that sink the file."""

    pupils: tuple[Pupil, ...]
    rejected: tuple[RejectedRow, ...]
    fatal: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.fatal


def parse_register(
    data: bytes,
    purposes: Sequence[str],
    header_map: Mapping[str, str] | None = None,
    max_bytes: int = MAX_BYTES,
    max_rows: int = MAX_ROWS,
) -> ParsedRegister:
    """Read a register export: UTF-8 (with or without BOM), comma or semicolon separated.

    `header_map` maps our column names to the school's headers, e.g. {"pupil_id": "UPN"}.
    """
    columns = _our_columns(purposes)
    unknown = set(header_map or {}) - set(columns)
    if unknown:
        raise ValueError(f"header_map names unknown columns: {', '.join(sorted(unknown))}")
    problem = _file_problem(data, max_bytes)
    if problem:
        return _fatal(problem)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return _fatal('The file is not UTF-8 text. In Excel, save it as "CSV UTF-8 (Comma delimited)".')
    if not text.strip():
        return _fatal("The file is empty.")
    header_line = text.lstrip().splitlines()[0]
    delimiter = ";" if header_line.count(";") > header_line.count(",") else ","
    rows = csv.reader(io.StringIO(text.lstrip(), newline=""), delimiter=delimiter)
    try:
        header = [cell.strip() for cell in next(rows)]
        positions, problems = _locate_columns(header, columns, header_map or {})
        if problems:
            return _fatal(*problems)
        # Offset for the lines lstrip() removed, so line numbers match the file the office opens.
        skipped = text[: len(text) - len(text.lstrip())].count("\n")
        lines: list[tuple[int, list[str]]] = []
        for cells in rows:
            if not any(cell.strip() for cell in cells):
                continue
            if len(lines) >= max_rows:
                return _fatal(f"The file has more than {max_rows:,} rows of pupils; the limit is {max_rows:,}.")
            lines.append((rows.line_num + skipped, cells))
    except csv.Error as error:
        return _fatal(f"The file could not be read as CSV near line {rows.line_num}: {error}.")
    month_first = _has_month_first_dates(_cell(cells, positions, column) for _, cells in lines for column in DATE_COLUMNS)
    read: list[tuple[int, Pupil]] = []
    rejected: list[RejectedRow] = []
    for line_no, cells in lines:
        pupil, reasons = _read_row(cells, len(header), positions, purposes, month_first)
        if pupil is None:
            rejected.append(RejectedRow(line_no, _cell(cells, positions, "pupil_id"), "; ".join(reasons)))
        else:
            read.append((line_no, pupil))
    pupils, rejected = _without_duplicates(read, rejected)
    if not pupils:
        problem = "None of the rows could be used." if rejected else "The file has a header row but no pupils."
        return ParsedRegister((), tuple(rejected), (problem,))
    return ParsedRegister(tuple(pupils), tuple(rejected), ())


def _our_columns(purposes: Sequence[str]) -> tuple[str, ...]:
    return (*REQUIRED, *(f"consent_{purpose}" for purpose in purposes), *OPTIONAL)


def _fatal(*problems: str) -> ParsedRegister:
    return ParsedRegister((), (), problems)


def _file_problem(data: bytes, max_bytes: int) -> str:
    """Why the bytes cannot be a register export at all, or "" if they might be."""
    if not data.strip():
        return "The file is empty."
    if len(data) > max_bytes:
        return f"The file is too big ({len(data) // 1024:,} KB); the limit is {max_bytes // 1024:,} KB."
    if data.startswith(b"PK\x03\x04"):
        return 'This is an Excel (or zip) file, not a CSV. In Excel, save it as "CSV UTF-8 (Comma delimited)".'
    if b"\x00" in data:
        return "This does not look like a CSV file (it contains binary data). Export the register as CSV."
    return ""


def _normal_header(name: str) -> str:
    """Headers compare without case or punctuation: "Consent page" is consent_page."""
    return "_".join(re.findall(r"[^\W_]+", name.casefold()))


def _locate_columns(header: list[str], columns: Sequence[str], header_map: Mapping[str, str]) -> tuple[dict[str, int], list[str]]:
    """Where each of our columns is in the file, and a problem for each required one that is missing."""
    found = [_normal_header(name) for name in header]
    problems = [f'The column "{name}" appears more than once.' for name, count in Counter(found).items() if name and count > 1]
    positions: dict[str, int] = {}
    for column in columns:
        wanted = _normal_header(header_map.get(column, column))
        if wanted in found:
            positions[column] = found.index(wanted)
    unused = [
        name for name, normal in zip(header, found, strict=True) if normal and found.index(normal) not in positions.values()
    ]
    for column in columns:
        if column in positions or column in OPTIONAL:
            continue
        expected = header_map.get(column, column)
        guess = process.extractOne(_normal_header(expected), unused, scorer=fuzz.ratio, processor=_normal_header, score_cutoff=60)
        hint = f' (did you mean "{guess[0]}"?)' if guess else ""
        problems.append(f'The column "{expected}" is missing{hint}.')
    return positions, problems


def _cell(cells: Sequence[str], positions: Mapping[str, int], column: str) -> str:
    position = positions.get(column)
    return cells[position].strip() if position is not None and position < len(cells) else ""


def _read_row(
    cells: list[str], width: int, positions: Mapping[str, int], purposes: Sequence[str], month_first: bool = False
) -> tuple[Pupil | None, list[str]]:
    """One pupil from one row, or every reason the row cannot be trusted."""
    if len(cells) < width:
        return None, [f"the row has {len(cells)} cells but the header has {width}"]
    if any(cell.strip() for cell in cells[width:]):
        return None, [f"the row has more cells than the header ({len(cells)}, not {width})"]
    reasons = [f"missing {column.replace('_', ' ')}" for column in REQUIRED[:3] if not _cell(cells, positions, column)]
    # A name of punctuation only ("-" for unknown) could never be checked against what staff type.
    reasons += [
        f'{column.replace("_", " ")} "{value}" has no letters'
        for column in ("first_name", "last_name")
        if (value := _cell(cells, positions, column)) and not any(char.isalnum() for char in value)
    ]
    consents: dict[str, bool] = {}
    for purpose in purposes:
        value = _cell(cells, positions, f"consent_{purpose}")
        if value.casefold() in _YES:
            consents[purpose] = True
        elif value.casefold() in _NO:
            # A blank consent cell is no consent: default deny.
            consents[purpose] = False
        else:
            reasons.append(f'consent_{purpose} "{value}" is not yes or no')
    dates: dict[str, date | None] = {}
    for column in DATE_COLUMNS:
        value = _cell(cells, positions, column)
        dates[column], problem = read_date(value, month_first)
        if problem:
            reasons.append(f'{column} "{value}" {problem}')
    if reasons:
        return None, reasons
    pupil = Pupil(
        pupil_id=_cell(cells, positions, "pupil_id"),
        first_name=_cell(cells, positions, "first_name"),
        last_name=_cell(cells, positions, "last_name"),
        preferred_name=_cell(cells, positions, "preferred_name"),
        class_name=_cell(cells, positions, "class"),
        consents=consents,
        form_date=dates["form_date"],
        expires=dates["expires"],
        withdrawn=dates["withdrawn"],
    )
    return pupil, []


def read_date(value: str, month_first: bool = False) -> tuple[date | None, str]:
    """A date as UK exports write it, or why it cannot be trusted ("" when blank or fine).

    ISO 2026-07-31 and UK 31/07/2026 (or 31/7/26) are read. When other rows of the file
    put the month first (US style, e.g. 07/31/2026), a date such as 03/04/2026 could mean
    either, so it is refused rather than guessed at; so is 05-09-25 (which end is the year?).
    """
    text = _TIME.sub("", value.strip())
    if not text:
        return None, ""
    if match := _YEAR_FIRST.fullmatch(text):
        return _valid(int(match[1]), int(match[3]), int(match[4]))
    match = _DAY_FIRST.fullmatch(text)
    if match is None:
        return None, "is not a date like 31/07/2026 or 2026-07-31"
    first, separator, second, year_text = match[1], match[2], match[3], match[4]
    day, month = int(first), int(second)
    year = int(year_text) + (2000 if len(year_text) == 2 else 0)
    if separator == "-" and len(year_text) == 2:
        return None, "is ambiguous (is the year first or last?): write it as 31/07/2026 or 2026-07-31"
    if month > 12 and day <= 12:
        return None, "puts the month first (US style): dates must be day/month/year, like 31/07/2026"
    if month_first and day != month and day <= 12:
        other = _valid(year, day, month)[0]
        if other is not None:
            return None, (
                f"is ambiguous: other rows of this file put the month first, so it could be "
                f"{show_date(date(year, month, day))} or {show_date(other)}; export dates as 31/07/2026"
            )
    return _valid(year, month, day)


def _valid(year: int, month: int, day: int) -> tuple[date | None, str]:
    try:
        return date(year, month, day), ""
    except ValueError:
        return None, "is not a real date"


def _has_month_first_dates(values: Iterable[str]) -> bool:
    """Does any date of the file only make sense month first (07/31/2026)? Then 03/04 could be either."""
    for value in values:
        match = _DAY_FIRST.fullmatch(_TIME.sub("", value.strip()))
        if match and int(match[1]) <= 12 < int(match[3]) <= 31:
            return True
    return False


def _without_duplicates(read: list[tuple[int, Pupil]], rejected: list[RejectedRow]) -> tuple[list[Pupil], list[RejectedRow]]:
    """Rejects every row of a pupil id that appears more than once: which row is right is anyone's guess."""
    lines: dict[str, list[int]] = {}
    for line_no, pupil in read:
        lines.setdefault(pupil.pupil_id, []).append(line_no)
    for row in rejected:
        if row.pupil_id:
            lines.setdefault(row.pupil_id, []).append(row.line_no)
    pupils = []
    for line_no, pupil in read:
        others = [line for line in lines[pupil.pupil_id] if line != line_no]
        if others:
            where = ", ".join(map(str, sorted(others)))
            rejected.append(RejectedRow(line_no, pupil.pupil_id, f"pupil id {pupil.pupil_id} also appears on line {where}"))
        else:
            pupils.append(pupil)
    return pupils, sorted(rejected, key=lambda row: row.line_no)

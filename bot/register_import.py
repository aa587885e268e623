"""Reading the consent register from the school's CSV export, and previewing what it changes.

Nothing here writes: the office sees a validation report and a preview first, and a
file with a fatal problem yields no pupils at all, so a bad export can never leave
half a register behind.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from rapidfuzz import fuzz, process

from bot.consent import Pupil

MAX_BYTES = 2048 * 1024
MAX_ROWS = 10_000

# Columns of the SPEC's CSV contract (consent_<purpose> columns are added per purpose).
# Without these a misnamed column would silently mean "no withdrawal" or "never expires".
REQUIRED = ("pupil_id", "first_name", "last_name", "expires", "withdrawn")
OPTIONAL = ("preferred_name", "class", "form_date")

_YES = frozenset({"yes", "y", "true", "1"})
_NO = frozenset({"no", "n", "false", "0", ""})
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


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


@dataclass(frozen=True)
class ImportPreview:
    """What confirming the import would do to the register, for the office to check first.

    `blocking` lists rejected rows of pupils already in the register: importing without
    them would keep those pupils' old consent (perhaps since withdrawn), so the import
    waits until the rows are fixed.
    """

    new: tuple[Pupil, ...]
    changed: tuple[Pupil, ...]
    unchanged: tuple[Pupil, ...]
    leaving: tuple[Pupil, ...]
    blocking: tuple[RejectedRow, ...] = ()

    @property
    def can_confirm(self) -> bool:
        return not self.blocking


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
        return _fatal("The file is not UTF-8 text. In Excel, save it as \"CSV UTF-8 (Comma delimited)\".")
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
        read: list[tuple[int, Pupil]] = []
        rejected: list[RejectedRow] = []
        # Offset for the lines lstrip() removed, so line numbers match the file the office opens.
        skipped = text[: len(text) - len(text.lstrip())].count("\n")
        for cells in rows:
            if not any(cell.strip() for cell in cells):
                continue
            if len(read) + len(rejected) >= max_rows:
                return _fatal(f"The file has more than {max_rows:,} rows of pupils; the limit is {max_rows:,}.")
            line_no = rows.line_num + skipped
            pupil, reasons = _read_row(cells, len(header), positions, purposes)
            if pupil is None:
                rejected.append(RejectedRow(line_no, _cell(cells, positions, "pupil_id"), "; ".join(reasons)))
            else:
                read.append((line_no, pupil))
    except csv.Error as error:
        return _fatal(f"The file could not be read as CSV near line {rows.line_num}: {error}.")
    pupils, rejected = _without_duplicates(read, rejected)
    if not pupils:
        problem = "None of the rows could be used." if rejected else "The file has a header row but no pupils."
        return ParsedRegister((), tuple(rejected), (problem,))
    return ParsedRegister(tuple(pupils), tuple(rejected), ())


def preview_import(existing: Sequence[Pupil], parsed: ParsedRegister) -> ImportPreview:
    """Compare a parsed file with the register: who is new, changed, unchanged, or leaving.

    Pupils are matched by pupil id. A pupil missing from the file is leaving (they are
    marked as left on confirmation); one who had already left is not counted again.
    """
    if parsed.fatal:
        raise ValueError("a file with fatal problems has nothing to preview")
    before = {pupil.pupil_id: pupil for pupil in existing}
    new, changed, unchanged = [], [], []
    for pupil in parsed.pupils:
        old = before.get(pupil.pupil_id)
        if old is None:
            new.append(pupil)
        elif old == pupil:
            unchanged.append(pupil)
        else:
            changed.append(pupil)
    in_file = {pupil.pupil_id for pupil in parsed.pupils}
    rejected_ids = {row.pupil_id for row in parsed.rejected if row.pupil_id}
    leaving = [
        pupil
        for pupil in existing
        if not pupil.left and pupil.pupil_id not in in_file and pupil.pupil_id not in rejected_ids
    ]
    blocking = [row for row in parsed.rejected if row.pupil_id in before and row.pupil_id not in in_file]
    return ImportPreview(tuple(new), tuple(changed), tuple(unchanged), tuple(leaving), tuple(blocking))


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
        return "This is an Excel (or zip) file, not a CSV. In Excel, save it as \"CSV UTF-8 (Comma delimited)\"."
    if b"\x00" in data:
        return "This does not look like a CSV file (it contains binary data). Export the register as CSV."
    return ""


def _normal_header(name: str) -> str:
    """Headers compare without case or punctuation: "Consent page" is consent_page."""
    return "_".join(re.findall(r"[^\W_]+", name.casefold()))


def _locate_columns(
    header: list[str], columns: Sequence[str], header_map: Mapping[str, str]
) -> tuple[dict[str, int], list[str]]:
    """Where each of our columns is in the file, and a problem for each required one that is missing."""
    found = [_normal_header(name) for name in header]
    problems = [
        f"The column \"{name}\" appears more than once." for name, count in Counter(found).items() if name and count > 1
    ]
    positions: dict[str, int] = {}
    for column in columns:
        wanted = _normal_header(header_map.get(column, column))
        if wanted in found:
            positions[column] = found.index(wanted)
    unused = [name for name, normal in zip(header, found) if normal and found.index(normal) not in positions.values()]
    for column in columns:
        if column in positions or column in OPTIONAL:
            continue
        expected = header_map.get(column, column)
        guess = process.extractOne(_normal_header(expected), unused, scorer=fuzz.ratio, processor=_normal_header, score_cutoff=60)
        hint = f" (did you mean \"{guess[0]}\"?)" if guess else ""
        problems.append(f"The column \"{expected}\" is missing{hint}.")
    return positions, problems


def _cell(cells: Sequence[str], positions: Mapping[str, int], column: str) -> str:
    position = positions.get(column)
    return cells[position].strip() if position is not None and position < len(cells) else ""


def _read_row(
    cells: list[str], width: int, positions: Mapping[str, int], purposes: Sequence[str]
) -> tuple[Pupil | None, list[str]]:
    """One pupil from one row, or every reason the row cannot be trusted."""
    if len(cells) < width:
        return None, [f"the row has {len(cells)} cells but the header has {width}"]
    if any(cell.strip() for cell in cells[width:]):
        return None, [f"the row has more cells than the header ({len(cells)}, not {width})"]
    reasons = [f"missing {column.replace('_', ' ')}" for column in REQUIRED[:3] if not _cell(cells, positions, column)]
    consents: dict[str, bool] = {}
    for purpose in purposes:
        value = _cell(cells, positions, f"consent_{purpose}")
        if value.casefold() in _YES:
            consents[purpose] = True
        elif value.casefold() in _NO:
            # A blank consent cell is no consent: default deny.
            consents[purpose] = False
        else:
            reasons.append(f"consent_{purpose} \"{value}\" is not yes or no")
    dates: dict[str, date | None] = {}
    for column in ("form_date", "expires", "withdrawn"):
        value = _cell(cells, positions, column)
        dates[column] = _iso_date(value)
        if value and dates[column] is None:
            reasons.append(f"{column} \"{value}\" is not a date like 2026-07-31")
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


def _iso_date(value: str) -> date | None:
    """A strict YYYY-MM-DD date: "01/03/2026" is refused rather than guessed at."""
    if not _ISO_DATE.fullmatch(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _without_duplicates(
    read: list[tuple[int, Pupil]], rejected: list[RejectedRow]
) -> tuple[list[Pupil], list[RejectedRow]]:
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

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
from collections.abc import Callable, Iterable, Mapping, Sequence
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
# More than this share of the pupils on roll leaving asks for a second, explicit confirmation.
MASS_REMOVAL_SHARE = 5  # "more than a fifth"
PREVIEW_NAMES = 10


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
class Narrowed:
    """A pupil whose consent this import takes away for some destinations.

    Photos already posted there may need taking down (policy 4.1), so the page team is told.
    """

    before: Pupil
    after: Pupil
    purposes: tuple[str, ...]


@dataclass(frozen=True)
class ImportPreview:
    """What confirming the import would do to the register, for the office to check first.

    `blocking` lists rejected rows of pupils already in the register: importing without
    them would keep those pupils' old consent (perhaps since withdrawn), so the import
    waits until the rows are fixed. `changed` lists pupils whose consent is withdrawn or
    narrowed first, then those whose withdrawal is removed; `previous` holds their rows as
    they are now, to say what changed.
    """

    new: tuple[Pupil, ...]
    changed: tuple[Pupil, ...]
    unchanged: tuple[Pupil, ...]
    leaving: tuple[Pupil, ...]
    blocking: tuple[RejectedRow, ...] = ()
    narrowed: tuple[Narrowed, ...] = ()
    previous: tuple[Pupil, ...] = ()
    # Pupils whose withdrawal this file removes: right if the parent consented again, wrong if the file is old.
    restored: tuple[Narrowed, ...] = ()
    on_roll: int = 0

    @property
    def can_confirm(self) -> bool:
        return not self.blocking

    @property
    def mass_removal(self) -> bool:
        """More than a fifth of the pupils on roll would be marked as left: likely the wrong file."""
        return len(self.leaving) * MASS_REMOVAL_SHARE > self.on_roll > 0


@dataclass(frozen=True)
class Section:
    """One list in the preview: a heading, the first few lines, and how many more there are."""

    title: str
    lines: tuple[str, ...]
    more: int


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


def preview_import(existing: Sequence[Pupil], parsed: ParsedRegister, today: date | None = None) -> ImportPreview:
    """Compare a parsed file with the register: who is new, changed, unchanged, or leaving.

    Pupils are matched by pupil id. A pupil missing from the file is leaving (they are
    marked as left on confirmation); one who had already left is not counted again.
    Given `today`, an expiry the file moves into the past narrows consent like a withdrawal.
    """
    if parsed.fatal:
        raise ValueError("a file with fatal problems has nothing to preview")
    before = {pupil.pupil_id: pupil for pupil in existing}
    new, changed, unchanged, narrowed, restored = [], [], [], [], []
    for pupil in parsed.pupils:
        old = before.get(pupil.pupil_id)
        if old is None:
            new.append(pupil)
        elif old == pupil:
            unchanged.append(pupil)
        else:
            changed.append(pupil)
            lost = tuple(
                purpose for purpose in old.consents if _granted(old, purpose, today) and not _granted(pupil, purpose, today)
            )
            if lost and not old.left:
                narrowed.append(Narrowed(old, pupil, lost))
            # Also for a pupil coming back on roll: an old export must not clear them unnoticed.
            if old.withdrawn and not pupil.withdrawn:
                restored.append(Narrowed(old, pupil, ()))
    order = {entry.after.pupil_id: rank for rank, group in enumerate((narrowed, restored)) for entry in group}
    changed.sort(key=lambda pupil: order.get(pupil.pupil_id, 2))
    in_file = {pupil.pupil_id for pupil in parsed.pupils}
    rejected_ids = {row.pupil_id for row in parsed.rejected if row.pupil_id}
    leaving = [
        pupil for pupil in existing if not pupil.left and pupil.pupil_id not in in_file and pupil.pupil_id not in rejected_ids
    ]
    blocking = [row for row in parsed.rejected if row.pupil_id in before and row.pupil_id not in in_file]
    return ImportPreview(
        tuple(new),
        tuple(changed),
        tuple(unchanged),
        tuple(leaving),
        tuple(blocking),
        narrowed=tuple(narrowed),
        restored=tuple(restored),
        previous=tuple(before[pupil.pupil_id] for pupil in changed),
        on_roll=sum(not pupil.left for pupil in existing),
    )


def preview_sections(
    preview: ImportPreview, label: Callable[[str], str], limit: int = PREVIEW_NAMES, names: bool = True
) -> list[Section]:
    """The preview's lists in plain text, withdrawn consent first, each cut to `limit` lines.

    With `names=False` pupils are given by id only (for output that may end up in a log).
    """
    who = _pupil_line if names else (lambda pupil: pupil.pupil_id)
    sections = [
        _section("Consent withdrawn or narrowed", [narrowed_line(entry, label, who) for entry in preview.narrowed], limit),
        _section(
            "Withdrawal removed (load only if the parent consented again)",
            [f"{who(entry.after)}: was withdrawn from {_day(entry.before.withdrawn)}" for entry in preview.restored],
            limit,
        ),
        _section("New", [who(pupil) for pupil in preview.new], limit),
        _section(
            "Changed",
            [
                f"{who(old)}: {'; '.join(describe_change(old, new, label, names))}"
                for old, new in zip(preview.previous, preview.changed, strict=True)
            ],
            limit,
        ),
        _section("Leaving", [who(pupil) for pupil in preview.leaving], limit),
    ]
    return [section for section in sections if section.lines]


def narrowed_line(entry: Narrowed, label: Callable[[str], str], who: Callable[[Pupil], str] | None = None) -> str:
    """ "Noah Williams (Year 5): no longer page, group (withdrawn from 1 Oct 2026)"."""
    if entry.after.withdrawn:
        when = f" (withdrawn from {show_date(entry.after.withdrawn)})"
    elif entry.after.expires and all(entry.after.consents.get(purpose, False) for purpose in entry.purposes):
        when = f" (expired on {show_date(entry.after.expires)})"  # the form still says yes, but has run out
    else:
        when = ""
    return f"{(who or _pupil_line)(entry.after)}: no longer {', '.join(label(p) for p in entry.purposes)}{when}"


def describe_change(old: Pupil, new: Pupil, label: Callable[[str], str], names: bool = True) -> list[str]:
    """What an import changes in one pupil's row, as the office would say it."""
    changes = []
    if (old.first_name, old.last_name) != (new.first_name, new.last_name):
        changes.append(f"name {old.first_name} {old.last_name} → {new.first_name} {new.last_name}" if names else "name")
    if old.preferred_name != new.preferred_name:
        changes.append(f"known as {old.preferred_name or '(none)'} → {new.preferred_name or '(none)'}" if names else "known as")
    if old.class_name != new.class_name:
        changes.append(f"class {old.class_name or '(none)'} → {new.class_name or '(none)'}")
    for purpose in dict.fromkeys([*old.consents, *new.consents]):
        was, now = old.consents.get(purpose, False), new.consents.get(purpose, False)
        if was != now:
            changes.append(f"{label(purpose)} {'yes' if was else 'no'} → {'yes' if now else 'no'}")
    for name, was_day, now_day in (
        ("form date", old.form_date, new.form_date),
        ("expires", old.expires, new.expires),
        ("withdrawn", old.withdrawn, new.withdrawn),
    ):
        if was_day != now_day:
            changes.append(f"{name} {_day(was_day)} → {_day(now_day)}")
    if old.left and not new.left:
        changes.append("back on roll")
    return changes


def _granted(pupil: Pupil, purpose: str, today: date | None = None) -> bool:
    """The form says yes for this purpose, has not been withdrawn and (given `today`) has not expired."""
    expired = today is not None and pupil.expires is not None and pupil.expires < today
    return pupil.consents.get(purpose, False) and pupil.withdrawn is None and not expired


def _day(day: date | None) -> str:
    return show_date(day) if day else "(none)"


def _pupil_line(pupil: Pupil) -> str:
    form = f" ({pupil.class_name})" if pupil.class_name else ""
    return f"{pupil.full_name}{form}"


def _section(title: str, lines: Sequence[str], limit: int) -> Section:
    return Section(f"{title} ({len(lines):,})", tuple(lines[:limit]), max(len(lines) - limit, 0))


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

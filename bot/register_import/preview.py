"""What confirming a register import would change, as the office previews it before anything is written."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from bot.clock import show_date
from bot.records.consent import Pupil
from bot.register_import.reading import ParsedRegister, RejectedRow

# More than this share of the pupils on roll leaving asks for a second, explicit confirmation.
MASS_REMOVAL_SHARE = 5  # "more than a fifth"
PREVIEW_NAMES = 10


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

"""The commands that read or load records with the bot stopped: import the register, export CSV files."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from bot.cli.checks import refuse_example_ids
from bot.clock import Clock
from bot.config import load_config
from bot.wording import plural

MAX_PROBLEMS = 20


def import_register(config_path: Path, csv_path: Path, assume_yes: bool, allow_mass_removal: bool = False) -> int:
    """Load the consent register from the command line: the same checks and preview as /import.

    Pupils are named by id only (a terminal's output may end up in a log); at most
    MAX_PROBLEMS problems are printed, then a count. Removing more than a fifth of the
    register needs --allow-mass-removal as well as --yes.
    """
    from bot.records.audit import SYSTEM
    from bot.records.outbox import OutboxItem
    from bot.register import PendingImport
    from bot.register_import import preview_sections
    from bot.services import Services
    from handlers.register_import import send_withdrawal_notice

    config = load_config(config_path)
    refuse_example_ids(config)  # opening the data folder seeds the roles, as a start does
    try:
        data = csv_path.read_bytes()
    except OSError as exc:
        print(f"{csv_path}: cannot read the file ({exc.strerror}).", file=sys.stderr)
        return 1
    services = Services.open(config, Clock())
    try:
        register = services.register
        parsed, preview = register.prepare_import(SYSTEM, data)
        problems = [f"File refused: {problem}" for problem in parsed.fatal] + [
            f"Rejected line {row.line_no}{f' (pupil {row.pupil_id})' if row.pupil_id else ''}: {row.reason}"
            for row in parsed.rejected
        ]
        for problem in problems[:MAX_PROBLEMS]:
            print(problem)
        if len(problems) > MAX_PROBLEMS:
            print(f"...and {len(problems) - MAX_PROBLEMS:,} more problems ({len(problems):,} in all). Fix them in the export.")
        if preview is None:
            print("Nothing was changed.")
            return 1
        print(
            f"New {len(preview.new)}, changed {len(preview.changed)}, unchanged {len(preview.unchanged)}, "
            f"leaving {len(preview.leaving)}."
        )
        for section in preview_sections(preview, config.consent.label, names=False):
            print(f"{section.title}: {'; '.join(section.lines)}{f' and {section.more:,} more' if section.more else ''}")
        if not preview.can_confirm:
            print("Rows of pupils already in the register were rejected; fix them first. Nothing was changed.")
            return 1
        if preview.mass_removal and not allow_mass_removal:
            print(
                f"Refused: {len(preview.leaving):,} of the {plural(preview.on_roll, 'pupil')} on roll would be marked as left, "
                "more than a fifth of the register. Check that this file is the whole register; to load it anyway, "
                "run again with --allow-mass-removal. Nothing was changed."
            )
            return 1
        if not assume_yes and (not sys.stdin.isatty() or input("Load this register? [y/N] ").strip().lower() not in ("y", "yes")):
            print("Nothing was changed (use --yes to load without asking).")
            return 0
        done = register.commit_import(SYSTEM, PendingImport(parsed, preview), allow_mass_removal=allow_mass_removal)
        print("Register loaded.")
        notice = register.withdrawal_notice(SYSTEM, done)
        if notice is not None:
            now = services.clock.now()
            send_withdrawal_notice(
                lambda key, chat_id, text: services.outbox.enqueue(OutboxItem(key, chat_id, text, now, now)),
                services,
                notice,
                "from the command line",
            )
            print(
                f"Consent withdrawn or narrowed for {plural(len(done.narrowed), 'pupil')}: "
                f"{len(notice.recipients)} staff will be told when the bot next runs."
            )
        return 0
    finally:
        services.close()


def export_csv(config_path: Path, kind: str, dates: list[str], out: Path | None) -> int:
    """The same CSV as /export, written to a file; audited as the bot's own action (SYSTEM)."""
    from bot.date_range import BadRange, parse_range
    from bot.exports import Exports
    from bot.records.audit import SYSTEM
    from bot.services import Services

    try:
        days = parse_range(dates)
    except BadRange as exc:
        print(str(exc), file=sys.stderr)
        return 1
    config = load_config(config_path)
    folder = (out or Path.cwd() / "export.csv").resolve().parent
    if folder.is_relative_to(config.storage.data_dir.resolve()):
        # The bot's own files live there: a mistyped --out must never replace one of them.
        print(f"{out or folder}: inside the bot's data folder; write the export somewhere else.", file=sys.stderr)
        return 1
    if (out is not None and out.is_dir()) or not folder.is_dir() or not os.access(folder, os.W_OK):
        # Said before anything is read, so the audit never records an export that was not written.
        print(f"{out or folder}: cannot write the file there (not a folder you can write to).", file=sys.stderr)
        return 1
    refuse_example_ids(config)  # opening the data folder seeds the roles, as a start does
    s = Services.open(config, Clock())
    try:
        done = Exports(s.incidents, s.applications, s.staff, s.db.audit, s.moderation_duty, s.audit, s.config, s.today).build(
            SYSTEM, kind, days
        )
    finally:
        s.close()
    target = out or Path(done.filename)
    try:
        target.write_bytes(done.data)
    except OSError as exc:
        print(f"{target}: cannot write the file ({exc.strerror}).", file=sys.stderr)
        return 1
    print(f"Wrote {target}: {plural(done.rows, 'row')} ({days.describe()}).")
    return 0

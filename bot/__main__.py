"""Command line: run the bot, run the demo, list people's ids, check the config, import the consent register,
back up and restore the data folder, export CSV files."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from telegram import Update

from bot.clock import Clock
from bot.config import Config, ConfigError, load_config
from bot.logsafe import hide_secret, redact, setup_logging
from storage.atomic import DamagedDataFile, DataDirNotWritable, DiskWriteFailed, UnstorableValue, ensure_private_dir
from storage.database import SchemaTooNew, data_folder_problems
from storage.lock import DataDirLocked


def run(config_path: Path) -> int:
    """Run until SIGTERM; a start that cannot work ends with one plain sentence, never a traceback."""
    from telegram.error import InvalidToken, NetworkError

    from bot.shell.app import build_application

    config = load_config(config_path)
    refuse_example_ids(config)
    token = config.telegram.token
    if not token:
        print(f"No bot token: set TELEGRAM_BOT_TOKEN or telegram.token in {config_path}.", file=sys.stderr)
        return 1
    hide_secret(token)
    data_dir = ensure_private_dir(config.storage.data_dir)  # a first start has no data folder yet
    try:
        setup_logging(token, data_dir / "bot.log")
    except OSError as exc:
        print(
            f"Cannot open the log file {data_dir / 'bot.log'} ({exc.strerror}): make it writable by the bot's user.",
            file=sys.stderr,
        )
        return 1
    application = build_application(config, Clock())  # opens the data folder: a damaged file stops here
    try:
        # PTB's own start-up logs a refusal with a traceback before raising it; asking first does not.
        asyncio.run(_reach_telegram(config))
        application.run_polling(allowed_updates=Update.ALL_TYPES)
    except (InvalidToken, NetworkError) as exc:
        print(_telegram_refusal(exc, config, config_path), file=sys.stderr)
        return 1
    finally:
        application.bot_data["runtime"].services.close()  # run_polling closes it too; twice is harmless
    return 0


def _telegram_refusal(exc: Exception, config: Config, config_path: Path) -> str:
    """The one sentence for a token Telegram refuses or a Telegram that cannot be reached."""
    from telegram.error import InvalidToken

    if isinstance(exc, InvalidToken):
        return (
            "Telegram refused the bot token: check TELEGRAM_BOT_TOKEN (or telegram.token in "
            f"{config_path}) against the token @BotFather gave you."
        )
    return (
        f"Could not reach Telegram at {redact(config.telegram.base_url)} ({redact(str(exc))}): "
        "check this machine's network connection, then start the bot again."
    )


async def _reach_telegram(config: Config) -> None:
    """Ask Telegram who the bot is: raises InvalidToken or NetworkError without logging a traceback."""
    from telegram import Bot

    async with Bot(config.telegram.token, base_url=config.telegram.base_url, base_file_url=config.telegram.base_file_url):
        pass


# config.example.toml's made-up ids. Started with, each would stay on the staff list until
# revoked (the config only adds people): a Head nobody is gets every alert, retried, then reported.
EXAMPLE_IDS = frozenset({111111111, 222222222, 333333333, 444444444})


def refuse_example_ids(config: Config) -> None:
    """Stop on any of the example's made-up ids left under [roles], naming each."""
    r = config.roles
    keys = (("head", r.head), ("deputy", r.deputy), ("slt", r.slt), ("admins", r.admins), ("office", r.office))
    problems = [
        f"roles.{key}: {user_id} is the example's made-up id; put that person's real Telegram id "
        "(python -m bot ids shows it) or take it out"
        for key, ids in keys
        for user_id in ids
        if user_id in EXAMPLE_IDS
    ]
    if problems:
        raise ConfigError(problems)


def list_ids(config_path: Path) -> int:
    """Print each person who messages the bot with their Telegram id, for [roles]; answer nobody, store nothing."""
    from telegram.error import Conflict, InvalidToken, NetworkError

    config = load_config(config_path)
    if not config.telegram.token:
        print(f"No bot token: set TELEGRAM_BOT_TOKEN or telegram.token in {config_path}.", file=sys.stderr)
        return 1
    try:
        asyncio.run(_print_senders(config))
    except KeyboardInterrupt:
        return 0
    except Conflict:
        print(
            "Something else is reading this bot's messages (is the bot running?): stop it, then run this again.",
            file=sys.stderr,
        )
        return 1
    except (InvalidToken, NetworkError) as exc:
        print(_telegram_refusal(exc, config, config_path), file=sys.stderr)
        return 1
    return 0


async def _print_senders(config: Config) -> None:
    from telegram import Bot

    telegram = config.telegram
    async with Bot(telegram.token, base_url=telegram.base_url, base_file_url=telegram.base_file_url) as bot:
        print(
            f"Listening as @{bot.username}: ask each member of staff to send /start to the bot. "
            "Each person (and a group the bot is added to) appears below once, as: id  name. "
            "Ctrl-C stops; nobody is answered, nothing is stored.",
            flush=True,
        )
        seen: set[int] = set()
        offset: int | None = None
        while True:
            for update in await bot.get_updates(offset=offset, timeout=30, allowed_updates=["message", "my_chat_member"]):
                offset = update.update_id + 1
                user, chat = update.effective_user, update.effective_chat
                if chat is None or user is None:
                    continue
                if chat.type == "private" and user.id not in seen:
                    seen.add(user.id)
                    print(f"{user.id}  {user.full_name}" + (f" (@{user.username})" if user.username else ""), flush=True)
                elif chat.type != "private" and chat.id not in seen:  # for applications.group_chat_id
                    seen.add(chat.id)
                    print(f"{chat.id}  the group “{chat.title}”", flush=True)


def check_config(config_path: Path) -> int:
    """The config's summary, then anything in the data folder that would stop the bot starting, and
    anything that would make tonight's backup fail."""
    from bot.backups import Backups

    config = load_config(config_path)
    refuse_example_ids(config)
    print(f"{config_path}: OK")
    print(config.summary())
    backups = Backups(config.backup, config.storage.data_dir, config.school.timezone, Clock())
    problems = data_folder_problems(config.storage.data_dir) + backups.problems()
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


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
                f"Refused: {len(preview.leaving):,} of the {preview.on_roll:,} pupils on roll would be marked as left, "
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
                f"Consent withdrawn or narrowed for {len(done.narrowed)} pupils: "
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
    print(f"Wrote {target}: {done.rows:,} rows ({days.describe()}).")
    return 0


def backup_now(config_path: Path) -> int:
    """Make a backup now; it takes no lock, so it works while the bot runs (bot.backups.snapshot)."""
    from bot.backups import BackupFailed, Backups

    config = load_config(config_path)
    backups = Backups(config.backup, config.storage.data_dir, config.school.timezone, Clock())
    if not backups.configured:
        print(f"No backup folder: set backup.folder and backup.key_file in {config_path}.", file=sys.stderr)
        return 1
    if not config.storage.data_dir.is_dir():
        print(f"There is no data folder at {config.storage.data_dir} to back up.", file=sys.stderr)
        return 1
    try:
        done = backups.make()
    except BackupFailed as exc:
        print(f"Backup failed: {exc}. No backup was written.", file=sys.stderr)
        return 1
    print(f"Backup written: {done.archive.path} ({done.archive.size:,} bytes, {done.files} files).")
    if done.removed:
        print(f"Older backups no longer kept, removed: {', '.join(done.removed)}.")
    return 0


def restore_backup(config_path: Path, archive: Path) -> int:
    """Put a backup back in place of the data folder, with the bot stopped; every check comes first."""
    from bot.backups import ArchiveRefused, KeyProblem, RestoreInterrupted, restore
    from bot.backups.archive import read_key

    config = load_config(config_path)
    try:
        key = read_key(config.backup.key_file)
        report = restore(archive, key, config.storage.data_dir, Clock().now())
    except KeyProblem as exc:
        print(f"{exc} Nothing was changed.", file=sys.stderr)
        return 1
    except DataDirLocked:
        print(
            f"The bot is running (it holds {config.storage.data_dir}): stop it first, then restore. Nothing was changed.",
            file=sys.stderr,
        )
        return 1
    except ArchiveRefused as exc:
        print(f"Not restored: {exc} Nothing was changed.", file=sys.stderr)
        return 1
    except RestoreInterrupted as exc:
        print(str(exc), file=sys.stderr)
        return 1
    records = ", ".join(f"{name} {count:,}" for name, count in report.records.items())
    print(
        f"Restored the backup made {report.made_at} by version {report.bot_version} (data schema {report.schema_version}): "
        f"{report.files} files, of them {report.evidence_files} screenshots and {report.audit_months} months of audit log; "
        f"records: {records}."
    )
    if report.set_aside:
        print(f"The files it replaced are kept in {report.set_aside}: delete that folder once all is well.")
    return 0


def make_backup_key(config_path: Path) -> int:
    """Create the key file backup.key_file names, readable by its owner only; never overwrite one."""
    from bot.backups import KeyProblem
    from bot.backups.archive import create_key_file

    config = load_config(config_path)
    path = config.backup.key_file
    if path is None:
        print(f"Set backup.key_file in {config_path} to where the key should be kept, then run this again.", file=sys.stderr)
        return 1
    try:
        create_key_file(path)
    except KeyProblem as exc:
        print(str(exc), file=sys.stderr)
        return 1
    print(
        f"Backup key written to {path} (readable by its owner only). Keep a copy somewhere safe and apart from "
        "the backups: without it no backup can be restored, and anyone with it can read them."
    )
    return 0


def demo(config_path: Path | None) -> int:
    """The demo needs the emulator and aiohttp, which the bot itself never does: load them only here."""
    try:
        from bot.shell.demo import run_demo
    except ModuleNotFoundError as exc:
        if (exc.name or "").partition(".")[0] != "aiohttp":
            raise
        print(
            "The demo needs its extra, which the bot itself does not: install it with "
            ".venv/bin/pip install -e '.[demo]' (README command 1) and run the demo again.",
            file=sys.stderr,
        )
        return 1
    return run_demo()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    parser.add_argument("--config", type=Path, default=Path("config.toml"), help="config file (default config.toml)")
    commands = parser.add_subparsers(dest="command")
    for name, text in (
        ("run", "run the bot (long polling)"),
        ("ids", "print the Telegram id of each person who messages the bot, to fill in [roles]"),
        ("demo", "run the whole bot locally with a Bot API emulator and a terminal chat"),
        ("check-config", "validate the config file and print a summary"),
        ("backup", "make an encrypted backup of the data folder now (also while the bot runs)"),
        ("backup-key", "create the key file backup.key_file names, readable by its owner only"),
    ):
        sub = commands.add_parser(name, help=text)
        sub.add_argument("--config", type=Path, default=argparse.SUPPRESS)
    importer = commands.add_parser("import", help="load the consent register from a CSV file")
    importer.add_argument("file", type=Path, help="the CSV export of the register")
    importer.add_argument("--yes", action="store_true", help="load without asking for confirmation")
    importer.add_argument(
        "--allow-mass-removal",
        action="store_true",
        help="also load a file that marks more than a fifth of the register as left",
    )
    importer.add_argument("--config", type=Path, default=argparse.SUPPRESS)
    exporter = commands.add_parser("export", help="write incidents, applications, audit or moderation as CSV (bot stopped)")
    exporter.add_argument("kind", choices=("incidents", "applications", "audit", "moderation"))
    exporter.add_argument("dates", nargs="*", help="FROM [TO], e.g. 01/09/2026 31/12/2026 (UK or ISO dates)")
    exporter.add_argument("--out", type=Path, help="the file to write (default: KIND-DATE.csv here)")
    exporter.add_argument("--config", type=Path, default=argparse.SUPPRESS)
    restorer = commands.add_parser("restore", help="replace the data folder by a backup (the bot must be stopped)")
    restorer.add_argument("file", type=Path, help="the backup archive")
    restorer.add_argument("--config", type=Path, default=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    try:
        if args.command == "demo":
            return demo(args.config)
        if args.command == "check-config":
            return check_config(args.config)
        if args.command == "ids":
            return list_ids(args.config)
        if args.command == "import":
            return import_register(args.config, args.file, args.yes, args.allow_mass_removal)
        if args.command == "backup":
            return backup_now(args.config)
        if args.command == "backup-key":
            return make_backup_key(args.config)
        if args.command == "export":
            return export_csv(args.config, args.kind, args.dates, args.out)
        if args.command == "restore":
            return restore_backup(args.config, args.file)
        return run(args.config)
    except ConfigError as exc:
        print(f"{args.config}: configuration problems:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  - {problem}", file=sys.stderr)
        return 1
    except (DataDirLocked, DataDirNotWritable, DamagedDataFile, SchemaTooNew) as exc:
        print(redact(str(exc)), file=sys.stderr)
        return 1
    except DiskWriteFailed as exc:
        reason = exc.cause.strerror if isinstance(exc.cause, OSError) else type(exc.cause).__name__
        print(
            f"Could not save to {exc.path} while starting ({reason}): free space on that disk "
            "or make it writable, then start the bot again.",
            file=sys.stderr,
        )
        return 1
    except UnstorableValue as exc:
        print(f"A value from {args.config} cannot be stored in {exc.path}: check the ids under [roles].", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

"""Command line: run the bot, run the demo, check the config, import the consent register."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from telegram import Update

from bot.clock import Clock
from bot.config import ConfigError, load_config
from bot.logsafe import setup_logging
from storage.database import SchemaTooNew
from storage.lock import DataDirLocked


def run(config_path: Path) -> int:
    from bot.app import build_application

    config = load_config(config_path)
    if not config.telegram.token:
        print(f"No bot token: set TELEGRAM_BOT_TOKEN or telegram.token in {config_path}.", file=sys.stderr)
        return 1
    setup_logging(config.telegram.token, config.storage.data_dir / "bot.log")
    application = build_application(config, Clock())
    application.run_polling(allowed_updates=Update.ALL_TYPES)
    return 0


def check_config(config_path: Path) -> int:
    config = load_config(config_path)
    print(f"{config_path}: OK")
    print(config.summary())
    return 0


def import_register(config_path: Path, csv_path: Path, assume_yes: bool) -> int:
    """Load the consent register from the command line: the same report and preview as /import."""
    from bot.register import PendingImport, RegisterService
    from bot.services import Services

    config = load_config(config_path)
    try:
        data = csv_path.read_bytes()
    except OSError as exc:
        print(f"{csv_path}: cannot read the file ({exc.strerror}).", file=sys.stderr)
        return 1
    services = Services.open(config, Clock())
    try:
        register = RegisterService(services)
        parsed, preview = register.prepare_import(0, data)
        for problem in parsed.fatal:
            print(f"File refused: {problem}")
        for row in parsed.rejected:
            print(f"Rejected line {row.line_no}: {row.reason}")
        if preview is None:
            print("Nothing was changed.")
            return 1
        print(
            f"New {len(preview.new)}, changed {len(preview.changed)}, unchanged {len(preview.unchanged)}, "
            f"leaving {len(preview.leaving)}."
        )
        if not preview.can_confirm:
            print("Rows of pupils already in the register were rejected; fix them first. Nothing was changed.")
            return 1
        if not assume_yes:
            if not sys.stdin.isatty() or input("Load this register? [y/N] ").strip().lower() not in ("y", "yes"):
                print("Nothing was changed (use --yes to load without asking).")
                return 0
        register.commit_import(0, PendingImport(parsed, preview))
        print("Register loaded.")
        return 0
    finally:
        services.close()


def demo(config_path: Path | None) -> int:
    from bot.demo import run_demo

    return run_demo()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    parser.add_argument("--config", type=Path, default=Path("config.toml"), help="config file (default config.toml)")
    commands = parser.add_subparsers(dest="command")
    for name, text in (
        ("run", "run the bot (long polling)"),
        ("demo", "run the whole bot locally with a Bot API emulator and a terminal chat"),
        ("check-config", "validate the config file and print a summary"),
    ):
        sub = commands.add_parser(name, help=text)
        sub.add_argument("--config", type=Path, default=argparse.SUPPRESS)
    importer = commands.add_parser("import", help="load the consent register from a CSV file")
    importer.add_argument("file", type=Path, help="the CSV export of the register")
    importer.add_argument("--yes", action="store_true", help="load without asking for confirmation")
    importer.add_argument("--config", type=Path, default=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    try:
        if args.command == "demo":
            return demo(args.config)
        if args.command == "check-config":
            return check_config(args.config)
        if args.command == "import":
            return import_register(args.config, args.file, args.yes)
        return run(args.config)
    except ConfigError as exc:
        print(f"{args.config}: configuration problems:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  - {problem}", file=sys.stderr)
        return 1
    except (DataDirLocked, SchemaTooNew) as exc:
        print(str(exc), file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

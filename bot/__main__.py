"""Command line: run the bot, run the demo, list people's ids, check the config, import the consent register,
back up and restore the data folder, export CSV files."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from bot.cli.backups import backup_now, make_backup_key, restore_backup
from bot.cli.checks import check_config
from bot.cli.online import demo, list_ids, run
from bot.cli.records import export_csv, import_register
from bot.config import ConfigError
from bot.logsafe import redact
from storage.atomic import DamagedDataFile, DataDirNotWritable, DiskWriteFailed, UnstorableValue
from storage.database import SchemaTooNew
from storage.lock import DataDirLocked


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    parser.add_argument("--config", type=Path, default=Path("config.toml"), help="config file (default config.toml)")
    parser.set_defaults(command=lambda a: run(a.config))  # no command: run the bot
    commands = parser.add_subparsers()

    def command(name: str, text: str, does: Callable[[argparse.Namespace], int]) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=text)
        sub.add_argument("--config", type=Path, default=argparse.SUPPRESS)
        sub.set_defaults(command=does)
        return sub

    command("run", "run the bot (long polling)", lambda a: run(a.config))
    command("ids", "print the Telegram id of each person who messages the bot, to fill in [roles]", lambda a: list_ids(a.config))
    command("demo", "run the whole bot locally with a Bot API emulator and a terminal chat", lambda a: demo(a.config))
    command("check-config", "validate the config file and print a summary", lambda a: check_config(a.config))
    command("backup", "make an encrypted backup of the data folder now (also while the bot runs)", lambda a: backup_now(a.config))
    command(
        "backup-key",
        "create the key file backup.key_file names, readable by its owner only",
        lambda a: make_backup_key(a.config),
    )
    importer = command(
        "import",
        "load the consent register from a CSV file",
        lambda a: import_register(a.config, a.file, a.yes, a.allow_mass_removal),
    )
    importer.add_argument("file", type=Path, help="the CSV export of the register")
    importer.add_argument("--yes", action="store_true", help="load without asking for confirmation")
    importer.add_argument(
        "--allow-mass-removal",
        action="store_true",
        help="also load a file that marks more than a fifth of the register as left",
    )
    exporter = command(
        "export",
        "write incidents, applications, audit or moderation as CSV (bot stopped)",
        lambda a: export_csv(a.config, a.kind, a.dates, a.out),
    )
    exporter.add_argument("kind", choices=("incidents", "applications", "audit", "moderation"))
    exporter.add_argument("dates", nargs="*", help="FROM [TO], e.g. 01/09/2026 31/12/2026 (UK or ISO dates)")
    exporter.add_argument("--out", type=Path, help="the file to write (default: KIND-DATE.csv here)")
    restorer = command(
        "restore", "replace the data folder by a backup (the bot must be stopped)", lambda a: restore_backup(a.config, a.file)
    )
    restorer.add_argument("file", type=Path, help="the backup archive")
    args = parser.parse_args(argv)
    try:
        return int(args.command(args))
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

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
    args = parser.parse_args(argv)
    try:
        if args.command == "demo":
            return demo(args.config)
        if args.command == "check-config":
            return check_config(args.config)
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

"""The commands that talk to Telegram: run the bot, list who messages it, and the local demo."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from telegram import Update

from bot.cli.checks import refuse_example_ids
from bot.clock import Clock
from bot.config import Config, load_config
from bot.logsafe import hide_secret, redact, setup_logging
from storage.atomic import ensure_private_dir


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

"""Logging that never leaks the bot token (httpx logs request URLs, which contain it)."""

from __future__ import annotations

import logging
import re
import traceback
from pathlib import Path

_TOKEN_SHAPE = re.compile(r"\d{3,}:[A-Za-z0-9_-]{20,}")


class RedactSecrets(logging.Filter):
    """Replace the token (and anything shaped like a bot token) in every record."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "[token]")
        return _TOKEN_SHAPE.sub("[token]", text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.msg = self.redact(message)
        record.args = None
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        return True


def setup_logging(token: str, log_file: Path | None = None, level: int = logging.INFO) -> None:
    handlers: list[logging.Handler] = [logging.StreamHandler()]
    if log_file is not None:
        handlers.append(logging.FileHandler(log_file, encoding="utf-8"))
    redact = RedactSecrets([token])
    for handler in handlers:
        handler.addFilter(redact)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=handlers, force=True)
    # httpx logs every request URL at INFO; the URL contains the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


def failure_text(exc: BaseException) -> str:
    """An exception for the log: its type and stack, and its message only when it comes from Telegram.

    Our own exceptions' messages may quote what a user typed (a pupil's name); Telegram's never do.
    """
    from_telegram = type(exc).__module__.startswith("telegram")
    what = f"{type(exc).__name__}: {exc}" if from_telegram else type(exc).__name__
    return f"{what}\n{''.join(traceback.format_tb(exc.__traceback__))}"

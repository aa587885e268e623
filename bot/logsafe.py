"""Logging that never leaks the bot token (httpx logs request URLs, which contain it).

The token is scrubbed when a log record is made, not by one handler's filter, so every
handler sees the scrubbed record: the log file, the journal, and a test's caplog alike.
"""

from __future__ import annotations

import logging
import os
import re
import traceback
from pathlib import Path
from typing import Any

from storage.atomic import FILE_MODE

_TOKEN_SHAPE = re.compile(r"\d{3,}:[A-Za-z0-9_-]{20,}")
_SECRETS: set[str] = set()


def redact(text: str) -> str:
    """`text` with every known secret, and anything shaped like a bot token, replaced."""
    for secret in _SECRETS:
        text = text.replace(secret, "[token]")
    return _TOKEN_SHAPE.sub("[token]", text)


def hide_secret(secret: str) -> None:
    """From now on, `secret` never appears in a log record or in redact()'s output."""
    if secret:
        _SECRETS.add(secret)
    factory = logging.getLogRecordFactory()
    if not getattr(factory, "redacts", False):
        logging.setLogRecordFactory(_redacting(factory))


def _redacting(factory: Any) -> Any:
    def make(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return scrub(factory(*args, **kwargs))

    make.redacts = True  # type: ignore[attr-defined]
    return make


def scrub(record: logging.LogRecord) -> logging.LogRecord:
    """Redact a record's message, its exception text and its stack, formatting them now."""
    try:
        message = record.getMessage()
    except (TypeError, ValueError):  # arguments that do not fit the format: keep both, redacted
        message = f"{record.msg} {record.args!r}"
    record.msg = redact(message)
    record.args = None
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    return record


class RedactSecrets(logging.Filter):
    """A handler's second guard: the same scrubbing, with these secrets too."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        for secret in secrets:
            hide_secret(secret)

    def filter(self, record: logging.LogRecord) -> bool:
        scrub(record)
        return True


def private_log_file(path: Path) -> Path:
    """Create the log file readable by the bot's user only, like every other file in the data folder."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)  # an older version created it world-readable
    finally:
        os.close(fd)
    return path


class LogFile(logging.FileHandler):
    """bot.log. When its disk is full a line is lost here but kept by the journal (stderr), and
    the standard handler's "--- Logging error ---" traceback is not printed after every line."""

    def handleError(self, record: logging.LogRecord) -> None:
        """The journal has the record; a traceback about the log file would only bury it."""


def setup_logging(token: str, log_file: Path | None = None, level: int = logging.INFO) -> None:
    handlers: list[logging.Handler] = [logging.StreamHandler()]
    if log_file is not None:
        handlers.append(LogFile(private_log_file(log_file), encoding="utf-8"))
    redact_filter = RedactSecrets([token])
    for handler in handlers:
        handler.addFilter(redact_filter)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=handlers, force=True)
    # httpx logs every request URL at INFO; the URL contains the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


def failure_text(exc: BaseException) -> str:
    """An exception for the log: its type and stack, and its message only when it comes from Telegram.

    Our own exceptions' messages may quote what a user typed (a pupil's name); Telegram's never do,
    but they may quote the token (InvalidToken does), so they are redacted.
    """
    from_telegram = type(exc).__module__.startswith("telegram")
    what = redact(f"{type(exc).__name__}: {exc}") if from_telegram else type(exc).__name__
    return f"{what}\n{''.join(traceback.format_tb(exc.__traceback__))}"

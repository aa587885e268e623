"""What the consent handlers share: the services, and what a question's buttons need between messages."""

from __future__ import annotations

import functools
import hashlib

from bot.names import PupilIndex
from bot.photo_check import PhotoChecks
from bot.records.consent import Pupil
from bot.register import RegisterService
from bot.shell.ticker import Runtime, runtime
from handlers.common import Context, drop_buttons

MAX_NAMES_TEXT = 2000
NEXT_NUMBER = "consent_next_number"
KEEP_OPEN = 20  # questions and reports per person whose buttons still work
HELD = "photo_held"  # photo file id -> what photo safety saw against uploading it (faces nobody named, a name)
OPEN_ASKS = "consent_open"  # the "Did you mean ...?" messages still waiting for a tap: [chat id, message id]


def service(context: Context) -> RegisterService:
    return runtime(context).services.register


def photo_checks(context: Context) -> PhotoChecks:
    return runtime(context).services.photo_checks


def remember(context: Context, store: str, value: object) -> int:
    """Keep what a question's buttons need under a new number, dropping the oldest beyond KEEP_OPEN.

    The numbers go on from the person's kept state, so a button from before a restart never
    finds a newer question under its number.
    """
    kept = context.state.setdefault(store, {})
    number = context.state.get(NEXT_NUMBER, 1)
    context.state[NEXT_NUMBER] = number + 1
    kept[number] = value
    for old in list(kept)[:-KEEP_OPEN]:
        del kept[old]
    return number


def pupil_token(pupil: Pupil) -> str:
    """A short stand-in for a pupil in callback data (ids may hold any character).

    It covers the names as well as the id: a button offering "Amelia Smith" must not
    clear whoever holds her id after the next import (schools' exports reuse ids).
    """
    names = "\x00".join((pupil.pupil_id, pupil.first_name, pupil.preferred_name, pupil.last_name))
    return hashlib.sha256(names.encode()).hexdigest()[:12]


def pupil_by_token(rt: Runtime, token: str) -> Pupil | None:
    return _tokens(rt.services.consents.index()).get(token)


@functools.lru_cache(maxsize=2)
def _tokens(index: PupilIndex) -> dict[str, Pupil]:
    """Token → pupil for the current register (the index is rebuilt, and so this, on each import)."""
    return {pupil_token(pupil): pupil for pupil in index.pupils}


def asked(context: Context, chat_id: int, message_id: int) -> None:
    """A "Did you mean ...?" now waits for a tap: /cancel can end it."""
    waiting = context.state.setdefault(OPEN_ASKS, [])
    waiting.append([chat_id, message_id])
    del waiting[:-KEEP_OPEN]


def answered(context: Context, chat_id: int, message_id: int) -> None:
    """The question on this message was answered: it no longer waits."""
    waiting = context.state.get(OPEN_ASKS, [])
    context.state[OPEN_ASKS] = [pair for pair in waiting if list(pair) != [chat_id, message_id]]


async def end_questions(context: Context) -> bool:
    """/cancel: every "Did you mean ...?" still waiting loses its buttons and its kept name; False if none waited."""
    waiting = context.state.pop(OPEN_ASKS, [])
    context.state.pop("consent_asks", None)
    for chat_id, message_id in waiting:
        await drop_buttons(context.bot, chat_id, message_id)
    return bool(waiting)

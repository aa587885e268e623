"""A second tap before what cannot be undone: "Yes, revoke Amy's access" / "Cancel", on the same message.

The question is kept in the asker's own flow state (conversations.json, so it survives a restart)
under a one-time token, and the Yes button carries nothing but that token. So a Yes is honoured
once, for the person asked, within ASK_FOR, and only while what it is about still stands as it did
when asked (`basis`): forged or stale data, a second tap, or a change made meanwhile changes
nothing, and the person is told which. The role is checked again by the handler at the Yes.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from bot.records.outbox import Buttons
from bot.shell.callbacks import pack
from handlers.common import Context

ASKED = "confirmations"  # token -> (what, target, detail, basis, asked at, answered)
ASK_FOR = timedelta(minutes=30)
KEPT = 20  # questions remembered per person: a Yes on anything older is refused as expired


@dataclass(frozen=True)
class Question:
    """What a Yes would do: `what` to `target` (with `detail`, e.g. a role), asked when `basis` held."""

    what: str
    target: int
    detail: str
    basis: str
    asked_at: datetime


class Reply(StrEnum):
    YES = "yes"  # asked, in time, not yet answered: do it (after checking `basis` still holds)
    UNKNOWN = "unknown"  # never asked of this person: forged, or from before a reset
    EXPIRED = "expired"
    ANSWERED = "answered"  # a second tap: the first one did it (or cancelled it)


def ask(context: Context, question: Question) -> str:
    """Remember the question; the token its Yes and Cancel buttons carry."""
    assert context.user_data is not None
    asked = dict(context.state.get(ASKED) or {})
    token = secrets.token_hex(6)
    asked[token] = (question.what, question.target, question.detail, question.basis, question.asked_at, False)
    for old in list(asked)[:-KEPT]:
        asked.pop(old, None)
    context.user_data[ASKED] = asked
    return token


def buttons(feature: str, token: str, yes: str) -> Buttons:
    """Yes (its label says exactly what happens) and Cancel, side by side."""
    return (((yes, pack(feature, "sure", token)), ("Cancel", pack(feature, "unsure", token))),)


def take(context: Context, token: str, now: datetime, kinds: tuple[str, ...]) -> tuple[Reply, Question | None]:
    """The answer to a Yes for a question of one of `kinds`: marked answered, so a second tap does nothing."""
    found = _find(context, token)
    if found is None or found[0].what not in kinds:
        return Reply.UNKNOWN, None
    question, answered = found
    if answered:
        return Reply.ANSWERED, question
    if now - question.asked_at > ASK_FOR:
        return Reply.EXPIRED, question
    _mark_answered(context, token)
    return Reply.YES, question


def reopen(context: Context, token: str) -> None:
    """The Yes failed before anything was done (a full disk, say): the same Yes may be tapped again."""
    asked = dict(context.state.get(ASKED) or {})
    if token in asked and context.user_data is not None:
        asked[token] = (*asked[token][:5], False)
        context.user_data[ASKED] = asked


def drop(context: Context, token: str) -> Question | None:
    """Cancel: the question is answered (no), and its Yes no longer works."""
    found = _find(context, token)
    if found is None:
        return None
    _mark_answered(context, token)
    return found[0]


def _find(context: Context, token: str) -> tuple[Question, bool] | None:
    kept = (context.state.get(ASKED) or {}).get(token)
    if not isinstance(kept, tuple) or len(kept) != 6:
        return None
    what, target, detail, basis, asked_at, answered = kept
    return Question(str(what), int(target), str(detail), str(basis), asked_at), bool(answered)


def _mark_answered(context: Context, token: str) -> None:
    assert context.user_data is not None
    asked = dict(context.state.get(ASKED) or {})
    asked[token] = (*asked[token][:5], True)
    context.user_data[ASKED] = asked

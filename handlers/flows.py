"""One way to build a conversation: durable across a restart, re-entered by its own command, timed out politely.

Every conversation is persistent under its name, so the state PTB keeps for it goes through
bot.shell.persistence to disk and a person carries on where they were after a restart or a
deploy; the app reads each flow's timeout so one left too long while the bot was down is not
resumed (bot.shell.app, bot.shell.persistence).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Coroutine, Sequence
from datetime import timedelta
from typing import Any

from telegram import Update
from telegram.ext import BaseHandler, ConversationHandler, TypeHandler
from telegram.warnings import PTBUserWarning

from handlers.common import Context

Step = BaseHandler[Update, Any, Any]
Forget = Callable[[Context], object]
# What each flow keeps for its person, dropped when the flow is ended from outside (handlers.access.guards).
_FORGET: dict[str, Forget] = {}


def durable_flow(
    name: str,
    entry_points: Sequence[Step],
    states: dict[object, list[Step]],
    fallbacks: Sequence[Step],
    *,
    timeout: timedelta,
    on_timeout: Callable[[Update, Context], Coroutine[Any, Any, object]],
    forget: Forget,
) -> ConversationHandler[Any]:
    """A conversation kept on disk under `name`; an entry point starts it over at any step (allow_reentry).

    After `timeout` without an answer `on_timeout` tells the person, and the conversation ends.
    `forget` drops, quietly, what the flow keeps for its person (a /log's draft and its waiting
    screenshots): run when the flow is ended from outside, by a change of access. Every flow
    must say, so nothing it kept outlives it.
    """
    _FORGET[name] = forget
    with warnings.catch_warnings():
        # PTB warns that button steps are tracked per chat and user, not per message: that is what we want.
        warnings.simplefilter("ignore", PTBUserWarning)
        return ConversationHandler(
            entry_points=list(entry_points),
            states={**states, ConversationHandler.TIMEOUT: [TypeHandler(Update, on_timeout)]},
            fallbacks=list(fallbacks),
            allow_reentry=True,
            conversation_timeout=timeout,
            name=name,
            persistent=True,
        )


def dropping(*keys: str) -> Forget:
    """A flow's `forget` that drops these keys of its person's kept state (an /apply's form and matches)."""

    def forget(context: Context) -> None:
        for key in keys:
            context.state.pop(key, None)

    return forget


def forget_flow(name: str, context: Context) -> None:
    """A flow ended from outside (its person's access changed): what it kept for them goes too.

    Otherwise a revoked admin's unfinished /log would keep its screenshots in the data folder,
    and its draft in conversations.json, with nothing left that would ever remove them.
    """
    forget = _FORGET.get(name)
    if forget is not None:
        forget(context)

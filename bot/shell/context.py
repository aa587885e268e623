"""What every handler receives as `context`: PTB's CallbackContext with the bot's runtime, typed.

PTB's contexttypesbot example shows the idiom: a CallbackContext subclass registered through
ContextTypes, so `context.runtime` is a Runtime to the type checker instead of a bot_data lookup.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from telegram.ext import CallbackContext, ContextTypes, ExtBot

from bot.shell.ticker import Runtime


class UserState(dict[str, Any]):
    """One person's unfinished flows (a /log draft, an /apply form, a /check's buttons), by flow.

    Kept across restarts in conversations.json (bot.shell.persistence). PTB deep-copies it before
    each save; frozen records are never changed in place, so the copy shares them instead of
    copying (a pupil's consents are a read-only mapping, which cannot be deep-copied).
    """

    def __deepcopy__(self, memo: dict[int, Any]) -> UserState:
        return UserState({key: _copy(value) for key, value in self.items()})


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy(item) for item in value]
    if isinstance(value, set):
        return set(value)
    # getattr: typeshed's DataclassInstance does not declare __dataclass_params__
    if dataclasses.is_dataclass(value) and not getattr(value, "__dataclass_params__").frozen:  # noqa: B009
        fields = {f.name: _copy(getattr(value, f.name)) for f in dataclasses.fields(value) if f.init}
        return dataclasses.replace(value, **fields)  # type: ignore[type-var]
    return value  # str, numbers, tuples and frozen records: nothing to change in place


class BotContext(CallbackContext[ExtBot[None], UserState, dict[Any, Any], dict[str, Any]]):
    """The context of every handler, button and timed job of this bot."""

    @property
    def runtime(self) -> Runtime:
        """The services, durable delivery and ticker, built once at start-up (bot.shell.app)."""
        runtime: Runtime = self.application.bot_data["runtime"]
        return runtime

    @property
    def state(self) -> UserState:
        """This person's kept flow state; an empty one, kept nowhere, for an update from no one (a channel post)."""
        return self.user_data if self.user_data is not None else UserState()


CONTEXT_TYPES: ContextTypes[BotContext, UserState, dict[Any, Any], dict[str, Any]] = ContextTypes(
    context=BotContext, user_data=UserState
)

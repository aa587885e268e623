"""Flows whose time runs out, across restarts: PTB's conversation timers die with the process.

A step of a kept conversation first checks its flow's timeout against the stored time (a flow resumed
after a restart and then left has no timer), and at start-up the conversations whose timeout passed
while the bot was down are ended by their own timeout steps: the person is told, the draft's files go.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import zlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import Application, ConversationHandler

from bot.shell.persistence import TOO_LATE, ConversationKey, FlowStore, Step

log = logging.getLogger(__name__)


def expire_overdue_steps(application: Application[Any, Any, Any, Any, Any, Any], store: FlowStore) -> None:
    """Every step of a kept conversation first checks its flow's timeout against the stored time.

    A flow resumed after a restart and then left has no timer; without this, a note typed a
    day later would become the next answer of an /apply. An overdue step runs the flow's own
    timeout handlers instead (the person is told it timed out) and ends the conversation; an
    overdue button press is answered too, so the phone does not spin until Telegram gives up.
    """
    for handlers in application.handlers.values():
        for flow in handlers:
            if not (isinstance(flow, ConversationHandler) and flow.persistent and flow.name in store.timeouts):
                continue
            if not (flow.per_chat and flow.per_user) or flow.per_message:
                continue  # keyed otherwise: not a shape this bot uses
            store.forget_unknown_states(flow.name, flow.states)
            timed_out = [handler.callback for handler in flow.states.get(ConversationHandler.TIMEOUT, [])]
            store.flows[flow.name] = (flow, timed_out)
            for state, steps in flow.states.items():
                if state != ConversationHandler.TIMEOUT:
                    for handler in steps:
                        handler.callback = _on_time(store, flow.name, handler.callback, timed_out)


def _on_time(store: FlowStore, name: str, callback: Step, timed_out: Sequence[Step]) -> Step:
    @functools.wraps(callback)
    async def step(update: Update, context: Any) -> object:
        chat, user = update.effective_chat, update.effective_user
        key = (chat.id, user.id) if chat is not None and user is not None else None
        if key is not None and store.overdue(name, key):
            for run in timed_out:
                await run(update, context)
            if update.callback_query is not None:  # a late press: its spinner stops, with a word why
                with contextlib.suppress(TelegramError):
                    await update.callback_query.answer(TOO_LATE)
            return ConversationHandler.END
        result = await callback(update, context)
        if key is not None:
            store.touch(name, key)
        return result

    return step


class DurableApplication(Application):
    """An Application that saves conversation state after every update, not once a minute.

    PTB's own loop updates persistence every `update_interval` seconds; a restart in between
    would lose the steps taken meanwhile. Saving after each update makes a step the person was
    answered for a step that survives (one atomic write, only when something changed).
    """

    async def process_update(self, update: object) -> None:
        await super().process_update(update)
        if self.persistence is None:
            return
        try:
            await self.update_persistence()
        except Exception as exc:  # never stall the update queue over a flow's state
            log.error("Could not keep unfinished flows after update: %s", type(exc).__name__)

    async def update_persistence(self) -> None:
        await super().update_persistence()
        if isinstance(self.persistence, FlowStore):
            self.persistence.save()

    async def start(self) -> None:
        """Start, then end the conversations whose timeout passed while the bot was down.

        PTB's timeout timers die with the process. Without this, a /log left over a restart kept
        its screenshots in the data folder until its person came back, which might be never.
        """
        await super().start()
        await self.end_lapsed_flows()

    async def end_lapsed_flows(self, _: object = None) -> None:
        """Run each lapsed conversation's timeout steps, as PTB would have, and end it; then wait for the next."""
        store = self.persistence
        if not isinstance(store, FlowStore):
            return
        await self.update_persistence()  # a timeout PTB itself just ran is in the store first, so none runs twice
        for name, key, at in store.lapsed():
            if name not in store.flows:
                continue
            flow, timed_out = store.flows[name]
            update = _lapse(self, name, key, at)
            context = self.context_types.context.from_update(update, self)
            for run in timed_out:
                try:
                    await run(update, context)
                except Exception as exc:  # the person may not be told (the network); the flow still ends
                    log.warning("The timeout of a lapsed %s conversation failed: %s", name, type(exc).__name__)
            flow._update_state(ConversationHandler.END, key)  # PTB has no public way to end a conversation from outside
            await store.update_conversation(name, key, None)
            self.mark_data_for_update_persistence(chat_ids=int(key[0]), user_ids=int(key[-1]))
        await self.update_persistence()
        deadline = store.next_deadline()
        if deadline is not None and self.job_queue is not None:
            wait = (deadline - store.clock.now()).total_seconds() + 1
            self.job_queue.run_once(self.end_lapsed_flows, when=wait, name="lapsed flows")


def _lapse(application: Application[Any, Any, Any, Any, Any, Any], name: str, key: ConversationKey, at: datetime) -> Update:
    """The update a lapsed conversation's timeout steps are given: its person, in its chat.

    Its id is negative (never Telegram's) and the same for the same lapse, so what a timeout step
    queues under it is queued once even if the bot stops halfway through.
    """
    chat_id, user_id = key[0], key[-1]
    update_id = -(zlib.crc32(f"{name}:{chat_id}:{user_id}:{at.isoformat()}".encode()) or 1)
    message = {
        "message_id": 0,
        "date": int(at.timestamp()),
        "chat": {"id": chat_id, "type": "private" if chat_id == user_id else "group", "title": ""},
        "from": {"id": user_id, "is_bot": False, "first_name": ""},
    }
    return Update.de_json({"update_id": update_id, "message": message}, application.bot)

"""Durable delivery: every important message goes through the outbox and is retried until sent.

`Delivery` saves a message before sending it, sends what is due, and edits every copy of a thread.
Each refusal from Telegram ends in one decision here: wait and retry (429, network trouble, 5xx);
retry for a bounded time and then tell the leaders once (someone who never opened the bot or
blocked it: `recipients`); send it another way (`sending`); treat as done (an edit that changes
nothing, a message that no longer exists); or cancel (the recipient's access ended or was lowered
since the message was queued: checked right before every send and every edit). A join-request
decision is an outbox item too (`joins`).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import replace
from datetime import datetime, timedelta

from telegram import Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import Application, CallbackContext, TypeHandler

from bot.records.outbox import Buttons, DeliveredAs, ItemKind, JoinAnswer, OutboxItem, OutboxState
from bot.roles import Permission
from bot.services import Services
from bot.shell.delivery.joins import JoinListener, answer_join
from bot.shell.delivery.outcomes import audit, backoff, retry, retry_wait
from bot.shell.delivery.recipients import audience_for, note_unreachable, still_allowed
from bot.shell.delivery.sending import refusal, send, with_note

log = logging.getLogger(__name__)

_DONE_EDIT_ERRORS = ("message is not modified", "message to edit not found", "message can't be edited")


class Delivery:
    """Saves messages before sending them, sends what is due, and edits every copy of a thread."""

    def __init__(self, application: Application, services: Services) -> None:
        self.application = application
        self.bot = application.bot
        self.services = services
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[datetime | None] | None = None
        self._join_listener: JoinListener | None = None

    # ---- enqueueing -------------------------------------------------------------------
    def post(
        self,
        key: str,
        chat_id: int,
        text: str,
        buttons: Buttons = (),
        photo: str = "",
        thread: str = "",
        give_up_after: timedelta | None = None,
        needs: Permission | None = None,
        photo_note: str = "",
    ) -> OutboxItem:
        """Save a message for delivery (idempotent by key) and start sending it.

        It is retried until Telegram takes it, or, with `give_up_after`, until it no longer
        matters (Telegram lets a bot write to a join requester for a few minutes only). It goes
        out only while the recipient still holds `needs` (by default: everything their role
        allows now); `photo_note` is added if the picture has to be left out.
        """
        now = self.services.clock.now()
        give_up_at = now + give_up_after if give_up_after else None
        audience = audience_for(self.services.staff.role_of(chat_id), needs)
        item = self.services.outbox.enqueue(
            OutboxItem(
                key,
                chat_id,
                text,
                now,
                now,
                buttons=buttons,
                photo=photo,
                thread=thread,
                give_up_at=give_up_at,
                audience=audience,
                photo_note=photo_note,
            )
        )
        self.kick()
        return item

    def edit_thread(self, thread: str, text: str, buttons: Buttons = ()) -> None:
        """Show new content on every copy of a thread: sent copies are edited, unsent ones rewritten.

        A copy whose holder may no longer see it (access ended or lowered) is left as it was.
        """
        for copy in self.services.outbox.in_thread(thread):
            self._edit_copy(copy, text, buttons)
        self.kick()

    def edit_copy(self, thread: str, chat_id: int, message_id: int, text: str, buttons: Buttons = ()) -> bool:
        """Show `text` on one copy of a thread (the one a button was pressed on), after `edit_thread`
        for the others: its pending edit is replaced. False when that message is no copy of the thread."""
        copy = next(
            (c for c in self.services.outbox.in_thread(thread) if (c.chat_id, c.message_id) == (chat_id, message_id)), None
        )
        if copy is None:
            return False
        self._edit_copy(copy, text, buttons)
        self.kick()
        return True

    def adopt(
        self,
        key: str,
        chat_id: int,
        message_id: int,
        thread: str,
        text: str,
        buttons: Buttons = (),
        needs: Permission | None = None,
    ) -> OutboxItem:
        """A message already in someone's chat (a flow's own message) becomes a copy of `thread` and
        shows `text`: one message per event, kept up to date with the thread from then on.

        Saved as sent under `key` (asking again finds the first), then edited like any copy: durably,
        and only while its holder may still see it (`needs`, as for `post`).
        """
        now = self.services.clock.now()
        audience = audience_for(self.services.staff.role_of(chat_id), needs)
        adopted = OutboxItem(
            key,
            chat_id,
            "",
            now,
            now,
            thread=thread,
            state=OutboxState.SENT,
            sent_at=now,
            message_id=message_id,
            audience=audience,
        )
        item = self.services.outbox.enqueue(adopted)
        self._edit_copy(item, text, buttons)
        self.kick()
        return item

    def _edit_copy(self, copy: OutboxItem, text: str, buttons: Buttons) -> None:
        """Queue an edit of one copy: an unsent copy is rewritten, a waiting edit replaced, and a
        copy its holder may no longer see left as it was."""
        outbox = self.services.outbox
        if copy.state == OutboxState.PENDING:
            outbox.save(replace(copy, text=text, buttons=buttons))
            return
        if copy.state != OutboxState.SENT or not self._allowed(copy):
            return
        body = with_note(text, copy.photo_note) if copy.delivered_as is DeliveredAs.TEXT else text
        waiting = outbox.pending_edit(copy.chat_id, copy.message_id)
        if waiting:
            outbox.save(replace(waiting, text=body, buttons=buttons))
            return
        now = self.services.clock.now()
        outbox.enqueue(
            OutboxItem(
                f"{copy.key}:edit:{uuid.uuid4().hex[:12]}",
                copy.chat_id,
                body,
                now,
                now,
                buttons=buttons,
                photo=copy.photo,
                thread=copy.thread,
                edit_of=copy.message_id,
                audience=copy.audience,
                delivered_as=copy.delivered_as,
            )
        )

    def thread_copies(self, thread: str) -> list[OutboxItem]:
        return self.services.outbox.in_thread(thread)

    def unreachable(self, chat_id: int) -> bool:
        """True while Telegram will not let us write to this person and we stopped retrying."""
        spell = self.services.outbox.unreachable(chat_id)
        return spell is not None and spell.gave_up

    def decide_join(self, key: str, group: int, user_id: int, approve: bool) -> OutboxItem:
        """Save a decision on a join request to `group` (idempotent by key) and start sending it."""
        now = self.services.clock.now()
        kind = ItemKind.APPROVE_JOIN if approve else ItemKind.DECLINE_JOIN
        item = self.services.outbox.enqueue(OutboxItem(key, group, "", now, now, kind=kind, user_id=user_id))
        self.kick()
        return item

    def on_join_answer(self, listener: JoinListener) -> None:
        """Who hears what became of each join-request decision (the capability that made it)."""
        self._join_listener = listener

    def heard_from(self, chat_id: int) -> None:
        """They wrote to the bot: they can be reached again, and what waits for them goes now."""
        outbox = self.services.outbox
        if not outbox.reachable(chat_id):
            return  # no refusal on record: nothing waits for them
        audit(self.services, "reachable again", chat_id, "ok", "")
        outbox.retry_now(chat_id, self.services.clock.now())
        self.kick()

    # ---- sending ----------------------------------------------------------------------
    def kick(self) -> None:
        """Send what is due in the background, unless a send round is already running.

        The round is PTB's task (`create_task`): its errors reach the error handler and stop()
        waits for it. While the bot is not running (stopping, or not yet started) nothing starts:
        what was saved goes at the next tick, so shutdown never cuts a send round in half.
        """
        if not self.application.running:
            return
        if self._task is None or self._task.done():
            self._task = self.application.create_task(self.flush(), name="delivery")

    async def wait(self, timeout: float) -> None:
        """Wait (at most `timeout` seconds) for the send round now due, e.g. to say whether an alert got through."""
        self.kick()
        if self._task is not None:
            await asyncio.wait({self._task}, timeout=timeout)

    @property
    def busy(self) -> bool:
        return self._task is not None and not self._task.done()

    async def flush(self) -> datetime | None:
        """Send every due item once; return when the next retry is due (for the scheduler)."""
        async with self._lock:
            outbox = self.services.outbox
            outbox.save_unsaved()  # what a full disk could not take earlier
            for item in outbox.pending():
                if not self._allowed(item):
                    self._cancel(item)
            tried: set[int] = set()
            while fresh := [i for i in outbox.due(self.services.clock.now()) if i.id not in tried]:
                for item in fresh:  # items saved meanwhile are picked up by the next round
                    tried.add(item.id)
                    await self._attempt(item)
            return outbox.next_attempt()

    def _allowed(self, item: OutboxItem) -> bool:
        return still_allowed(item.audience, self.services.staff.role_of(item.chat_id))

    def _cancel(self, item: OutboxItem) -> None:
        """The recipient's access ended or was lowered after this was queued: it never goes out."""
        log.info("Outbox item %s to chat %s cancelled: the recipient may no longer see it", item.id, item.chat_id)
        self.services.outbox.save(replace(item, state=OutboxState.CANCELLED, last_error="recipient no longer allowed"))
        audit(self.services, "delivery cancelled", item.chat_id, "cancelled: access ended or lowered", f"outbox {item.key}")

    async def _attempt(self, item: OutboxItem) -> None:
        outbox = self.services.outbox
        now = self.services.clock.now()
        if not self._allowed(item):  # checked again right before sending: roles change at any time
            self._cancel(item)
            return
        if item.kind is not ItemKind.MESSAGE:
            self._join_answered(*await answer_join(self.bot, item, now))
            return
        try:
            message_id, delivered_as = await send(self.bot, item, self.services.db.data_dir)
        except RetryAfter as exc:
            wait = retry_wait(exc)
            outbox.save(retry(item, now, wait, "rate limited"))
        except Forbidden:
            note_unreachable(self, item, now, "forbidden")
        except BadRequest as exc:
            if item.edit_of and refusal(exc, _DONE_EDIT_ERRORS):
                outbox.save(replace(item, state=OutboxState.SENT, attempts=item.attempts + 1, sent_at=now))
            elif "chat not found" in exc.message.lower():
                note_unreachable(self, item, now, "chat not found")
            else:
                self._failed(item, exc.message)
        except (NetworkError, TelegramError) as exc:
            outbox.save(retry(item, now, backoff(item), f"network: {type(exc).__name__}"))
        else:
            # A delivered message keeps only what later edits need: its text and buttons were the
            # bulk of the outbox file, which is rewritten on every change. If the disk refuses this
            # record, memory keeps it (so the message is never sent twice) until a write works.
            sent = replace(item, state=OutboxState.SENT, attempts=item.attempts + 1, sent_at=now, message_id=message_id)
            outbox.save(replace(sent, text="", buttons=(), delivered_as=delivered_as))
            if outbox.unreachable(item.chat_id):
                outbox.reachable(item.chat_id)

    def _join_answered(self, item: OutboxItem, answer: JoinAnswer, detail: str) -> None:
        """Save what became of the decision, then tell the capability that made it."""
        self.services.outbox.save(item)
        if self._join_listener is not None:
            self._join_listener(item, answer, detail)

    def _failed(self, item: OutboxItem, error: str) -> None:
        """Telegram refused the message itself, and every other way of sending it: a bug, said loudly."""
        log.error("Outbox item %s to chat %s refused by Telegram: %s", item.id, item.chat_id, error)
        self.services.outbox.save(replace(item, state=OutboxState.FAILED, attempts=item.attempts + 1, last_error=error))
        audit(self.services, "delivery failed", item.chat_id, "failed: refused by Telegram", f"outbox {item.key}")


def register(application: Application, delivery: Delivery) -> None:
    """Before any feature sees an update: someone writing to the bot in private can be reached again."""

    async def heard(update: Update, context: CallbackContext) -> None:
        chat, user = update.effective_chat, update.effective_user
        member = update.my_chat_member
        if chat is None or user is None or chat.type != ChatType.PRIVATE:
            return
        if member is not None and member.new_chat_member.status == ChatMemberStatus.BANNED:
            return  # they just blocked the bot
        delivery.heard_from(user.id)

    application.add_handler(TypeHandler(Update, heard), group=-1)

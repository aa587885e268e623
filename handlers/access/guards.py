"""Registered after every feature: what nothing else understood, and flows already under way when access changes."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Coroutine
from typing import Any

from telegram import Message, Update
from telegram.ext import Application, ConversationHandler

from bot.roles import PERMISSIONS, Permission, Role, allows
from bot.shell.callbacks import pack
from bot.shell.delivery import keyboard
from bot.shell.ticker import runtime
from handlers.common import Context, admit_numbered, answer, clip, h, is_private, refuse_stranger, reply, show, tell
from handlers.consent.messages import draft_report
from handlers.consent.shared import end_questions
from handlers.flows import forget_flow
from handlers.menu import nearest_command, phone_menu
from handlers.register_import import cancel_import

FLOW_ROLES = "flow_roles"  # per person: the role each open flow began with
# Pasted texts offered a draft check, by person then message: kept in memory only, a few per
# person (after a restart the button reads the text from the message the offer replies to).
PASTED = "pasted_drafts"
KEEP_PASTED = 5
_COMMAND = re.compile(r"^/([A-Za-z0-9_]+)(?:@\w+)?")
# "hello", "thanks!", "good morning": said to the bot, not a post to check.
_GREETING = re.compile(
    r"^(hi|hiya|hello|hey|morning|good (morning|afternoon|evening)|thanks|thank you|thx|cheers|ok|okay|bye)\b", re.IGNORECASE
)
SHORTEST_DRAFT = 4  # words: "ok", "got it" or "on my way" is chat; "Well done Year 6!" is a post
CHAT_REPLY = "Hello! Send /help to see what I can do, or paste a whole draft post and I will offer to check it."


async def unknown_message(update: Update, context: Context) -> None:
    """Anything no feature understood: strangers get the refusal, staff a suggestion of what to do instead."""
    message = update.effective_message
    user = update.effective_user
    if not is_private(update) or user is None or message is None:
        return  # never chatter in groups
    rt = runtime(context)
    role = rt.services.staff.role_of(user.id)
    if role is None:
        await refuse_stranger(update, context, action="message")
        return
    typed = _COMMAND.match(message.text or "")
    if typed:
        await _unknown_command(update, context, role, user.id, typed.group(1))
    elif message.text and allows(role, Permission.CHECK_POST):
        if _is_chat(message.text):
            await reply(update, CHAT_REPLY)
        else:
            await _offer_draft_check(update, context, user.id, message.message_id, message.text)
    else:
        everyday = ", ".join(f"/{c.command}" for c in phone_menu(rt.menu, role, user.id) if c.command != "help")
        await reply(
            update, f"That is not something I can act on by itself. Your everyday commands: {everyday}; /help has them all."
        )


def _is_chat(text: str) -> bool:
    """A greeting, a thank-you or a few words with no sentence: talk to the bot, not a draft post."""
    words = text.split()
    if _GREETING.match(text.strip()) and len(words) <= SHORTEST_DRAFT:  # "Thanks to all who came..." is a post
        return True
    return len(words) < SHORTEST_DRAFT and not re.search(r"[.!?]", text)


async def _unknown_command(update: Update, context: Context, role: Role, user_id: int, name: str) -> None:
    """/cancel with nothing running, or a command this person does not have: the nearest one they do."""
    if name.lower() == "cancel":
        if await end_questions(context):  # a "Did you mean ...?" waits for a tap, like a flow's question
            await reply(update, "Cancelled.")
        elif not await cancel_import(update, context):  # an import preview is no conversation, but waits all the same
            await reply(update, "Nothing to cancel.")
        return
    nearest = nearest_command(runtime(context).menu, role, name, user_id)
    typed = h(clip(name, 32))
    if nearest is None:
        await reply(update, f"There is no /{typed}. Send /help to see your commands.")
    else:
        await reply(update, f"There is no /{typed}. Did you mean /{nearest}?")


async def _offer_draft_check(update: Update, context: Context, user_id: int, message_id: int, text: str) -> None:
    """A pasted text with no command: offer to check it as a draft post, the text kept here, for its sender only."""
    drafts: dict[int, dict[int, str]] = context.application.bot_data.setdefault(PASTED, {})
    mine = drafts.setdefault(user_id, {})
    mine[message_id] = text
    while len(mine) > KEEP_PASTED:
        mine.pop(next(iter(mine)))
    message = update.effective_message
    assert message is not None
    await message.reply_html(  # a reply to the pasted text, so the button can find it again after a restart
        "Did you mean /checkpost? Tap <b>Check this text</b> to check it as a draft post before it goes out.",
        do_quote=True,
        reply_markup=keyboard(((("Check this text", pack("help", "draft", message_id)),),)),
    )


async def check_pasted(update: Update, context: Context) -> None:
    """ "Check this text" under a pasted draft: the draft check, on the same message, for its sender only."""
    press = await admit_numbered(update, context, Permission.CHECK_POST, action="draft check")
    if press is None:
        return
    drafts: dict[int, dict[int, str]] = context.application.bot_data.get(PASTED, {})
    text = drafts.get(press.actor.user_id, {}).pop(press.number, None) or _replied_text(update, press.actor.user_id, press.number)
    if text is None:  # someone else's, or the pasted message is gone: the text is not here to check
        await answer(update, "This button has expired. Please send the text again.")
        return
    await show(update, draft_report(runtime(context).services.register.check_draft(press.actor.user_id, text)))
    await answer(update)


def _replied_text(update: Update, user_id: int, message_id: int) -> str | None:
    """The pasted text the offer replies to, when its sender presses in their own private chat (after a restart)."""
    query = update.callback_query
    offer = query.message if query else None
    pasted = offer.reply_to_message if isinstance(offer, Message) else None
    if not is_private(update) or pasted is None or pasted.from_user is None:
        return None
    if pasted.from_user.id != user_id or pasted.message_id != message_id or pasted.chat.id != user_id:
        return None
    return pasted.text


async def expired_button(update: Update, context: Context) -> None:
    """A button nobody recognises (old, forged or truncated data): nothing changes."""
    user = update.effective_user
    if user is None:
        return
    services = runtime(context).services
    if services.staff.role_of(user.id) is None:
        await refuse_stranger(update, context, action="button")
        return
    services.audit(user.id, "button", outcome="refused: unknown button")
    await answer(update, "This button has expired. Please send the command again.")


FlowCallback = Callable[[Update, Context], Coroutine[Any, Any, object]]


def _flow_entry(name: str, callback: FlowCallback) -> FlowCallback:
    """Remember the role someone had when they started a flow (a /log, an /apply, a ban...)."""

    @functools.wraps(callback)
    async def entry(update: Update, context: Context) -> object:
        result = await callback(update, context)
        user = update.effective_user
        if user is not None and result not in (None, ConversationHandler.END):
            role = runtime(context).services.staff.role_of(user.id)
            if role is not None:  # kept with the person's flow state, so it outlives a restart too
                context.state.setdefault(FLOW_ROLES, {})[name] = role
        return result

    return entry


def _flow_step(name: str, callback: FlowCallback) -> FlowCallback:
    """Each later step checks the role again: revoked or lowered since the start ends the flow."""

    @functools.wraps(callback)
    async def step(update: Update, context: Context) -> object:
        user = update.effective_user
        started: Role | None = context.state.get(FLOW_ROLES, {}).get(name) if user else None
        if user is None or started is None:
            return await callback(update, context)
        services = runtime(context).services
        now = services.staff.role_of(user.id)
        if now is not None and PERMISSIONS[started] <= PERMISSIONS[now]:
            return await callback(update, context)
        context.state.get(FLOW_ROLES, {}).pop(name, None)
        forget_flow(name, context)  # what the flow kept (a /log's screenshots) goes with it
        if now is None:
            await refuse_stranger(update, context, action=f"{name} step")
        else:
            services.audit(user.id, f"{name} step", outcome="refused: access changed")
            await tell(update, "Your access has changed, so this was stopped; nothing from it was saved.")
        return ConversationHandler.END

    return step


def guard_flows(application: Application) -> None:
    """Every conversation flow checks, at every step, that its user still has the role they began with.

    A flow's entry checks the role once; without this a revoked admin could finish a /log, or
    revoked office staff go on to see pupils' names in /apply's register matches.
    """
    for handlers in application.handlers.values():
        for flow in handlers:
            if not isinstance(flow, ConversationHandler):
                continue
            name = flow.name or repr(flow)
            for handler in flow.entry_points:
                handler.callback = _flow_entry(name, handler.callback)
            for state, steps in flow.states.items():
                if state != ConversationHandler.TIMEOUT:  # the bot's own clean-up, not the user's step
                    for handler in steps:
                        handler.callback = _flow_step(name, handler.callback)

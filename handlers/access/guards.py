"""Registered after every feature: what nothing else understood, and flows already under way when access changes."""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine
from typing import Any

from telegram import Update
from telegram.ext import Application, ConversationHandler

from bot.roles import PERMISSIONS, Role
from bot.shell.ticker import runtime
from handlers.common import Context, answer, is_private, refuse_stranger, reply, tell

FLOW_ROLES = "flow_roles"  # per person: the role each open flow began with


async def unknown_message(update: Update, context: Context) -> None:
    """Anything no feature understood: strangers get the refusal, staff a pointer to /help."""
    if not is_private(update) or update.effective_user is None:
        return  # never chatter in groups
    rt = runtime(context)
    if rt.services.staff.role_of(update.effective_user.id) is None:
        await refuse_stranger(update, context, action="message")
        return
    await reply(update, "Sorry, I didn't understand that. Send /help to see what I can do.")


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

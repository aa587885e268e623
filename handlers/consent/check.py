"""/check: the names on its line and below it, or /check alone and then the names (a short conversation)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ConversationHandler

from bot.roles import Permission
from handlers.common import Actor, Context, admit, answer, reply, staff_only
from handlers.consent.photo import ask_destination
from handlers.consent.shared import MAX_NAMES_TEXT

NAMES = 1  # /check conversation: waiting for the list of names


@staff_only(Permission.CHECK_CONSENT)
async def check_start(update: Update, context: Context, actor: Actor) -> int | None:
    """/check with names on its line and below it, or /check alone (then the names come next)."""
    message = update.effective_message
    parts = (message.text or "").split(maxsplit=1) if message else []
    if len(parts) == 2:
        await ask_destination(update, context, parts[1], "")
        return ConversationHandler.END
    context.state["check_photo"] = ""
    await reply(update, "Send the pupils' names, one per line. /cancel to stop.")
    return NAMES


async def check_photo_offer(update: Update, context: Context) -> int | None:
    """ "Check consent" under a photo sent without a caption: ask for the names."""
    if await admit(update, context, Permission.CHECK_CONSENT, action="check photo") is None:
        return None
    context.state["check_photo"] = context.state.get("last_photo", "")
    await answer(update)
    await reply(update, "Who is in the photo? Send the pupils' names, one per line. /cancel to stop.")
    return NAMES


@staff_only(Permission.CHECK_CONSENT)
async def check_names(update: Update, context: Context, actor: Actor) -> int:
    message = update.effective_message
    assert message is not None
    if len(message.text or "") > MAX_NAMES_TEXT:
        await reply(update, f"That list is too long; send at most {MAX_NAMES_TEXT} characters.")
        return NAMES
    await ask_destination(update, context, message.text or "", context.state.pop("check_photo", ""))
    return ConversationHandler.END


async def check_cancel(update: Update, context: Context) -> int:
    context.state.pop("check_photo", None)
    await reply(update, "Stopped. Nothing was checked.")
    return ConversationHandler.END


async def check_timeout(update: Update, context: Context) -> None:
    context.state.pop("check_photo", None)
    if update.effective_chat:
        await reply(update, "The consent check timed out. Send /check to start again.")

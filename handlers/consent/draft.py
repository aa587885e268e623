"""/checkpost: a draft post checked against the policy before it goes out."""

from __future__ import annotations

import re

from telegram import Update

from bot.roles import Permission
from handlers.common import Actor, Context, reply, staff_only
from handlers.consent.messages import draft_report
from handlers.consent.shared import service

_COMMAND = re.compile(r"^/\w+(?:@\w+)?")


@staff_only(Permission.CHECK_POST, action="draft check")
async def checkpost(update: Update, context: Context, actor: Actor) -> None:
    """/checkpost TEXT, or /checkpost as a reply to the draft."""
    message = update.effective_message
    assert message is not None
    # Everything after the command, exactly as typed: a draft pasted on the next line keeps its first word.
    text = _COMMAND.sub("", message.text or "", count=1).strip()
    quoted = message.reply_to_message
    if not text and quoted is not None:
        text = quoted.text or quoted.caption or ""
    if not text:
        await reply(update, "Usage: <code>/checkpost TEXT</code>, or reply to your draft with <code>/checkpost</code>.")
        return
    await reply(update, draft_report(service(context).check_draft(actor.user_id, text)))

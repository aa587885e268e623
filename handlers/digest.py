"""/digest: the Head's weekly picture on demand — the seven days up to today, with the 12-week chart.

The scheduled digest (handlers.moderation.timed) goes through the outbox; this one answers at
once. The chart is drawn off the event loop, so other people's updates do not wait for it.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from telegram import InputFile, Update
from telegram.ext import Application, CommandHandler

from bot.digest_chart import chart_series, render
from bot.roles import Permission
from bot.shell.ticker import Runtime, runtime
from handlers.common import Actor, Context, reply, staff_only
from handlers.menu import MenuCommand
from handlers.moderation.messages import render_digest
from handlers.moderation.timed import digest_messages

COMMANDS = (MenuCommand("digest", "This week's digest, with the 12-week chart", Permission.VIEW_AUDIT),)


@staff_only(Permission.VIEW_AUDIT, action="read digest")
async def digest(update: Update, context: Context, actor: Actor) -> None:
    """The chart with the last seven days' digest as its caption (the text after it, when too long for one)."""
    rt = runtime(context)
    services = rt.services
    due = services.moderation_duty.digest_for(services.today() + timedelta(days=1))
    services.audit(actor.user_id, "read digest", f"{due.first.isoformat()} to {due.last.isoformat()}")
    data = chart_series(services.incidents, services.moderation_duty, due.last, services.config.school.timezone)
    png = await asyncio.to_thread(render, data)
    chat = update.effective_chat
    assert chat is not None
    caption, text = digest_messages(render_digest(services, due))
    await chat.send_photo(InputFile(png, filename=f"digest-{due.last.isoformat()}.png"), caption=caption)
    if text:
        await reply(update, text)


def register(application: Application, rt: Runtime) -> None:
    application.add_handler(CommandHandler("digest", digest))

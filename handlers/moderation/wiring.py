"""The moderation handlers and the ticker's moderation work, registered."""

from __future__ import annotations

from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.roles import Permission
from bot.shell.ticker import Runtime
from handlers.menu import MenuCommand
from handlers.moderation.duty import checked, history, history_page, nudge_button, remind_button, rota, rota_button
from handlers.moderation.timed import timed_work

COMMANDS = (
    MenuCommand("rota", "Who moderates the page today and this week", Permission.MODERATE),
    MenuCommand("checked", "I have checked the page today", Permission.MODERATE),
    MenuCommand("moderation", "Page moderation over the last 30 days", Permission.MODERATE),
)


def register(application: Application, rt: Runtime) -> None:
    rt.services.moderation_duty.start_tracking()
    rt.ticker.add("moderation", timed_work(rt))
    application.add_handler(CommandHandler("rota", rota))
    application.add_handler(CommandHandler("checked", checked))
    application.add_handler(CommandHandler("moderation", history))
    application.add_handler(CallbackQueryHandler(nudge_button, pattern=r"^1:mod:(ok|problem):"))
    application.add_handler(CallbackQueryHandler(remind_button, pattern=r"^1:mod:remind:"))
    application.add_handler(CallbackQueryHandler(rota_button, pattern=r"^1:mod:rota:"))
    application.add_handler(CallbackQueryHandler(history_page, pattern=r"^1:mod:page:"))

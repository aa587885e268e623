"""The access handlers, and the guards registered after every other feature (bot.shell.app)."""

from __future__ import annotations

from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.roles import Permission, Role
from bot.shell.ticker import Runtime
from handlers.access.guards import check_pasted, expired_button, guard_flows, unknown_message
from handlers.access.requests import confirm_request, decide_request, request_access
from handlers.access.staff import (
    cancel_change,
    confirm_change,
    grant,
    help_command,
    help_press,
    revoke,
    staff_list,
    staff_page,
    start,
)
from handlers.menu import MenuCommand

# The enum a person's flow state keeps between messages and across a restart (bot.shell.persistence).
FLOW_STATE = (Role,)

COMMANDS = (
    MenuCommand("help", "What I can do for you", None),
    MenuCommand("staff", "Who has access, by role", Permission.MANAGE_STAFF),
    MenuCommand("grant", "Give someone a role: /grant ID ROLE", Permission.MANAGE_STAFF),
    MenuCommand("revoke", "Remove someone's access: /revoke ID", Permission.MANAGE_STAFF),
)


def register_fallbacks(application: Application) -> None:
    """Registered after every feature, so they only see what nothing else handled."""
    guard_flows(application)
    application.add_handler(MessageHandler(filters.ALL, unknown_message))
    application.add_handler(CallbackQueryHandler(expired_button))


def register(application: Application, rt: Runtime) -> None:
    application.add_handler(CommandHandler("start", start))
    application.add_handler(CommandHandler("help", help_command))
    application.add_handler(CallbackQueryHandler(help_press, pattern=r"^1:help:(more|less)$"))
    # "Check this text" under a pasted draft, which the guard for unknown messages offers.
    application.add_handler(CallbackQueryHandler(check_pasted, pattern=r"^1:help:draft:"))
    application.add_handler(CommandHandler("grant", grant))
    application.add_handler(CommandHandler("revoke", revoke))
    application.add_handler(CommandHandler("staff", staff_list))
    application.add_handler(CallbackQueryHandler(staff_page, pattern=r"^1:staff:page:"))
    application.add_handler(CallbackQueryHandler(request_access, pattern=r"^1:acc:req$"))
    application.add_handler(CallbackQueryHandler(decide_request, pattern=r"^1:acc:(ok|back|no):"))
    application.add_handler(CallbackQueryHandler(confirm_request, pattern=r"^1:acc:admit:"))
    application.add_handler(CallbackQueryHandler(confirm_change, pattern=r"^1:acc:sure:"))
    application.add_handler(CallbackQueryHandler(cancel_change, pattern=r"^1:acc:unsure:"))

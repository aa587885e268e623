"""The command menu each person sees on their phone, matched to their role."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from telegram import Bot, BotCommand, BotCommandScopeAllPrivateChats, BotCommandScopeChat, BotCommandScopeDefault
from telegram.error import TelegramError

from bot.roles import Permission, Role, allows

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MenuCommand:
    command: str
    description: str
    permission: Permission | None  # None: every member of staff


STRANGER_MENU = (BotCommand("start", "What this bot is and how to get access"),)


def commands_for(menu: Sequence[MenuCommand], role: Role | None) -> list[MenuCommand]:
    if role is None:
        return []
    return [c for c in menu if c.permission is None or allows(role, c.permission)]


async def set_default_menu(bot: Bot) -> None:
    """Private chats offer /start; group chats offer nothing, since the bot never answers there."""
    await _call(lambda: bot.delete_my_commands(scope=BotCommandScopeDefault()), "default")
    await _call(lambda: bot.set_my_commands(list(STRANGER_MENU), scope=BotCommandScopeAllPrivateChats()), "private chats")


async def refresh_menu(bot: Bot, menu: Sequence[MenuCommand], user_id: int, role: Role | None) -> None:
    """Show this person the commands of their role; without a role, the menu every stranger sees."""
    scope = BotCommandScopeChat(user_id)
    if role is None:
        await _call(lambda: bot.delete_my_commands(scope=scope), f"user {user_id}")
        return
    commands = [BotCommand(c.command, c.description) for c in commands_for(menu, role)]
    await _call(lambda: bot.set_my_commands(commands, scope=scope), f"user {user_id}")


async def _call(change: Callable[[], Awaitable[bool]], who: str) -> None:
    try:
        await change()
    except TelegramError as exc:
        # A person who has never opened the bot has no chat yet; their menu is set when they do.
        log.info("Could not set the command menu for %s: %s", who, exc)

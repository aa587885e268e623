"""The command menu each person sees on their phone, matched to their role.

/help and Telegram's menu show the handful of commands a role uses day to day, grouped the way
people look for them ("Before posting", "If something goes wrong"); /help's "More" shows the rest.
"""

from __future__ import annotations

import difflib
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
    people: frozenset[int] = frozenset()  # also these people, whatever their role (the data-protection leads)


STRANGER_MENU = (BotCommand("start", "What this bot is and how to get access"),)
# Other names the bot answers to, for the nearest-command suggestion (a typo of /misuse is still /log).
ALIASES = {"perm": "consent", "misuse": "log", "report": "log"}

Groups = tuple[tuple[str, tuple[str, ...]], ...]
_BEFORE_POSTING = ("Before posting", ("consent", "check", "checkpost"))
_GONE_WRONG = ("If something goes wrong", ("log",))
_INCIDENTS = ("If something goes wrong", ("incidents", "log"))
_PARENTS = ("Parents' group", ("pending", "apply"))
_LEADERS: Groups = (
    _INCIDENTS,
    ("Parents' group", ("pending",)),
    ("Before posting", ("consent", "checkpost")),
    ("The page", ("rota", "status")),
)
# The commands each role uses day to day, in the order they read them; the rest are under "More".
DAILY: dict[Role, Groups] = {
    Role.ADMIN: (_BEFORE_POSTING, ("Every day", ("checked", "rota")), _GONE_WRONG),
    Role.OFFICE: (("The consent register", ("import", "expiring")), _PARENTS),
    Role.SLT: _LEADERS,
    Role.DEPUTY: _LEADERS,
    Role.HEAD: (
        _INCIDENTS,
        ("Parents' group", ("pending",)),
        ("Keeping an eye", ("digest", "status", "audit")),
        ("Before posting", ("consent",)),
    ),
}
# How "More" groups the rest; a command not named here is listed last, under "Other".
MORE: Groups = (
    ("Incidents", ("incident", "bans", "log")),
    ("Photos and posts", ("consent", "check", "checkpost")),
    ("The consent register", ("import", "expiring", "pupil")),
    ("Parents' group", ("pending", "apply", "application")),
    ("The page", ("rota", "checked", "moderation", "status")),
    ("Staff", ("staff", "grant", "revoke")),
    ("Records", ("audit", "digest", "export", "retention")),
)
# Where a command given to a person by name (not by role) shows on their everyday page and phone menu:
# the only one is /pupil, the data-protection lead's subject access.
NAMED_GROUP = "Data protection"


def commands_for(menu: Sequence[MenuCommand], role: Role | None, user_id: int | None = None) -> list[MenuCommand]:
    """Every command this person may use (by their role, or given to them by name), in the order the features offer them."""
    if role is None:
        return []
    return [c for c in menu if c.permission is None or allows(role, c.permission) or user_id in c.people]


def daily_groups(menu: Sequence[MenuCommand], role: Role, user_id: int | None = None) -> list[tuple[str, list[MenuCommand]]]:
    """The person's everyday commands, grouped; a command not running in this bot is left out."""
    allowed = {c.command: c for c in commands_for(menu, role)}
    groups = [(title, [allowed[name] for name in names if name in allowed]) for title, names in DAILY[role]]
    named = [c for c in commands_for(menu, role, user_id) if c.command not in allowed]
    groups.append((NAMED_GROUP, named))
    return [(title, commands) for title, commands in groups if commands]


def more_commands(menu: Sequence[MenuCommand], role: Role, user_id: int | None = None) -> list[MenuCommand]:
    """The person's other commands: what "More" on /help shows."""
    daily = {c.command for _, commands in daily_groups(menu, role, user_id) for c in commands}
    return [c for c in commands_for(menu, role, user_id) if c.command not in daily and c.command != "help"]


def more_groups(menu: Sequence[MenuCommand], role: Role, user_id: int | None = None) -> list[tuple[str, list[MenuCommand]]]:
    """The person's other commands, grouped as "More" shows them."""
    rest = {c.command: c for c in more_commands(menu, role, user_id)}
    groups = [(title, [rest.pop(name) for name in names if name in rest]) for title, names in MORE]
    groups.append(("Other", list(rest.values())))
    return [(title, commands) for title, commands in groups if commands]


def phone_menu(menu: Sequence[MenuCommand], role: Role, user_id: int | None = None) -> list[MenuCommand]:
    """Telegram's command menu for a person: the everyday commands, then /help for the rest."""
    daily = [c for _, commands in daily_groups(menu, role, user_id) for c in commands]
    return daily + [c for c in commands_for(menu, role) if c.command == "help"]


def nearest_command(menu: Sequence[MenuCommand], role: Role, typed: str, user_id: int | None = None) -> str | None:
    """The command of this person closest to a mistyped one (/chekpost -> checkpost), if any is close."""
    allowed = {c.command for c in commands_for(menu, role, user_id)}
    names = sorted(allowed | {alias for alias, command in ALIASES.items() if command in allowed})
    close = difflib.get_close_matches(typed.lower(), names, n=1, cutoff=0.6)
    if not close:
        return None
    return close[0] if close[0] in allowed else ALIASES[close[0]]


async def set_default_menu(bot: Bot) -> None:
    """Private chats offer /start; group chats offer nothing, since the bot never answers there."""
    await _call(lambda: bot.delete_my_commands(scope=BotCommandScopeDefault()), "default")
    await _call(lambda: bot.set_my_commands(list(STRANGER_MENU), scope=BotCommandScopeAllPrivateChats()), "private chats")


async def refresh_menu(bot: Bot, menu: Sequence[MenuCommand], user_id: int, role: Role | None) -> None:
    """Show this person the everyday commands of their role; without a role, the menu every stranger sees."""
    scope = BotCommandScopeChat(user_id)
    if role is None:
        await _call(lambda: bot.delete_my_commands(scope=scope), f"user {user_id}")
        return
    commands = [BotCommand(c.command, c.description) for c in phone_menu(menu, role, user_id)]
    await _call(lambda: bot.set_my_commands(commands, scope=scope), f"user {user_id}")


async def _call(change: Callable[[], Awaitable[bool]], who: str) -> None:
    try:
        await change()
    except TelegramError as exc:
        # A person who has never opened the bot has no chat yet; their menu is set when they do.
        log.info("Could not set the command menu for %s: %s", who, exc)

"""Who may do what: a stranger, a page administrator and office staff try every command and every
button the bot has ever shown anyone, and nothing leaks.

First the leaders, admins and office staff use the bot the ordinary way, so that it emits every
card, alert, nudge, prompt and list. Then each of the three tries every command the bot knows
(with plausible arguments) and presses every button data the bot emitted to anyone, on a message
in their own chat (data copied from other people's buttons). Each may do only what their role
allows: nothing else changes in storage, refusals are audited, no pupil's name reaches the
stranger, no pupil data reaches a group chat, and with logging set up as in production the log
file (and every record the bot logged) holds no pupil name and never the token.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, ConversationHandler

from bot.clock import FakeClock
from bot.config import Config
from bot.incidents import category
from bot.logsafe import setup_logging
from bot.register import PendingImport
from bot.roles import Permission, Role, allows
from bot.shell.callbacks import pack
from emulator import SentMessage
from tests.conftest import (
    ADMIN,
    ADMIN2,
    DEPUTY,
    HEAD,
    OFFICE,
    SLT,
    SLT2,
    STRANGER,
    TOKEN,
    BotHarness,
    make_config,
)
from tests.photo_samples import group_photo, jpeg
from tests.test_access import forget_strangers

GROUP = -100555  # the parents' group (the bot is an admin there; join requests become applications)
STAFF_ROOM = -100300  # a staff group the bot was added to
PARENT = 7001
STRANGER2 = 9002  # asks for access; the request stays pending
EXTRA_STAFF = range(8001, 8011)  # enough office staff for /staff to have a second page
HEADER = (
    "pupil_id,first_name,last_name,preferred_name,class,consent_page,consent_group,consent_press,form_date,expires,withdrawn\n"
)
REGISTER = HEADER + (
    "P001,Amelia,Smith,,Year 3,yes,yes,no,2025-09-05,,\n"
    "P002,Zoë,O'Brien,Zoe,Year 4,yes,yes,yes,2025-09-05,2026-12-10,\n"
    "P003,Oliver,Smith-Jones,Ollie,Year 3,no,yes,no,2025-09-06,,\n"
    "P004,Noah,Williams,,Year 5,yes,yes,yes,2025-09-05,,2026-10-01\n"
    "P005,Amelia,Jones,Millie,Year 1,yes,yes,yes,2025-09-08,2026-12-01,\n"
    "P006,Priya,Sharma,,Year 6,yes,no,no,2025-09-05,,\n"
)
CHANGED_REGISTER = REGISTER + "P007,Kofi,Mensah,,Year 2,yes,yes,yes,2025-09-08,,\n"
TESTERS = {STRANGER: None, ADMIN2: Role.ADMIN, OFFICE: Role.OFFICE}

# Plausible arguments for every command the bot handles (a new command must be added here).
ARGS = {
    "start": "",
    "help": "",
    "staff": "",
    "grant": "{me} head",
    "revoke": f"{ADMIN}",
    "log": "",
    "misuse": "",
    "report": "",
    "cancel": "",
    "incidents": "",
    "incident": "1",
    "bans": "",
    "export": "",
    "consent": "Amelia Smith",
    "perm": "Amelia",
    "check": "Amelia Smith\nNoah Williams",
    "checkpost": "Well done Amelia Smith and Zoe O'Brien!",
    "import": "",
    "expiring": "",
    "apply": "",
    "pending": "",
    "application": "1",
    "audit": "",
    "pupil": "Amelia Smith",
    "digest": "",
    "rota": "",
    "checked": "",
    "moderation": "",
    "status": "",
    "retention": "",
}
# Commands with arguments that need more than the bare command does.
EXTRA_INVOCATIONS = {"rota": (f"daily {ADMIN2}", Permission.MANAGE_ROTA), "checked": ("problem", Permission.MODERATE)}
ALIASES = {"perm": "consent", "misuse": "log", "report": "log"}
# Buttons whose pages only appear with more data than a short scenario makes: pressed all the same.
PAGE_BUTTONS = tuple(pack(feature, "page", 1) for feature in ("staff", "inc", "bans", "mod", "aud", "apl", "exp"))
# The retention list's Delete appears only once records are years old: pressed all the same.
PAGE_BUTTONS += (pack("ret", "ok", 1),)


# Not only commands: a captioned photo (a consent check), a forwarded screenshot (a misuse log
# offer), a register file (an import), plain text naming a pupil.
MESSAGES: tuple[Callable[[Any, int], Any], ...] = (
    # A real photo with a face: the photo safety check's preview and its Blur buttons (handlers/consent/safety.py).
    lambda emu, user: emu.send_photo(user, jpeg(group_photo(1, 1, 240)), caption="Amelia Smith\nNoah Williams"),
    lambda emu, user: emu.send_photo(
        user, b"\xff\xd8\xff\xe0 shot \xff\xd9", forward_origin={"type": "hidden_user", "sender_user_name": "A parent"}
    ),
    lambda emu, user: emu.send_document(user, CHANGED_REGISTER.encode(), "register.csv", "text/csv"),
    lambda emu, user: emu.send_text(user, "Amelia Smith"),
)


# ---- pupil names ----------------------------------------------------------------------------------


def _plain(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def pupil_names(bot: BotHarness) -> re.Pattern[str]:
    """Every name of every pupil in the register (first, last, preferred; with and without accents)."""
    words: set[str] = set()
    for pupil in bot.services.consents.all():
        for name in (pupil.first_name, pupil.last_name, pupil.preferred_name):
            for part in re.split(r"[\s-]+", name):
                if part:
                    words |= {part, _plain(part)}
    return re.compile(r"(?<!\w)(" + "|".join(sorted(map(re.escape, words), key=len, reverse=True)) + r")(?!\w)", re.IGNORECASE)


def shown(message: SentMessage) -> list[str]:
    """Everything a phone ever showed of a message: each version's text or caption and button labels."""
    versions = [*message.history, message]
    return [piece for m in versions for piece in (m.plain, *(label for label, _ in m.buttons))]


def names_in(pattern: re.Pattern[str], texts: list[str]) -> list[str]:
    return sorted({match.group(0) for text in texts for match in pattern.finditer(text or "")})


# ---- what the bot knows: commands and button patterns -------------------------------------------


def handlers_of(bot: BotHarness) -> Iterator[BaseHandler[Any, Any, Any]]:
    def walk(handler: BaseHandler[Any, Any, Any]) -> Iterator[BaseHandler[Any, Any, Any]]:
        if isinstance(handler, ConversationHandler):
            for inner in [*handler.entry_points, *handler.fallbacks, *(h for hs in handler.states.values() for h in hs)]:
                yield from walk(inner)
        else:
            yield handler

    for group in bot.app.handlers.values():
        for handler in group:
            yield from walk(handler)


def commands_of(bot: BotHarness) -> set[str]:
    return {command for h in handlers_of(bot) if isinstance(h, CommandHandler) for command in h.commands}


def button_patterns(bot: BotHarness) -> set[str]:
    return {
        h.pattern.pattern for h in handlers_of(bot) if isinstance(h, CallbackQueryHandler) and isinstance(h.pattern, re.Pattern)
    }


def emitted_buttons(bot: BotHarness) -> list[str]:
    """Every callback data the bot ever put under a message, to anyone (edited versions included)."""
    found: dict[str, None] = {}
    for message in bot.emu.all_messages:
        for version in [*message.history, message]:
            for _, data in version.buttons:
                if data and not data.startswith(("http://", "https://", "tg://")):
                    found[data] = None
    return list(found)


def permission_of(bot: BotHarness, command: str) -> Permission | None:
    menu = {c.command: c.permission for c in bot.runtime.menu}
    return menu.get(ALIASES.get(command, command))


# ---- storage, as far as who-may-do-what is concerned --------------------------------------------


@dataclass
class State:
    staff: dict[int, str]
    requests: list[tuple[int, str]]
    rota: Any
    register: list[Any]
    incidents: list[tuple[Any, ...]]
    actions: list[tuple[Any, ...]]
    bans: list[tuple[Any, ...]]
    applications: list[tuple[Any, ...]]
    moderation: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def of(cls, bot: BotHarness) -> State:
        services = bot.services
        db = services.db
        apps = services.application_desk
        return cls(
            staff={m.user_id: m.role.value for m in services.staff.active() if m.role},
            requests=sorted((d["user_id"], d["status"]) for d in db.file("staff").table("access_requests").all()),
            rota=services.moderation.rota(),
            register=sorted(services.consents.all(), key=lambda p: p.pupil_id),
            incidents=[(i.number, i.state, i.acknowledged_by, i.outcome, i.draft_id) for i in services.incidents.all()],
            actions=sorted((a.number, a.kind, a.by) for a in services.incidents.all_actions()),
            bans=sorted((b.number, b.platform_name) for b in services.incidents.bans()),
            applications=[
                (a.number, a.status.value, a.decided_by, a.reason, a.conduct_signed, a.children)
                for a in (apps.get(n) for n in range(1, 50))
                if a is not None
            ],
            moderation=[
                *(dict(d) for d in db.file("moderation").table("days").all()),
                *(dict(d) for d in db.file("moderation").table("reminders").all()),
            ],
        )

    def changes(self, other: State) -> set[str]:
        return {name for name in vars(self) if getattr(self, name) != getattr(other, name)}


# What each tester may change at all (their own access request; an admin's page check).
ALLOWED = {STRANGER: {"requests"}, ADMIN2: {"moderation"}, OFFICE: set()}


# ---- the school, used the ordinary way -------------------------------------------------------------


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 25, 6, 0, tzinfo=UTC))  # Wednesday 06:00 in London


@pytest.fixture
def config(data_dir: Path) -> Config:
    return make_config(data_dir, applications={"group_chat_id": GROUP})


@pytest.fixture
def production_logging(tmp_path: Path) -> Iterator[Path]:
    """Logging as `python -m bot run` sets it up (redacting filter, INFO, quiet httpx); restored after."""
    root = logging.getLogger()
    ours = [h for h in root.handlers if not type(h).__module__.startswith("_pytest")]
    levels = {name: logging.getLogger(name).level for name in ("", "httpx", "apscheduler")}
    log_file = tmp_path / "bot.log"
    setup_logging(TOKEN, log_file)
    added = [h for h in root.handlers if h not in ours]
    yield log_file
    for handler in added:
        root.removeHandler(handler)
        handler.close()
    for handler in ours:
        if handler not in root.handlers:
            root.addHandler(handler)
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


@pytest.fixture
async def school(bot: BotHarness) -> BotHarness:
    register = bot.services.register
    parsed, preview = register.prepare_import(0, REGISTER.encode())
    assert preview is not None
    register.commit_import(0, PendingImport(parsed, preview))
    bot.emu.add_group(GROUP, "Parents of St Example's")
    bot.emu.add_group(STAFF_ROOM, "Staff room")
    bot.emu.add_user(PARENT, "Pat", "Parent", username="pat_parent", started=False)
    bot.emu.add_user(STRANGER2, "Tess", "Teacher")
    for number, user in enumerate(EXTRA_STAFF):
        bot.emu.add_user(user, "Temp", f"Office{number}")
    return bot


def last_with(bot: BotHarness, user: int, words: str) -> SentMessage:
    return next(m for m in reversed(bot.emu.messages_to(user)) if words in m.plain)


async def use_the_bot_as_everyone_does(bot: BotHarness) -> None:
    """Every capability used once the ordinary way, so the bot emits every kind of button."""
    for user in (HEAD, DEPUTY, SLT, SLT2, ADMIN, ADMIN2, OFFICE):
        await bot.say(user, "/start")
    for user in EXTRA_STAFF:
        await bot.say(HEAD, f"/grant {user} office")
    await bot.say(HEAD, "/staff")
    [asked] = await bot.say(HEAD, f"/grant {PARENT} admin")  # never opened the bot: asked, then cancelled
    await bot.press(HEAD, asked, "Cancel")

    # A teacher asks for access; the request stays with the leaders.
    [refusal] = await bot.say(STRANGER2, "/start")
    await bot.press(STRANGER2, refusal, "Request access")
    card = last_with(bot, HEAD, "Access request")
    await bot.press(HEAD, card, "Decline")  # asked once more, then Back: the request stays
    await bot.press(HEAD, card, "Back")

    # The morning nudge; Alan asks to be reminded, Ada finds a problem.
    bot.clock.set(datetime(2026, 11, 25, 8, 30, tzinfo=UTC))
    await bot.tick()
    await bot.press(ADMIN2, last_with(bot, ADMIN2, "Moderate the page"), "Remind me in an hour")
    await bot.press(ADMIN, last_with(bot, ADMIN, "Moderate the page"), "Found a problem")
    await bot.say(HEAD, "/rota")
    await bot.say(ADMIN, "/moderation")

    # Ada logs an urgent incident naming a pupil, and starts and cancels another.
    await bot.say(ADMIN, "/log")
    bot.emu.send_photo(ADMIN, b"\xff\xd8\xff\xe0 comment naming a pupil \xff\xd9")
    await bot.settle()
    step = bot.last(ADMIN)
    await bot.press(ADMIN, step, "Done")
    await bot.press(ADMIN, step, category("pupil").title)
    [summary] = await bot.say(ADMIN, "A parent named Amelia Smith in a comment under the sports day post")
    await bot.press(ADMIN, summary, "Confirm")
    [flow] = await bot.say(ADMIN, "/log")
    await bot.press(ADMIN, flow, "Cancel")
    bot.emu.send_photo(ADMIN, b"\xff\xd8\xff\xe0 another picture \xff\xd9")  # offered: log it or check consent
    await bot.settle()
    await bot.press(ADMIN, last_with(bot, ADMIN, "Please log what you found"), "Log it now")
    await bot.say(ADMIN, "/cancel")

    # The Head opens the close and ban questions on the alert, and backs out of both.
    alert = next(m for m in bot.emu.messages_to(HEAD) if m.photo and "INC-0001" in (m.caption or ""))
    await bot.press(HEAD, alert, "Close")
    await bot.press(HEAD, alert, "« Back")
    await bot.press(HEAD, alert, "User banned")
    await bot.say(HEAD, "Sports Day Troll")
    await bot.press(HEAD, bot.last(HEAD), "Cancel")
    await bot.say(HEAD, "/incidents")
    await bot.say(HEAD, "/incident 1")

    # Consent: a lookup with two matches, a photo to check, a list of names, a register to load.
    await bot.say(ADMIN, "/consent Amelia")
    bot.emu.send_photo(ADMIN, jpeg(group_photo(1, 1, 240)), caption="Amelia Smith\nNoah Williams")  # a preview to blur
    await bot.settle()
    await bot.say(ADMIN, "/check Priya Sharma\nOllie Smith-Jone")  # a slip: confirmed from buttons under the report
    await bot.press(ADMIN, bot.last(ADMIN), 0)
    bot.emu.send_document(OFFICE, CHANGED_REGISTER.encode(), "register.csv", "text/csv")
    await bot.settle()
    await bot.press(OFFICE, bot.last(OFFICE), "Cancel")
    await bot.say(OFFICE, "/expiring")
    await bot.say(ADMIN, "/checkpost Well done Amelia Smith!")
    await bot.say(ADMIN, "Well done Amelia Smith!")  # pasted with no command: offered the draft check
    await bot.say(HEAD, "/pupil Amelia")  # subject access asks which Amelia first

    # The office records a paper form, every button of it on the way.
    await bot.say(OFFICE, "/apply")
    [relationship] = await bot.say(OFFICE, "Jo Bloggs")
    await bot.press(OFFICE, relationship, "Mother")
    [matches] = await bot.say(OFFICE, "Amelia")
    await bot.press(OFFICE, matches, "Amelia Smith (Year 3)")
    await bot.press(OFFICE, matches, "Add another child")
    [flag] = await bot.say(OFFICE, "Zed Nobody")
    await bot.press(OFFICE, flag, "Not on the register: flag it")
    await bot.press(OFFICE, flag, "That's all")
    await bot.press(OFFICE, flag, "No")
    await bot.press(OFFICE, flag, "Yes, signed")
    [contact] = await bot.say(OFFICE, "F-17")
    await bot.press(OFFICE, contact, "Skip")
    await bot.press(OFFICE, bot.last(OFFICE), "Submit")

    # A parent asks to join, hesitates over the code of conduct, then agrees.
    bot.emu.join_request(PARENT, GROUP)
    await bot.settle()
    [question] = await bot.say(PARENT, "Amelia Smith")
    await bot.press(PARENT, question, "I do not agree")
    await bot.press(PARENT, question, "I agree")

    # Sam types a question and cancels it before Send; Sally types a reason, takes it back, and
    # rejects the join request without one.
    await bot.press(SLT, last_with(bot, SLT, "Parents' group application #1"), "Ask for information")
    await bot.say(SLT, "Which class is the child in?")
    await bot.press(SLT, bot.last(SLT), "Cancel")
    # Sam asks again and sends it: Olive, who recorded the form, taps Answer, cancels, then answers.
    await bot.press(SLT, last_with(bot, SLT, "Parents' group application #1"), "Ask for information")
    await bot.say(SLT, "Did the mother sign the form herself?")
    await bot.press(SLT, bot.last(SLT), "Send")
    question = last_with(bot, OFFICE, "whose form you recorded")
    await bot.press(OFFICE, question, "Answer")
    await bot.press(OFFICE, bot.last(OFFICE), "Cancel")
    await bot.press(OFFICE, question, "Answer")
    await bot.say(OFFICE, "Yes, in the office")
    await bot.press(SLT2, last_with(bot, SLT2, "Parents' group application #2"), "Reject")
    await bot.press(SLT2, last_with(bot, SLT2, "Parents' group application #2"), "Yes, reject")  # Reject asks once more
    await bot.say(SLT2, "Not known to the school")
    await bot.press(SLT2, bot.last(SLT2), "Cancel")
    await bot.press(SLT2, bot.last(SLT2), "Skip")
    await bot.say(OFFICE, "/pending")
    await bot.say(OFFICE, "/application 1")

    # A lookup whose reply Telegram keeps failing: the failure is logged (ids only).
    bot.emu.fail_next("sendMessage", 500, "Internal Server Error", count=6)
    await bot.say(ADMIN, "/consent Amelia Smith")
    await bot.say(HEAD, "/export")
    await bot.say(HEAD, "/audit")
    await bot.say(HEAD, "/bans")


# ---- the tests --------------------------------------------------------------------------------------


async def test_every_role_gets_only_what_it_may_from_every_command_and_button(
    production_logging: Path, school: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    bot = school
    await use_the_bot_as_everyone_does(bot)
    pupils = pupil_names(bot)
    assert names_in(pupils, [p for m in bot.emu.messages_to(HEAD) for p in shown(m)]), "leaders do see pupils"

    # Every command and every button pattern the bot has is tried.
    commands = commands_of(bot)
    missing_args = commands - ARGS.keys()
    assert not missing_args, f"give these commands plausible arguments in ARGS: {missing_args}"
    buttons = [*emitted_buttons(bot), *PAGE_BUTTONS]
    untried = {p for p in button_patterns(bot) if not any(re.match(p, data) for data in buttons)}
    assert not untried, f"the scenario never made the bot emit these buttons: {untried}"

    for tester, role in TESTERS.items():
        seen: list[str] = []  # everything the tester's phone showed
        invocations = [(c, ARGS[c].format(me=tester), permission_of(bot, c)) for c in sorted(commands)]
        invocations += [(c, args, permission) for c, (args, permission) in EXTRA_INVOCATIONS.items()]
        for command, args, permission in invocations:
            forget_strangers(bot)  # one refusal per stranger per window: each attempt here is the first
            before, audited = State.of(bot), len(bot.audit())
            mark = bot.emu.mark()
            replies = await bot.say(tester, f"/{command} {args}".strip())
            await bot.say(tester, "/cancel")  # leave any flow the command started
            seen += [p for m in bot.emu.since(mark, tester) for p in shown(m)]
            changed = State.of(bot).changes(before) - ALLOWED[tester]
            assert not changed, f"{tester} /{command} {args} changed {changed}"
            refused = [e for e in bot.audit()[audited:] if e.actor_id == tester and e.outcome.startswith("refused")]
            if role is None or (permission is not None and not allows(role, permission)):
                assert refused, f"{tester} /{command} {args}: refusal not audited"
                assert replies and all(_is_refusal(m) for m in replies), f"{tester} /{command}: {[m.plain for m in replies]}"
            elif command not in ("cancel", "start", "help"):
                assert replies and not any(_is_refusal(m) for m in replies), f"{tester} /{command} {args} was refused"

        for send in MESSAGES:
            forget_strangers(bot)
            before, audited = State.of(bot), len(bot.audit())
            mark = bot.emu.mark()
            send(bot.emu, tester)
            await bot.settle()
            seen += [p for m in bot.emu.since(mark, tester) for p in shown(m)]
            changed = State.of(bot).changes(before) - ALLOWED[tester]
            assert not changed, f"{tester} sending a message changed {changed}"
            if role is None:
                assert [e for e in bot.audit()[audited:] if e.actor_id == tester and e.outcome.startswith("refused")]

        own = bot.last(tester)
        for data in [*buttons, pack("acc", "ok", tester, "admin"), pack("acc", "ok", tester, "head")]:
            forget_strangers(bot)
            before, audited = State.of(bot), len(bot.audit())
            mark = bot.emu.mark()
            answer = await bot.press(tester, own, data=data)
            seen += [(answer or {}).get("text") or "", *(p for m in bot.emu.since(mark, tester) for p in shown(m))]
            changed = State.of(bot).changes(before) - ALLOWED[tester]
            assert not changed, f"{tester} pressing {data} changed {changed}"
            refused = [e for e in bot.audit()[audited:] if e.actor_id == tester and e.outcome.startswith("refused")]
            said = (answer or {}).get("text") or ""
            if role is None and data != pack("acc", "req"):  # asking for access is what a stranger may do
                assert refused, f"the stranger pressing {data} was not refused and audited: {said!r}"
            if said.startswith("Sorry"):
                assert refused, f"{tester} pressing {data}: refusal not audited"
            await bot.say(tester, "/cancel")
            own = bot.last(tester)
        if role is None:
            seen += [p for m in bot.emu.messages_to(tester) for p in shown(m)]
            assert not names_in(pupils, seen), f"the stranger saw pupil names: {names_in(pupils, seen)}"

    # The stranger could only ask for access; nobody else got a role or a decision.
    assert bot.services.staff.role_of(STRANGER) is None and bot.services.staff.pending_request(STRANGER) is not None
    assert bot.services.staff.pending_request(STRANGER2) is not None
    assert bot.services.application_desk.get(1).decided_by == 0

    # Nothing reached a group chat, and the log holds no pupil name and never the token.
    assert not [m for m in bot.emu.all_messages if m.chat_id < 0]
    logged = production_logging.read_text(encoding="utf-8")
    failure = f"from user {ADMIN} in chat {ADMIN} failed: NetworkError"
    assert failure in logged and failure in caplog.text, "the failed lookup was logged, in the file and as a record"
    for text, where in ((logged, "the log file"), (caplog.text, "the log records")):
        assert TOKEN not in text, f"the token is in {where}"
        assert not names_in(pupils, [text]), f"pupil names in {where}: {names_in(pupils, [text])}"


def _is_refusal(message: SentMessage) -> bool:
    return bool(re.search(r"only for staff|Sorry, only|only do that in a private chat", message.plain))


async def test_pupil_data_never_reaches_a_group_chat(school: BotHarness) -> None:
    """Every command, a captioned photo and a register file, by leaders, staff and a stranger, in a
    staff group and in the parents' group: nothing at all is said there (no pupil, no role)."""
    bot = school
    await use_the_bot_as_everyone_does(bot)
    pupils = pupil_names(bot)
    commands = sorted(commands_of(bot))
    before = State.of(bot)
    for chat in (STAFF_ROOM, GROUP):
        for user in (HEAD, ADMIN, OFFICE, STRANGER):
            for command in commands:
                await bot.say(user, f"/{command} {ARGS[command].format(me=user)}".strip(), chat_id=chat)
            await bot.say(user, "Amelia Smith", chat_id=chat)
            bot.emu.send_photo(
                user, b"\xff\xd8\xff\xe0 class photo \xff\xd9", caption="Amelia Smith\nNoah Williams", chat_id=chat
            )
            bot.emu.send_photo(
                user,
                b"\xff\xd8\xff\xe0 screenshot \xff\xd9",
                chat_id=chat,
                forward_origin={"type": "hidden_user", "sender_user_name": "A parent"},
            )
            bot.emu.send_document(user, CHANGED_REGISTER.encode(), "register.csv", "text/csv", chat_id=chat)
            await bot.settle()
        # Nothing is said in a group, not even to the Head: no role shows there, and no message there
        # carries a button anyone could press.
        assert bot.emu.messages_to(chat) == [], "nothing is said in a group chat"
    in_groups = [m for m in bot.emu.all_messages if m.chat_id < 0]
    leaked = names_in(pupils, [piece for m in in_groups for piece in shown(m)])
    assert not leaked, f"pupil names in a group chat: {leaked}"
    assert not [m for m in in_groups if m.photo or m.document], "no photo or file goes to a group"
    assert State.of(bot).changes(before) == set(), "nothing done in a group chat changes anything"
    assert all(not re.search(r"\d+ pupils?|on roll", m.plain) for m in in_groups), "not even a count"


async def test_a_parent_asking_to_join_cannot_probe_the_register(school: BotHarness) -> None:
    """A join requester is a stranger: what the bot says back is the same whether or not the name
    they type is a pupil's, and never names a pupil."""
    bot = school
    bot.emu.add_user(PARENT + 1, "Robin", "Other", started=False)
    answers = []
    for parent, typed in ((PARENT, "Amelia Smith"), (PARENT + 1, "Nobody Atall")):
        bot.emu.join_request(parent, GROUP)
        await bot.settle()
        [reply] = await bot.say(parent, typed)
        again = await bot.say(parent, "Noah Williams")  # more names, while the conduct question waits
        answers.append((reply.plain, [label for label, _ in reply.buttons], [m.plain for m in again]))
    assert answers[0] == answers[1]
    pupils = pupil_names(bot)
    told = [piece for parent in (PARENT, PARENT + 1) for m in bot.emu.messages_to(parent) for piece in shown(m)]
    assert not names_in(pupils, told)

"""The demo: the whole bot on this machine, no Telegram and no token.

It starts the local Bot API emulator (the ``emulator`` package, which needs the ``demo``
extra), the real bot against it with a temporary data folder seeded with sample staff and
pupils, and a terminal chat in which you act as any role. When standard input is not a
terminal it reads lines, prints the replies and exits at the end of input, so
`printf '/as admin\\n/help\\n' | python -m bot demo` works.

The demo keeps its own clock, standing still at a school Monday morning until `/advance 30m` or
`/at 08:30` moves it (bot.shell.demo_clock): everything the bot sends on the way, to anyone, is
printed with the demo time, so a whole day (nudge, alerts, re-pings, deadline, digest) reads in a minute.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from bot.clock import FakeClock, show_clock, show_day, show_time
from bot.config import Config, parse_config
from bot.moderation.results import FINE
from bot.numbers import parse_number
from bot.shell.demo_clock import ADVANCE_USAGE, AT_USAGE, TimeMachine, next_occurrence, parse_clock, parse_span
from emulator import BotApiEmulator, SentMessage, settle

DEMO_TOKEN = "100000001:demo-token-local-emulator-only"


@dataclass(frozen=True)
class Persona:
    key: str
    user_id: int
    first_name: str
    last_name: str
    role: str


PERSONAS = {
    p.key: p
    for p in (
        Persona("head", 501, "Helen", "Hart", "head"),
        Persona("deputy", 502, "Dev", "Patel", "deputy"),
        Persona("slt", 503, "Sam", "Okafor", "slt"),
        Persona("admin", 504, "Amy", "Brooks", "admin"),
        Persona("office", 505, "Olu", "Adeyemi", "office"),
        Persona("stranger", 599, "Stan", "Jones", "stranger"),
    )
}
PARENT_GROUP = -1001234567890
# The demo's Monday morning (07:00 in London): the week before it is already on record (the bot ran,
# the page was checked every day), so the weekly digest at 07:30 has a week to sum up.
DEMO_START = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)
LAST_WEEK = DEMO_START - timedelta(days=7)

HELP = """Demo commands (anything else is sent to the bot as the current persona; type \\n for a new line):
  /as head|deputy|slt|admin|office|stranger   switch persona
  /press N        press button N of the latest message with buttons
  /press WORDS    press the newest button whose words start so, on any message (/press Facebook)
  /photo CAPTION  send a sample class photo (the caption may list pupils, one per line with \\n)
  /original CAPTION  send the same photo as a file, as the phone keeps it (its location and camera details too)
  /screenshot     forward a sample screenshot of a Facebook comment
  /csv            send this term's consent register (a new pupil, a form returned, a consent withdrawn)
  /join           a parent asks to join the parents' group
  /advance 30m    move the demo's clock on (also 2h, 1d, 1h30m) and show what the bot sends meanwhile, to anyone
  /at 08:30       move the clock on to the next 08:30 (school time), the same way
  /now            the demo's date and time (it stands still until you move it)
  /who            list personas;  /quit  leave"""

SAMPLE_REGISTER = """\
pupil_id,first_name,last_name,preferred_name,class,consent_page,consent_group,consent_press,form_date,expires,withdrawn
P001,Amelia,Smith,,Year 3,yes,yes,no,2025-09-05,,
P002,Zoë,O'Brien,Zoe,Year 4,yes,yes,yes,2025-09-05,2027-07-31,
P003,Oliver,Smith-Jones,Ollie,Year 3,no,yes,no,2025-09-06,,
P004,Noah,Williams,,Year 5,yes,yes,yes,2025-09-05,,2026-10-01
P005,Isla,Brown,,Year 6,yes,no,no,2024-09-05,2025-07-31,
P006,Amelia,Jones,Millie,Year 1,yes,yes,yes,2025-09-08,,
"""
# The register a term later, sent by /csv, so its preview and the withdrawal notice have something to show:
# Ollie's parents now allow the page, Millie's withdraw press photos, and Freya joins Year 1.
UPDATED_REGISTER = (
    SAMPLE_REGISTER.replace(
        "P003,Oliver,Smith-Jones,Ollie,Year 3,no,yes,no,2025-09-06,,",
        "P003,Oliver,Smith-Jones,Ollie,Year 3,yes,yes,no,2026-11-20,,",
    ).replace(
        "P006,Amelia,Jones,Millie,Year 1,yes,yes,yes,2025-09-08,,",
        "P006,Amelia,Jones,Millie,Year 1,yes,yes,no,2026-11-23,,",
    )
    + "P007,Freya,Taylor,,Year 1,yes,yes,yes,2026-11-24,,\n"
)
# A class photo for /photo and /original: six faces (scikit-image's astronaut.png, NASA, public domain),
# a certificate naming a pupil, and a phone's location and camera details (tests/photo_samples.py).
SAMPLE_PHOTO = Path(__file__).resolve().parent.parent / "data" / "sample_class_photo.jpg"


def compressed(original: bytes) -> bytes:
    """The photo as Telegram delivers one sent compressed: the same picture, none of its metadata."""
    from bot.photos.metadata import clean_copy
    from bot.photos.picture import open_picture

    return clean_copy(open_picture(original))[0]


# A tiny valid PNG (1x1) standing in for a screenshot.
SAMPLE_IMAGE = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8ffff3f0005fe02fea7d6a0"
    "f90000000049454e44ae426082"
)


def demo_config(data_dir: Path, emu: BotApiEmulator) -> Config:
    ids = {p.role: p.user_id for p in PERSONAS.values()}
    raw = {
        "telegram": {"token": DEMO_TOKEN, "base_url": emu.base_url, "base_file_url": emu.base_file_url},
        "school": {"name": "Demo Primary School", "timezone": "Europe/London"},
        "roles": {
            "head": [ids["head"]],
            "deputy": [ids["deputy"]],
            "slt": [ids["slt"]],
            "admins": [ids["admin"]],
            "office": [ids["office"]],
        },
        "storage": {"data_dir": str(data_dir)},
        "applications": {"group_chat_id": PARENT_GROUP},
    }
    return parse_config(raw, data_dir.parent, env={})


class TerminalChat:
    """Reads what you type, sends it as the current persona, prints what the bot sent."""

    def __init__(self, emu: BotApiEmulator, app: Any, out: TextIO, clock: FakeClock) -> None:
        self.emu = emu
        self.app = app
        self.out = out
        self.clock = clock
        self.tz: ZoneInfo = app.bot_data["runtime"].services.config.school.timezone
        self.persona = PERSONAS["admin"]
        self.time_machine = TimeMachine(clock, app.bot_data["runtime"].ticker, self._after_step)
        # What has been printed so far: new messages after `printed`, and each message's edits up to its version.
        self.printed = 0
        self.versions: dict[int, int] = {}

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def button_to_press(self, me: int, typed: str) -> tuple[Any, int] | None:
        """`/press N`: button N of the newest message with buttons; `/press WORDS`: the newest button whose
        label starts with those words, on any message (a photo's destination question under its preview)."""
        with_buttons = [m for m in reversed(self.emu.messages_to(me)) if m.buttons]
        if not with_buttons:
            self.say("Nothing to press: no message to you has buttons.")
            return None
        newest = with_buttons[0]
        number = parse_number(typed, maximum=len(newest.buttons))
        if number is not None:
            return newest, number - 1
        wanted = typed.strip().casefold()
        for message in with_buttons if wanted else ():
            for index, (label, _) in enumerate(message.buttons):
                if label.casefold().startswith(wanted):
                    return message, index
        self.say(
            f"Give the number shown beside a button, from 1 to {len(newest.buttons)} (e.g. /press 1), "
            "or the start of a button's words on any message (e.g. /press Facebook)."
        )
        return None

    async def handle(self, line: str) -> bool:
        """Act on one typed line; False means leave."""
        line = line.strip()
        if not line:
            return True
        word, _, rest = line.partition(" ")
        me = self.persona.user_id
        if word == "/quit":
            return False
        if word in ("/demo", "/?"):
            self.say(HELP)
            return True
        if word == "/who":
            self.say("\n".join(f"  {p.key:9} {p.first_name} {p.last_name} (id {p.user_id})" for p in PERSONAS.values()))
            return True
        if word == "/now":
            self.say(f"— It is {self.now_text()} ({self.tz.key}) in the demo.")
            return True
        if word in ("/advance", "/at"):
            await self.travel(word, rest)
            return True
        if word == "/as":
            persona = PERSONAS.get(rest.strip().lower())
            if persona is None:
                self.say(f"No such persona. Choose one of: {', '.join(PERSONAS)}")
            else:
                self.persona = persona
                self.say(f"— You are now {persona.first_name} {persona.last_name} ({persona.role}).")
            return True
        if word == "/press":
            found = self.button_to_press(me, rest)
            if found is None:
                return True
            message, index = found
            query = self.emu.press(me, message, button=index)
            await settle(self.app, self.emu)
            answer = self.emu.callback_answer(query)
            if answer and answer.get("text"):
                self.say(f"  (pop-up) {answer['text']}")
            self.print_changes()
            return True
        elif word == "/photo":  # compressed, as Telegram sends it: no location or camera details left
            self.emu.send_photo(me, compressed(SAMPLE_PHOTO.read_bytes()), caption=rest.replace("\\n", "\n") or None)
        elif word == "/original":
            caption = rest.replace("\\n", "\n") or None
            self.emu.send_document(me, SAMPLE_PHOTO.read_bytes(), "IMG_2041.jpg", "image/jpeg", caption=caption)
        elif word == "/screenshot":
            self.emu.send_photo(me, SAMPLE_IMAGE, forward_origin={"type": "hidden_user", "sender_user_name": "Facebook comment"})
        elif word == "/csv":
            self.emu.send_document(me, UPDATED_REGISTER.encode(), "register.csv", "text/csv", caption="/import")
        elif word == "/join":
            self.emu.join_request(me, PARENT_GROUP)
        else:
            self.emu.send_text(me, line.replace("\\n", "\n"))
        await settle(self.app, self.emu)
        self.print_changes()
        return True

    def now_text(self) -> str:
        now = self.clock.now()
        return f"{show_day(now.astimezone(self.tz).date())} {show_clock(now, self.tz)}"

    async def travel(self, word: str, rest: str) -> None:
        """/advance SPAN or /at HH:MM: move the demo's clock on, printing what the bot sends meanwhile."""
        now = self.clock.now()
        if word == "/advance":
            span = parse_span(rest)
            target = now + span if span else None
            usage = ADVANCE_USAGE
        else:
            at = parse_clock(rest)
            target = next_occurrence(now, at, self.tz) if at else None
            usage = AT_USAGE
        if target is None:
            self.say(f"{usage} Nothing changed: it is still {self.now_text()}.")
            return
        self.print_changes()  # anything sent before the clock moves belongs to the time it was sent
        self.say(f"— Moving the clock on from {show_time(now, self.tz)} to {show_time(target, self.tz)} …")
        await self.time_machine.travel_to(target)
        self.say(f"— It is now {self.now_text()}.")

    async def _after_step(self, moment: datetime) -> None:
        """After each tick of a time jump: wait for the bot, then print what it sent, marked with the demo time."""
        await settle(self.app, self.emu)
        self.print_changes(at=moment)

    def print_changes(self, at: datetime | None = None) -> None:
        """Everything the bot sent or edited since the last print, to anyone; `at` labels each with the demo time."""
        messages = self.emu.all_messages
        fresh = messages[self.printed :]
        edited = [m for m in messages[: self.printed] if len(m.history) > self.versions.get(id(m), 0)]
        self.printed = len(messages)
        self.versions.update({id(m): len(m.history) for m in edited + fresh})
        stamp = f"[{show_time(at, self.tz)}] " if at else ""
        for message in edited + fresh:
            self.say(stamp + render(message, None if at else self.persona.user_id, self.emu))


def render(message: SentMessage, viewer: int | None, emu: BotApiEmulator) -> str:
    """One bot message as text, with numbered buttons; messages to others (to anyone when `viewer` is None) are labelled."""
    who = "" if message.chat_id == viewer else f"  ↳ to {chat_name(message.chat_id)}: "
    photo = f"[photo, {size_text(len(emu.files.get(message.photo, b'')))}] " if message.photo else ""
    document = ""
    if message.document:
        name = message.document.get("file_name", "document")
        document = f"[file {name}, {size_text(message.document.get('file_size', 0))}] "
    edited = "(edited) " if message.history else ""
    lines = [f"{who}{edited}{photo}{document}bot> " + message.plain.replace("\n", "\n     ")]
    if message.buttons:
        lines.append("     " + "  ".join(f"[{n}] {text}" for n, (text, _) in enumerate(message.buttons, 1)))
    return "\n".join(lines)


def chat_name(chat_id: int) -> str:
    """The persona a private chat belongs to, or the parents' group, as `/as` names them."""
    if chat_id == PARENT_GROUP:
        return "parents' group"
    owner = next((p for p in PERSONAS.values() if p.user_id == chat_id), None)
    return owner.key if owner else str(chat_id)


def size_text(size: int) -> str:
    return f"{size} bytes" if size < 1024 else f"{size / 1024:.1f} KB"


async def _run(lines: TextIO, out: TextIO, interactive: bool) -> int:
    emu = BotApiEmulator(token=DEMO_TOKEN)
    await emu.start()
    for persona in PERSONAS.values():
        emu.add_user(persona.user_id, persona.first_name, persona.last_name)
    emu.add_group(PARENT_GROUP, "Demo Primary parents", bot_is_admin=True)
    folder = Path(tempfile.mkdtemp(prefix="school-bot-demo-"))
    from bot.shell.app import build_application, start, stop

    clock = FakeClock(LAST_WEEK)
    app = build_application(demo_config(folder / "data", emu), clock)
    seed_demo_data(app, clock)
    chat = TerminalChat(emu, app, out, clock)
    try:
        await start(app)
        await settle(app, emu)
        chat.print_changes()
        chat.say("School social-media assistant — demo (local emulator, no Telegram). Type /demo for help.")
        chat.say(f"— It is {chat.now_text()}; the demo's clock stands still until /advance 30m or /at 08:30 moves it.")
        chat.say(f"— You are {chat.persona.first_name} {chat.persona.last_name} ({chat.persona.role}).")
        loop = asyncio.get_running_loop()
        while True:
            if interactive:
                line = await loop.run_in_executor(None, input, f"{chat.persona.key}> ")
            else:
                line = await loop.run_in_executor(None, lines.readline)
                if not line:
                    break
                chat.say(f"{chat.persona.key}> {line.rstrip()}")
            if not await chat.handle(line):
                break
    except (EOFError, KeyboardInterrupt):
        pass
    finally:
        await stop(app)
        await emu.stop()
        shutil.rmtree(folder, ignore_errors=True)
    return 0


def seed_demo_data(app: Any, clock: FakeClock) -> None:
    """Staff names, sample pupils and last week's page checks, so lists read naturally, a consent check
    works straight away and Monday's digest has a week to sum up; the clock ends at DEMO_START."""
    from bot.register import PendingImport

    services = app.bot_data["runtime"].services
    for persona in PERSONAS.values():  # as if everyone had already said hello to the bot
        services.staff.remember_name(persona.user_id, f"{persona.first_name} {persona.last_name}")
    register = services.register
    parsed, preview = register.prepare_import(0, SAMPLE_REGISTER.encode())
    assert preview is not None
    register.commit_import(0, PendingImport(parsed, preview))
    moderation = services.moderation_duty
    for n in range(7):  # every day of last week (the page is moderated daily), each checked at 09:10
        clock.set(LAST_WEEK + timedelta(days=n, hours=2, minutes=10))
        moderation.check(PERSONAS["admin"].user_id, moderation.today(), FINE)
    clock.set(DEMO_START)


def run_demo() -> int:
    return asyncio.run(_run(sys.stdin, sys.stdout, sys.stdin.isatty()))

"""A realistic school year of data for the benchmark: pupils, audit entries and the capabilities' records."""

from __future__ import annotations

import asyncio
import random
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from telegram import Update

from bot.records.audit import AuditEntry
from storage.atomic import ensure_private_dir

FIRST = [
    "Amelia",
    "Olivia",
    "Isla",
    "Ava",
    "Mia",
    "Zoë",
    "Noah",
    "Oliver",
    "George",
    "Leo",
    "Chloé",
    "Aoife",
    "Seán",
    "Muhammad",
    "Freya",
    "Jack",
    "Harry",
    "Ivy",
    "Grace",
    "Theo",
    "Aisha",
    "Yusuf",
    "Ewan",
    "Niamh",
]
LAST = [
    "Smith",
    "Jones",
    "O'Brien",
    "Smith-Jones",
    "Williams",
    "Brown",
    "Taylor",
    "Davies",
    "Évans",
    "Wilson",
    "Patel",
    "Khan",
    "Nowak",
    "McDonald",
    "O'Neill",
    "Fitz-Gerald",
    "Murphy",
    "Clarke",
    "Hughes",
    "Walker",
]
HEADER = (
    "pupil_id,first_name,last_name,preferred_name,class,consent_page,consent_group,consent_press,form_date,expires,withdrawn\n"
)


def register_csv(pupils: int, seed: int = 1) -> str:
    rng = random.Random(seed)
    rows = [HEADER]
    for n in range(pupils):
        yes = lambda: rng.choice(["yes", "yes", "yes", "no"])  # noqa: E731
        withdrawn = "2026-10-01" if rng.random() < 0.02 else ""
        rows.append(
            f"P{n:05d},{rng.choice(FIRST)},{rng.choice(LAST)},,Year {rng.randint(1, 6)},{yes()},{yes()},{yes()},"
            f"2025-09-0{rng.randint(1, 9)},,{withdrawn}\n"
        )
    return "".join(rows)


def write_audit(folder: Path, entries: int, end: datetime, seed: int = 2) -> None:
    """A year of audit entries, written straight to the month files (as the bot would have appended them)."""
    rng = random.Random(seed)
    ensure_private_dir(folder)
    actions = ["consent lookup", "photo check", "draft check", "grant", "incident logged", "nudge answered"]
    by_month: dict[str, list[str]] = {}
    step = timedelta(days=365) / entries
    for n in range(entries):
        at = end - timedelta(days=365) + step * n
        entry = AuditEntry(at, 13, "admin", rng.choice(actions), f"P{rng.randint(0, 1999):05d}")
        by_month.setdefault(at.strftime("%Y-%m"), []).append(entry.to_json())
    for month, lines in by_month.items():
        with open(folder / f"audit-{month}.jsonl", "a", encoding="utf-8") as file:
            file.write("\n".join(lines) + "\n")


class Driver:
    """Acts as staff against an in-process Application: each update is handled, then its messages sent."""

    def __init__(self, app: Any, emu: Any) -> None:
        self.app = app
        self.emu = emu
        self.runtime = app.bot_data["runtime"]

    async def handle(self) -> list[float]:
        """Handle every queued update; return how long each took (ms), replies and outbox included."""
        samples = []
        for raw in self.emu.take_updates():
            started = time.perf_counter()
            await self.app.process_update(Update.de_json(raw, self.app.bot))
            while self.runtime.delivery.busy:
                await asyncio.sleep(0)
            samples.append((time.perf_counter() - started) * 1000)
        return samples

    async def say(self, user: int, text: str) -> list[float]:
        self.emu.send_text(user, text)
        return await self.handle()

    async def press(self, user: int, message: Any, label: str) -> list[float]:
        self.emu.press(user, message, label)
        return await self.handle()

    async def tick(self) -> None:
        await self.runtime.ticker.tick()
        while self.runtime.delivery.busy:
            await asyncio.sleep(0)

    async def log_incident(self, user: int, category_label: str, shot: int) -> list[float]:
        """/log, a screenshot, Done, a category, Skip, Confirm: the steps an admin takes."""
        samples = await self.say(user, "/log")
        self.emu.send_photo(user, b"\xff\xd8 screenshot %d \xff\xd9" % shot)
        samples += await self.handle()
        step = self.emu.last_to(user)
        for label in ("Done", category_label, "Skip", "Confirm"):
            samples += await self.press(user, step, label)
        return samples

    async def record_application(self, user: int, parent: str, child: str) -> None:
        """/apply as the office records a paper form (the child is flagged if not matched)."""
        await self.say(user, "/apply")
        await self.say(user, parent)
        await self.press(user, self.emu.last_to(user), "Mother")
        await self.say(user, child)
        matches = self.emu.last_to(user)
        labels = [label for label, _ in matches.buttons]
        await self.press(user, matches, labels[0])
        for label in ("That's all", "Yes, signed"):
            await self.press(user, self.emu.last_to(user), label)
        await self.say(user, "F-1")
        await self.press(user, self.emu.last_to(user), "Skip")
        await self.press(user, self.emu.last_to(user), "Submit")


def spread(total: int, days: int, day: int) -> int:
    """How many of `total` events fall on `day` when spread evenly over `days`."""
    return total * (day + 1) // days - total * day // days


async def live_a_year(data_dir: Path, config: Any, now: datetime, sizes: dict[str, int], people: dict[str, int]) -> None:
    """Run the bot through a school year on a test clock: nudges answered, incidents, applications."""
    from bot.clock import FakeClock, local_moment
    from bot.shell.app import build_application, start, stop
    from emulator import BotApiEmulator, InProcessRequest

    emu = BotApiEmulator(token=config.telegram.token)
    for user in people.values():
        emu.add_user(user, f"User{user}", "Staff")
    tz = config.school.timezone
    clock = FakeClock(now - timedelta(days=sizes["days of nudges"]))
    app = build_application(
        config, clock, autotick=False, request=InProcessRequest(emu), get_updates_request=InProcessRequest(emu)
    )
    await start(app, poll=False)
    driver = Driver(app, emu)
    pupils = app.bot_data["runtime"].services.consents.index().pupils
    admin, head, slt, office = people["admin"], people["head"], people["slt"], people["office"]
    days = sizes["days of nudges"]
    shot = 0
    for n in range(days):
        day = (clock.now() + timedelta(days=1)).astimezone(tz).date() if n else clock.now().astimezone(tz).date()
        clock.set(local_moment(day, config.moderation.nudge_time, tz) + timedelta(minutes=1))
        await driver.tick()
        nudge = emu.last_to(admin)
        if nudge is not None and nudge.buttons and nudge.buttons[0][0] == "Page checked, all fine":
            await driver.press(admin, nudge, "Page checked, all fine")
        for _ in range(spread(sizes["incidents"], days, n)):
            shot += 1
            await driver.log_incident(admin, "Offensive comment (6.1)", shot)
            alert = emu.last_to(head)
            if alert is not None and alert.buttons and alert.buttons[0][0] == "Acknowledge":
                await driver.press(head, alert, "Acknowledge")
        for _ in range(spread(sizes["applications"], days, n)):
            child = pupils[(n * 7 + shot) % len(pupils)]
            await driver.record_application(office, f"Parent {n}", f"{child.first_name} {child.last_name}")
            card = emu.last_to(slt)
            if card is not None and card.buttons and card.buttons[0][0] == "Approve":
                await driver.press(slt, card, "Approve")
        clock.set(local_moment(day, config.moderation.deadline, tz) + timedelta(hours=1))
        await driver.tick()
    await stop(app)


def generate_year(data_dir: Path, config: Any, now: datetime, people: dict[str, int], quick: bool = False) -> dict[str, int]:
    """Fill a data folder with a year of data; returns what was made, for the table's caption."""
    from bot.clock import FakeClock
    from bot.register import PendingImport
    from bot.services import Services

    scale = 10 if quick else 1
    sizes = {
        "pupils": 2_000 // scale,
        "audit entries": 50_000 // scale,
        "incidents": 500 // scale,
        "days of nudges": 365 // scale,
        "applications": 300 // scale,
    }
    services = Services.open(config, FakeClock(now))
    try:
        register = services.register
        parsed, preview = register.prepare_import(0, register_csv(sizes["pupils"]).encode())
        assert preview is not None, parsed.fatal
        register.commit_import(0, PendingImport(parsed, preview))
    finally:
        services.close()
    asyncio.run(live_a_year(data_dir, config, now, sizes, people))
    audit = data_dir / "audit"
    made = sum(len(p.read_text().splitlines()) for p in audit.glob("audit-*.jsonl"))
    write_audit(audit, max(sizes["audit entries"] - made, 0), now)
    return sizes

"""Benchmark the whole bot on a realistic year of data and print a table (issue 7).

It drives the real Application in-process (the emulator answers Bot API calls without
HTTP), so the numbers are the bot's own work: parsing an update, checking the role,
the domain call, the storage write, rendering the reply. A bare python-telegram-bot
echo handler runs in the same way in the same run as the yardstick.

    python scripts/bench_bot.py            # full: 2,000 pupils, 50,000 audit entries...
    python scripts/bench_bot.py --quick    # smaller, for a smoke run
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from telegram import Update  # noqa: E402
from telegram.ext import ApplicationBuilder, MessageHandler, filters  # noqa: E402

from bot.clock import FakeClock  # noqa: E402
from bot.config import parse_config  # noqa: E402
from bot.records.audit import AuditEntry  # noqa: E402
from bot.shell.app import build_application, start, stop  # noqa: E402
from emulator import BotApiEmulator, InProcessRequest  # noqa: E402
from scripts.year_of_data import Driver, generate_year  # noqa: E402
from storage.audit import AuditLog  # noqa: E402

TOKEN = "100000001:bench-token-in-process-only"
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
PEOPLE = {"head": 11, "slt": 12, "admin": 13, "office": 14}
HEAD, SLT, ADMIN, OFFICE = PEOPLE["head"], PEOPLE["slt"], PEOPLE["admin"], PEOPLE["office"]


def config_for(data_dir: Path) -> Any:
    raw = {
        "telegram": {"token": TOKEN},
        "school": {"name": "Benchmark Primary", "timezone": "Europe/London"},
        "roles": {"head": [HEAD], "slt": [SLT], "admins": [ADMIN], "office": [OFFICE]},
        "storage": {"data_dir": str(data_dir)},
    }
    return parse_config(raw, data_dir.parent, env={})


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def bare_echo(emu: BotApiEmulator, rounds: int) -> list[float]:
    """The yardstick: a python-telegram-bot Application whose only handler echoes the text."""

    async def echo(update: Update, context: Any) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(update.effective_message.text or "")

    app = ApplicationBuilder().token(TOKEN).request(InProcessRequest(emu)).get_updates_request(InProcessRequest(emu)).build()
    app.add_handler(MessageHandler(filters.TEXT, echo))
    app.bot_data["runtime"] = _NoOutbox()
    await app.initialize()
    samples = []
    for n in range(rounds):
        samples += await Driver(app, emu).say(ADMIN, f"hello {n}")
    await app.shutdown()
    return samples


class _NoOutbox:
    """The echo bot has no outbox; Driver only asks whether delivery is busy."""

    class delivery:  # lower case: it stands in for the attribute Driver reads
        busy = False


async def bot_workloads(data_dir: Path, rounds: int) -> tuple[dict[str, list[float]], float]:
    emu = BotApiEmulator(token=TOKEN)
    for user in PEOPLE.values():
        emu.add_user(user, f"User{user}", "Bench")
    started = time.perf_counter()
    app = build_application(
        config_for(data_dir),
        FakeClock(NOW),
        autotick=False,
        request=InProcessRequest(emu),
        get_updates_request=InProcessRequest(emu),
    )
    await start(app, poll=False)
    await app.bot_data["runtime"].ticker.tick()
    startup = time.perf_counter() - started

    driver = Driver(app, emu)
    pupils = app.bot_data["runtime"].services.consents.index().pupils
    names = [f"{p.first_name} {p.last_name}" for p in random.Random(7).sample(list(pupils), rounds)]
    post = ("Our Year 4 trip to the museum was brilliant, well done everyone! " * 60)[:4000]
    results: dict[str, list[float]] = {
        "consent lookup": [],
        "photo check": [],
        "draft check": [],
        "incident step": [],
        "button press": [],
    }
    for n, name in enumerate(names):
        results["consent lookup"] += await driver.say(ADMIN, f"/consent {name}")
        emu.send_photo(ADMIN, b"jpeg", caption=f"{name}\nNobody Known")
        results["photo check"] += await driver.handle()
        results["draft check"] += await driver.say(ADMIN, f"/checkpost {post}")
        if n % 6 == 0:  # an incident is six steps
            results["incident step"] += await driver.log_incident(ADMIN, "Offensive comment (6.1)", 10_000 + n)
        await driver.say(ADMIN, "/consent amelia")
        choice = emu.last_to(ADMIN)
        if choice is not None and choice.buttons:
            results["button press"] += await driver.press(ADMIN, choice, choice.buttons[0][0])
    results["bare echo (PTB)"] = await bare_echo(emu, rounds)
    await stop(app)
    return results, startup


def audit_insert_cost(folder: Path, existing: int, inserts: int = 300) -> float:
    """Median cost of one audit append when the log already holds `existing` entries."""
    log = AuditLog(folder)
    line = AuditEntry(NOW, ADMIN, "admin", "consent lookup", "P00001").to_json() + "\n"
    (folder / f"audit-{NOW:%Y-%m}.jsonl").write_text(line * existing)
    samples = []
    for _ in range(inserts):
        start = time.perf_counter()
        log.append(AuditEntry(NOW, ADMIN, "admin", "consent lookup", "P00001"))
        samples.append((time.perf_counter() - start) * 1000)
    log.close()
    return statistics.median(samples)


def peak_memory_mb(data_dir: Path) -> float:
    """Start the bot on the year of data in a fresh process and report its peak resident memory."""
    code = (
        f"import asyncio, resource, sys; sys.path.insert(0, {str(ROOT)!r})\n"
        "from scripts.bench_bot import start_only\n"
        f"asyncio.run(start_only({str(data_dir)!r}))\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    return float(out.stdout.strip().splitlines()[-1])


async def start_only(data_dir: str) -> None:
    emu = BotApiEmulator(token=TOKEN)
    app = build_application(
        config_for(Path(data_dir)),
        FakeClock(NOW),
        autotick=False,
        request=InProcessRequest(emu),
        get_updates_request=InProcessRequest(emu),
    )
    await start(app, poll=False)
    await app.bot_data["runtime"].ticker.tick()
    await stop(app)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a smaller year and fewer rounds")
    args = parser.parse_args()
    rounds = 60 if args.quick else 300
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        began = time.perf_counter()
        sizes = generate_year(data_dir, config_for(data_dir), NOW, PEOPLE, quick=args.quick)
        print(f"A year of data lived through in {time.perf_counter() - began:.0f} s.", file=sys.stderr)
        results, startup = asyncio.run(bot_workloads(data_dir, rounds))
        memory = peak_memory_mb(data_dir)
        small = audit_insert_cost(Path(tmp) / "audit-small", 1_000)
        large = audit_insert_cost(Path(tmp) / "audit-large", 100_000)

    echo = statistics.median(results["bare echo (PTB)"])
    print(f"Data: {', '.join(f'{v:,} {k}' for k, v in sizes.items())}; {rounds} updates per row.\n")
    print("| update | median ms | p99 ms | median / bare echo |")
    print("| --- | ---: | ---: | ---: |")
    for name, samples in results.items():
        median = statistics.median(samples)
        print(f"| {name} | {median:.2f} | {percentile(samples, 0.99):.2f} | {median / echo:.1f}× |")
    print()
    print("| measure | value | target |")
    print("| --- | ---: | --- |")
    print(f"| audit insert with 1,000 entries (median) | {small:.3f} ms | |")
    print(f"| audit insert with 100,000 entries (median) | {large:.3f} ms | |")
    print(f"| insert ratio 100k / 1k | {large / small:.2f} | ≤ 1.5 |")
    print(f"| start-up with a year of data | {startup:.2f} s | < 1.5 s |")
    print(f"| peak memory with a year of data | {memory:.0f} MB | < 150 MB |")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()

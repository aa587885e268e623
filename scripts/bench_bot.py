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
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from telegram import Update  # noqa: E402
from telegram.ext import Application, ApplicationBuilder, MessageHandler, filters  # noqa: E402

from bot.app import build_application, on_start, on_stop  # noqa: E402
from bot.clock import FakeClock  # noqa: E402
from bot.config import parse_config  # noqa: E402
from bot.emulator import BotApiEmulator, InProcessRequest  # noqa: E402
from bot.register import PendingImport, RegisterService  # noqa: E402
from storage.audit import AuditEntry, AuditLog  # noqa: E402
from scripts.year_of_data import generate_year, register_csv  # noqa: E402

TOKEN = "100000001:bench-token-in-process-only"
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
HEAD, SLT, ADMIN, OFFICE = 11, 12, 13, 14


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
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


async def timed(updates: list[dict[str, Any]], app: Application, emu: BotApiEmulator) -> list[float]:  # type: ignore[type-arg]
    """Handle each update as the Application would and time it, including its replies."""
    samples = []
    for raw in updates:
        update = Update.de_json(raw, app.bot)
        start = time.perf_counter()
        await app.process_update(update)
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def one_update(emu: BotApiEmulator, act: Callable[[], Any]) -> dict[str, Any]:
    act()
    [update] = emu.take_updates()
    return update


async def bare_echo(emu: BotApiEmulator, rounds: int) -> list[float]:
    """The yardstick: a python-telegram-bot Application whose only handler echoes the text."""

    async def echo(update: Update, context: Any) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(update.effective_message.text or "")

    app = ApplicationBuilder().token(TOKEN).request(InProcessRequest(emu)).get_updates_request(InProcessRequest(emu)).build()
    app.add_handler(MessageHandler(filters.TEXT, echo))
    await app.initialize()
    updates = [one_update(emu, lambda: emu.send_text(ADMIN, f"hello {n}")) for n in range(rounds)]
    samples = await timed(updates, app, emu)
    await app.shutdown()
    return samples


async def bot_workloads(data_dir: Path, rounds: int) -> tuple[dict[str, list[float]], float]:
    emu = BotApiEmulator(token=TOKEN)
    for user in (HEAD, SLT, ADMIN, OFFICE):
        emu.add_user(user, f"User{user}", "Bench")
    clock = FakeClock(NOW)
    started = time.perf_counter()
    app = build_application(config_for(data_dir), clock, autotick=False, request=InProcessRequest(emu), get_updates_request=InProcessRequest(emu))
    await app.initialize()
    await on_start(app)
    await app.bot_data["runtime"].ticker.tick()
    startup = time.perf_counter() - started

    pupils = app.bot_data["runtime"].services.consents.index().pupils
    rng = random.Random(7)
    names = [f"{p.first_name} {p.last_name}" for p in rng.sample(list(pupils), rounds)]
    results: dict[str, list[float]] = {}
    results["consent lookup"] = await timed(
        [one_update(emu, lambda n=n: emu.send_text(ADMIN, f"/consent {n}")) for n in names], app, emu
    )
    results["photo check"] = await timed(
        [one_update(emu, lambda n=n: emu.send_photo(ADMIN, b"jpeg", caption=f"{n}\nNobody Known")) for n in names], app, emu
    )
    post = ("Our Year 4 trip to the museum was brilliant, well done everyone! " * 60)[:4000]
    results["draft check"] = await timed(
        [one_update(emu, lambda: emu.send_text(ADMIN, f"/checkpost {post}")) for _ in range(rounds)], app, emu
    )
    presses = []
    for n in range(rounds):
        emu.send_text(ADMIN, "/consent amelia")
        [request] = emu.take_updates()
        await app.process_update(Update.de_json(request, app.bot))
        card = emu.last_to(ADMIN)
        presses.append(one_update(emu, lambda card=card: emu.press(ADMIN, card, 0)))
    results["button press"] = await timed(presses, app, emu)
    for name, workload in extra_workloads().items():
        results[name] = await workload(app, emu, rounds)
    results["bare echo (PTB)"] = await bare_echo(emu, rounds)
    await app.shutdown()
    await on_stop(app)
    return results, startup


def extra_workloads() -> dict[str, Callable[[Application, BotApiEmulator, int], Awaitable[list[float]]]]:  # type: ignore[type-arg]
    """Workloads of capabilities that register themselves in scripts/year_of_data.py."""
    from scripts.year_of_data import WORKLOADS

    return WORKLOADS


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
        "import asyncio, resource, sys; sys.path.insert(0, %r)\n"
        "from scripts.bench_bot import start_only\n"
        "asyncio.run(start_only(%r))\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)\n"
    ) % (str(ROOT), str(data_dir))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    return float(out.stdout.strip().splitlines()[-1])


async def start_only(data_dir: str) -> None:
    emu = BotApiEmulator(token=TOKEN)
    app = build_application(config_for(Path(data_dir)), FakeClock(NOW), autotick=False, request=InProcessRequest(emu), get_updates_request=InProcessRequest(emu))
    await app.initialize()
    await on_start(app)
    await app.bot_data["runtime"].ticker.tick()
    await app.shutdown()
    await on_stop(app)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a smaller year and fewer rounds")
    args = parser.parse_args()
    rounds = 60 if args.quick else 300
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        sizes = generate_year(data_dir, config_for(data_dir), NOW, quick=args.quick)
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

"""Benchmark /audit and the weekly digest's read with up to a million audit entries; print a table.

The audit log is append-only JSON lines, one file a month. A page is read backwards from
the end of the log in blocks, so it should cost the same with a million entries as with a
thousand; the digest bisects a month file to its week and reads only that week. The whole
bot runs in-process (the emulator answers Bot API calls without HTTP), so a "page" row is
the real /audit update: role check, read, render, reply, and the audit entry for reading.

    python scripts/bench_audit.py            # 1,000 / 100,000 / 1,000,000 entries
    python scripts/bench_audit.py --quick    # up to 100,000
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.clock import FakeClock  # noqa: E402
from bot.records.audit import AuditEntry  # noqa: E402
from bot.shell.app import build_application, start, stop  # noqa: E402
from emulator import BotApiEmulator, InProcessRequest  # noqa: E402
from scripts.bench_bot import HEAD, NOW, PEOPLE, config_for, percentile  # noqa: E402
from scripts.year_of_data import Driver  # noqa: E402
from storage.atomic import ensure_private_dir  # noqa: E402
from storage.audit import AuditLog  # noqa: E402

ROUNDS = 40
ACTIONS = ["consent lookup", "photo check", "draft check", "grant", "incident logged", "nudge answered", "read audit log"]


def write_month(folder: Path, entries: int) -> None:
    """`entries` entries over the 30 days before NOW, all in this month's file: the old code read
    that whole file for every page."""
    rng = random.Random(3)
    ensure_private_dir(folder)
    step = timedelta(days=24) / entries  # 1-25 November: one month file
    start = NOW - timedelta(days=24)
    with open(folder / f"audit-{NOW:%Y-%m}.jsonl", "w", encoding="utf-8") as file:
        for chunk in range(0, entries, 10_000):
            lines = [
                AuditEntry(
                    start + step * n,
                    13,
                    "admin",
                    rng.choice(ACTIONS),
                    f"P{rng.randint(0, 1999):05d}",
                    detail="pupils P00001; not on register 0",
                ).to_json()
                for n in range(chunk, min(entries, chunk + 10_000))
            ]
            file.write("\n".join(lines) + "\n")


def whole_month_page(folder: Path, size: int) -> float:
    """What a page cost before: the month file read whole, then the newest `size` entries parsed."""
    started = time.perf_counter()
    lines = (folder / f"audit-{NOW:%Y-%m}.jsonl").read_text(encoding="utf-8").splitlines()
    [AuditEntry.from_json(line) for line in reversed(lines[-size:])]
    return (time.perf_counter() - started) * 1000


async def audit_pages(data_dir: Path) -> dict[str, list[float]]:
    """/audit, Older › twice a round, and a page from the middle of the log, through the bot."""
    emu = BotApiEmulator(token=config_for(data_dir).telegram.token)
    for user in PEOPLE.values():
        emu.add_user(user, f"User{user}", "Bench")
    app = build_application(
        config_for(data_dir),
        FakeClock(NOW),
        autotick=False,
        request=InProcessRequest(emu),
        get_updates_request=InProcessRequest(emu),
    )
    await start(app, poll=False)
    driver = Driver(app, emu)
    results: dict[str, list[float]] = {"/audit (first page)": [], "Older › (next pages)": [], "a page from the middle": []}
    for _ in range(ROUNDS):
        results["/audit (first page)"] += await driver.say(HEAD, "/audit")
        page = emu.last_to(HEAD)
        for _ in range(2):
            results["Older › (next pages)"] += await driver.press(HEAD, page, "Older ›")
        # A date range starts its first page at the range's end, found by bisecting the month file.
        middle = (NOW - timedelta(days=12)).date()
        results["a page from the middle"] += await driver.say(HEAD, f"/audit from {middle:%d/%m/%Y} to {middle:%d/%m/%Y}")
    await stop(app)
    return results


def storage_page(folder: Path, rounds: int = 200) -> float:
    """The read alone, without the bot around it: the newest page from the end of the log (median ms)."""
    log = AuditLog(folder)
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        log.page_before(log.newest(), 12)
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def digest_read(folder: Path) -> tuple[float, int]:
    """The digest's read: one week, 2-8 November, counted by action."""
    log = AuditLog(folder)
    start = NOW - timedelta(days=23)
    started = time.perf_counter()
    week = log.between(start, start + timedelta(days=7))
    return (time.perf_counter() - started) * 1000, len(week)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="stop at 100,000 entries")
    args = parser.parse_args()
    sizes = [1_000, 100_000] if args.quick else [1_000, 100_000, 1_000_000]
    print(
        "| audit entries | /audit median ms | /audit p99 ms | Older › median ms | middle page median ms "
        "| page read alone ms | whole-month read (before) ms | digest week read ms (entries) |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for size in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            data_dir = Path(tmp) / "data"
            write_month(data_dir / "audit", size)
            before = statistics.median(whole_month_page(data_dir / "audit", 12) for _ in range(3))
            results = asyncio.run(audit_pages(data_dir))
            digest_ms, week = digest_read(data_dir / "audit")
            alone = storage_page(data_dir / "audit")
        first = results["/audit (first page)"]
        print(
            f"| {size:,} | {statistics.median(first):.2f} | {percentile(first, 0.99):.2f} | "
            f"{statistics.median(results['Older › (next pages)']):.2f} | "
            f"{statistics.median(results['a page from the middle']):.2f} | "
            f"{alone:.2f} | {before:.1f} | {digest_ms:.0f} ({week:,}) |"
        )


if __name__ == "__main__":
    main()

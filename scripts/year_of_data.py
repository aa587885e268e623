"""A realistic school year of data for the benchmark: pupils, audit entries and the capabilities' records."""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from storage.atomic import ensure_private_dir
from storage.audit import AuditEntry

FIRST = ["Amelia", "Olivia", "Isla", "Ava", "Mia", "Zoë", "Noah", "Oliver", "George", "Leo", "Chloé", "Aoife",
         "Seán", "Muhammad", "Freya", "Jack", "Harry", "Ivy", "Grace", "Theo", "Aisha", "Yusuf", "Ewan", "Niamh"]
LAST = ["Smith", "Jones", "O'Brien", "Smith-Jones", "Williams", "Brown", "Taylor", "Davies", "Évans", "Wilson",
        "Patel", "Khan", "Nowak", "McDonald", "O'Neill", "Fitz-Gerald", "Murphy", "Clarke", "Hughes", "Walker"]
HEADER = "pupil_id,first_name,last_name,preferred_name,class,consent_page,consent_group,consent_press,form_date,expires,withdrawn\n"

# Extra timed workloads, by row name: async (app, emulator, rounds) -> samples in ms.
WORKLOADS: dict[str, Callable[[Any, Any, int], Awaitable[list[float]]]] = {}


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
        (folder / f"audit-{month}.jsonl").write_text("\n".join(lines) + "\n")


def generate_year(data_dir: Path, config: Any, now: datetime, quick: bool = False) -> dict[str, int]:
    """Fill a data folder with a year of data; returns what was made, for the table's caption."""
    from bot.clock import FakeClock
    from bot.register import PendingImport, RegisterService
    from bot.services import Services

    sizes = {"pupils": 500 if quick else 2_000, "audit entries": 5_000 if quick else 50_000}
    services = Services.open(config, FakeClock(now))
    try:
        register = RegisterService(services)
        parsed, preview = register.prepare_import(0, register_csv(sizes["pupils"]).encode())
        assert preview is not None, parsed.fatal
        register.commit_import(0, PendingImport(parsed, preview))
    finally:
        services.close()
    write_audit(data_dir / "audit", sizes["audit entries"], now)
    return sizes

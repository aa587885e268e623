"""A process that writes as fast as it can and says which writes are confirmed (for the crash test).

It stands for the bot: each line it prints is a write it would confirm to a user.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

from bot.records.audit import AuditEntry
from storage.database import Database


def main(folder: str, start: int) -> None:
    db = Database(Path(folder))
    incidents = db.file("incidents").table("incidents")
    n = start
    while True:
        incidents.insert({"n": n, "note": "x" * (n % 500)})
        db.audit.append(AuditEntry(datetime.now(UTC), 1, "admin", "write", f"n {n}"))
        print(n, flush=True)
        n += 1


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))

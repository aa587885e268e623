"""SIGKILL at random moments: the data always loads and every confirmed write is there."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from storage.database import Database

ROOT = Path(__file__).resolve().parents[1]


def kill_rounds(request: pytest.FixtureRequest) -> int:
    return 200 if request.config.getoption("--long") else 12


def test_killed_writer_never_loses_a_confirmed_write(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    folder = tmp_path / "data"
    rng = random.Random(42)
    confirmed: list[int] = []
    for _ in range(kill_rounds(request)):
        start = (confirmed[-1] + 1) if confirmed else 0
        writer = subprocess.Popen(
            [sys.executable, "-m", "tests.crash_writer", str(folder), str(start)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
        )
        assert writer.stdout is not None
        os.set_blocking(writer.stdout.fileno(), False)
        deadline = time.monotonic() + rng.uniform(0.3, 0.9)
        output = b""
        while time.monotonic() < deadline:
            output += writer.stdout.read() or b""
            time.sleep(0.01)
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        output += writer.stdout.read() or b""
        lines = output.decode().split("\n")[:-1]  # the last line may be cut short: not confirmed
        confirmed += [int(line) for line in lines if line.strip()]

        db = Database(folder)  # loads, and the lock was released by the kill
        stored = {doc["n"] for doc in db.file("incidents").table("incidents").all()}
        audited = {e.target for e in db.audit.newest_first()}
        db.close()
        missing = [n for n in confirmed if n not in stored or f"n {n}" not in audited]
        assert not missing, f"confirmed writes lost after SIGKILL: {missing[:5]}"
    assert len(confirmed) > 50

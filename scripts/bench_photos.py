"""Benchmark for photo safety (bot/photos/); prints the tables in the README.

    python scripts/bench_photos.py

A 1280-pixel phone photo (six faces from scikit-image's astronaut.png, a pupil's name on a
certificate, GPS and camera EXIF) through metadata + faces + text, in this process and through
the photo worker as the bot does it; blurring; the first photo (worker start and model loading);
and memory: this process (as the bot's own) and the worker with its models loaded.
Needs the test extra (scikit-image) for the photo.
"""

from __future__ import annotations

import asyncio
import os
import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.photos import analysis
from bot.photos.faces import find_faces
from bot.photos.metadata import clean_copy, read_metadata
from bot.photos.picture import open_picture
from bot.photos.text import read_text
from bot.photos.worker import PhotoWorker
from tests.photo_samples import group_photo, jpeg, phone_exif, with_text

RUNS = 15


def peak_mb() -> float:
    """This process's peak resident memory (run in the worker too)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def resident_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def timed(work: Callable[[], object], runs: int = RUNS) -> tuple[float, float, float]:
    """Median and p90 wall time, and median CPU time (all threads), in ms: CPU time says what the work
    costs when this shared machine is busy and the wall clock mostly measures the wait for a core."""
    times, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        work()
        times.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.9) - 1], statistics.median(cpu)


async def through_worker(data: bytes, big: bytes) -> list[tuple[str, float, float | None, str]]:
    worker = PhotoWorker()
    rows: list[tuple[str, float, float | None, str]] = []
    start = time.perf_counter()
    first = await worker.run(analysis.analyse, data, True)
    rows.append(("first photo (worker starts, models load)", (time.perf_counter() - start) * 1000, None, ""))
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        await worker.run(analysis.analyse, data, True)
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    rows.append(("metadata + faces + text, through the worker", statistics.median(times), times[int(RUNS * 0.9) - 1], "< 1,500"))
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        await worker.run(analysis.blurred, big, first.faces)
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    name = "blur 6 faces of a 12 MP original, through the worker"
    rows.append((name, statistics.median(times), times[int(RUNS * 0.9) - 1], ""))
    rows.append(("__memory__", await worker.run(peak_mb), None, ""))
    worker.close()
    return rows


def main() -> None:
    photo = with_text(group_photo(3, 2, 420), "Certificate: Amelia Smith", (40, 700), 40, angle=6).resize((1280, 853))
    data = jpeg(photo, phone_exif())
    big = jpeg(photo.resize((4000, 2667)), phone_exif())
    # Through the worker first, as the bot does it: this process never loads a model.
    worker_rows = asyncio.run(through_worker(data, big))
    worker_peak = next(value for name, value, _, _ in worker_rows if name == "__memory__")
    bot_side = resident_mb()

    picture = open_picture(data)
    work, _ = picture.work_copy()
    faces = analysis.analyse(data, False).faces  # models load once before timing
    assert len(faces) == 6 and any("Amelia Smith" in line.text for line in read_text(work))
    rows: list[tuple[str, float, float | None, float | None, str]] = [
        ("read, upright, metadata, clean copy", *timed(lambda: (clean_copy(open_picture(data)), read_metadata(picture))), ""),
        ("faces (OpenCV Haar cascade)", *timed(lambda: find_faces(work)), ""),
        ("text (RapidOCR PP-OCRv6 small)", *timed(lambda: read_text(work)), ""),
        ("metadata + faces + text, in one process", *timed(lambda: analysis.analyse(data, True)), "< 1,500"),
        ("blur 6 faces, 1280 px", *timed(lambda: analysis.blurred(data, faces)), "< 300"),
    ]
    rows += [(name, median, p90, None, target) for name, median, p90, target in worker_rows if name != "__memory__"]

    print(f"Load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores.")
    print()
    print("| step (1280 × 853 photo: 6 faces, a pupil's name, GPS EXIF) | median ms | p90 ms | CPU ms | target ms |")
    print("| --- | ---: | ---: | ---: | --- |")
    for name, median, p90, cpu, target in rows:
        met = "" if not target else (" ✅" if median < float(target.strip("< ").replace(",", "")) else " ❌")
        shown = [f"{median:,.0f}", "" if p90 is None else f"{p90:,.0f}", "" if cpu is None else f"{cpu:,.0f}"]
        print(f"| {name} | {' | '.join(shown)} | {target}{met} |")
    print()
    print("| memory | MB |")
    print("| --- | ---: |")
    print(f"| photo worker, peak with the models loaded | {worker_peak:,.0f} |")
    print(f"| this process after sending photos to the worker (resident; the bot's side) | {bot_side:,.0f} |")
    print(f"| everything in one process instead (peak) | {peak_mb():,.0f} |")


if __name__ == "__main__":
    main()

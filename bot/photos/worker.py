"""The photo worker: one process, started with the first photo, where decoding and the models run.

Faces and text take most of a second of CPU and a few hundred MB (the OCR models), so they run
outside the bot's process: the bot keeps answering everyone else meanwhile, its own memory stays
within the README's limit, and a decoder that crashes on a hostile file takes down only the
worker (the next photo starts a new one). Photos queue for the one worker: this machine has
two cores, and the models use both.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TypeVar

from bot.photos.picture import PhotoRejected

T = TypeVar("T")


class PhotoWorker:
    """Runs a function of bot.photos.analysis in the worker process, starting it on first use."""

    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None

    async def run(self, work: Callable[..., T], *args: object) -> T:
        loop = asyncio.get_running_loop()
        if self._pool is None:
            # "spawn": a fresh interpreter, not a copy of the bot's threads and open files.
            self._pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
        try:
            return await loop.run_in_executor(self._pool, work, *args)
        except (BrokenProcessPool, MemoryError) as error:
            self.close()
            raise PhotoRejected("Checking this photo failed part-way (it may be damaged). Nothing was kept.") from error

    def close(self) -> None:
        """Stop the worker (the bot is stopping, or the worker died); the next photo starts another."""
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)


WORKER = PhotoWorker()

"""The photo worker: one process, started with the first photo, where decoding and the models run.

Faces and text take most of a second of CPU and a few hundred MB (the OCR models), so they run
outside the bot's process: the bot keeps answering everyone else meanwhile, its own memory stays
within the README's limit, and a decoder that crashes on a hostile file takes down only the
worker (the next photo starts a new one). A photo that takes longer than any photo should (a
decoder stuck on a hostile file) has its worker killed, so the admin gets an answer and the
next photo a fresh worker. Photos queue for the one worker: this machine has two cores, and the
models use both. The worker ends with the bot (close() at stop), and on its own if the bot's
process is killed, so no worker is ever left behind holding its memory.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing.connection import wait
from typing import TypeVar

from bot.photos.picture import PhotoRejected

T = TypeVar("T")

# The largest photo accepted (50 megapixels) takes about 10 s on a loaded machine; a minute is stuck.
TIMEOUT_SECONDS = 60.0


def _end_with_the_bot() -> None:
    """In the worker: exit as soon as the bot's process is gone (killed, so close() never ran)."""
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        wait([parent.sentinel])
        os._exit(0)

    threading.Thread(target=watch, name="photo-worker-parent", daemon=True).start()


class PhotoWorker:
    """Runs a function of bot.photos.analysis in the worker process, starting it on first use."""

    def __init__(self, timeout: float = TIMEOUT_SECONDS) -> None:
        self._pool: ProcessPoolExecutor | None = None
        self.timeout = timeout

    async def run(self, work: Callable[..., T], *args: object) -> T:
        for last in (False, True):  # a photo whose turn came as another photo's worker was stopped goes once more
            try:
                return await self._run(work, args, last=last)
            except BrokenProcessPool:
                continue
        raise AssertionError("the last attempt raises PhotoRejected or returns")

    async def _run(self, work: Callable[..., T], args: tuple[object, ...], *, last: bool) -> T:
        loop = asyncio.get_running_loop()
        if self._pool is None:
            # "spawn": a fresh interpreter, not a copy of the bot's threads and open files.
            context = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(max_workers=1, mp_context=context, initializer=_end_with_the_bot)
        pool = self._pool
        try:
            return await asyncio.wait_for(loop.run_in_executor(pool, work, *args), self.timeout)
        except TimeoutError as error:
            self._close(pool)
            raise PhotoRejected("Checking this photo took far too long, so I stopped. Nothing was kept.") from error
        except (BrokenProcessPool, MemoryError) as error:
            if isinstance(error, BrokenProcessPool) and self._pool is not pool and not last:
                raise  # stopped for another photo, not this one: run() tries it once more
            self._close(pool)
            raise PhotoRejected("Checking this photo failed part-way (it may be damaged). Nothing was kept.") from error

    def close(self) -> None:
        """Stop the worker (the bot is stopping); the next photo starts another."""
        if self._pool is not None:
            self._close(self._pool)

    def _close(self, pool: ProcessPoolExecutor) -> None:
        """Kill `pool`'s process, whatever it is doing, and wait for it, so none is left behind."""
        if self._pool is pool:
            self._pool = None
        for process in list((pool._processes or {}).values()):
            process.kill()
        pool.shutdown(wait=True, cancel_futures=True)


WORKER = PhotoWorker()

"""Waiting for the bot to finish: what the demo and the tests do after every action."""

from __future__ import annotations

import asyncio
from typing import Any

from emulator.core import BotApiEmulator


async def settle(app: Any, emu: BotApiEmulator) -> None:
    """Wait until every update is handled and every due message has been sent."""
    runtime = app.bot_data["runtime"]
    for _ in range(200):
        await emu.wait_confirmed()
        await app.update_queue.join()
        # Work a handler runs beside the update queue (a photo being looked at) counts as unfinished too.
        while runtime.delivery.busy or any(not task.done() for task in app.bot_data.get("background_tasks", ())):
            await asyncio.sleep(0.005)
        await emu.wait_quiet(ms=15)
        if app.update_queue.empty() and not runtime.delivery.busy:
            return
    raise RuntimeError("the bot did not settle")

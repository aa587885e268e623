"""A PTB request object that answers from an emulator in the same process, without HTTP."""

from __future__ import annotations

import json
from urllib.parse import unquote

from telegram.request import BaseRequest, RequestData

from emulator.core import BotApiEmulator
from emulator.validation import decode_field, error_body


class InProcessRequest(BaseRequest):
    """Give it to PTB as ``request`` and ``get_updates_request``; calls go straight to ``emulator``.

    The benchmark uses it to time the bot's own work: the same Bot API semantics and
    refusals as over HTTP, none of the network cost.
    """

    def __init__(self, emulator: BotApiEmulator) -> None:
        self.emulator = emulator

    @property
    def read_timeout(self) -> float | None:
        return None

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: object = None,  # no timeouts: the request never leaves the process
        write_timeout: object = None,
        connect_timeout: object = None,
        pool_timeout: object = None,
    ) -> tuple[int, bytes]:
        marker = f"/file/bot{self.emulator.token}/"
        url = unquote(url)
        if marker in url:  # a file download (getFile's file_path)
            data = self.emulator.download(url.split(marker, 1)[1])
            if data is None:
                return 404, json.dumps(error_body(404, "Not Found")).encode()
            return 200, data
        name = url.rstrip("/").rsplit("/", 1)[-1]
        fields = request_data.json_parameters if request_data else {}
        params = {key: decode_field(key, value) for key, value in fields.items()}
        status, body = await self.emulator.call(name, params)
        return status, json.dumps(body).encode()

"""The HTTP server: the Bot API on 127.0.0.1, with faults injected on request.

The bot talks to it exactly as to api.telegram.org (``base_url``, ``base_file_url``).
A call can be made to fail on purpose (``fail_next``, a ``FaultPlan``): 429s, 500s,
dropped connections, slow answers, so fault-tolerance tests see what a flaky network
does to the bot.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from typing import Any

from aiohttp import web

from emulator.limits import PHOTO_REFUSALS
from emulator.records import FaultPlan, InjectedFault, Params, Refusal, TargetedFailure, Upload
from emulator.state import EmulatorState
from emulator.validation import Refused, check_spec, decode_field, error_body

log = logging.getLogger(__name__)


class HttpServer(EmulatorState):
    """Serves the Bot API over HTTP and answers in-process calls the same way."""

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    async def start(self) -> None:
        """Serve on 127.0.0.1 (``port`` 0 picks a free one) in the running loop."""
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_call)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_download)
        # Cancelling handlers when the client goes away ends an abandoned long poll,
        # as Telegram does, instead of leaving it to swallow updates.
        self._runner = web.AppRunner(app, handler_cancellation=True, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        self._stopping = False

    async def stop(self) -> None:
        """Answer pending long polls and shut the server down."""
        self._stopping = True
        self._notify()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # --- calls ----------------------------------------------------------------------------

    async def call(self, method: str, params: Params) -> tuple[int, dict[str, Any]]:
        """Answer one Bot API call without HTTP: (HTTP status, JSON body).

        The call and any refusal are recorded as over HTTP; injected faults apply only
        over HTTP, where a network could cause them.
        """
        self.calls.append((method, params))
        try:
            result = await self._perform(method, params)
        except Refused as refusal:
            self._refuse(method, params, refusal)
            return refusal.code, error_body(refusal.code, refusal.description)
        return 200, {"ok": True, "result": result}

    def download(self, file_path: str) -> bytes | None:
        """The bytes of the file getFile named ``file_path`` (noted as downloaded), or None."""
        file_id = self._file_paths.get(file_path)
        if file_id is None:
            return None
        self.downloaded.append(file_id)
        return self.files[file_id]

    async def _perform(self, method: str, params: Params) -> Any:
        check_spec(self._spec, method, params)
        handler = self._methods.get(method)
        if handler is None:
            raise Refused(404, "Not Found: method not found")
        result = handler(params)
        return await result if inspect.isawaitable(result) else result

    def _refuse(self, method: str, params: Params, refusal: Refused) -> None:
        log.debug("refused %s: %s", method, refusal.description)
        expected = refusal.code == 403 or any(kind in refusal.description for kind in PHOTO_REFUSALS)
        self.refusals.append(Refusal(method, params, refusal.code, refusal.description, expected))

    def _take_fault(self, method: str, params: Params, plan: FaultPlan | None) -> TargetedFailure | str | None:
        for failure in self._targeted:
            if failure.method == method:
                failure.remaining -= 1
                if failure.remaining <= 0:
                    self._targeted.remove(failure)
                self.injected.append(InjectedFault(method, str(failure.error_code), params))
                return failure
        kind = plan.pick(method) if plan else None
        if kind is not None:
            self.injected.append(InjectedFault(method, kind, params))
        return kind

    # --- HTTP ---------------------------------------------------------------------------

    async def _handle_call(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return web.json_response(error_body(401, "Unauthorized"), status=401)
        params = await self._read_params(request)
        requested = request.match_info["method"]
        method = self._canonical.get(requested.lower(), requested)
        self.calls.append((method, params))
        polling = method == "getUpdates"
        if not polling:
            self._busy += 1
            self._touch()
        try:
            return await self._respond(request, method, params)
        finally:
            if not polling:
                self._busy -= 1
                self._touch()
            for hook in self.on_call:
                hook(method)

    async def _respond(self, request: web.Request, method: str, params: Params) -> web.StreamResponse:
        plan = self.faults
        fault = self._take_fault(method, params, plan)
        if isinstance(fault, TargetedFailure):
            body = error_body(fault.error_code, fault.description, fault.retry_after)
            return web.json_response(body, status=fault.error_code)
        if plan is not None and fault == "429":
            body = error_body(429, f"Too Many Requests: retry after {plan.retry_after}", plan.retry_after)
            return web.json_response(body, status=429)
        if fault == "500":
            return web.json_response(error_body(500, "Internal Server Error"), status=500)
        if plan is not None and fault == "slow":
            await asyncio.sleep(plan.slow_seconds)
        dropping = fault == "drop"
        if plan is not None and dropping and not plan.drop_after_action:
            return self._drop(request)
        try:
            result = await self._perform(method, params)
        except Refused as refusal:
            # A long poll the client already abandoned (PTB's updater.stop polls once more)
            # ends in a 409 nobody reads; it says nothing about the bot's behaviour.
            abandoned = refusal.code == 409 and (request.transport is None or request.transport.is_closing())
            if not abandoned:
                self._refuse(method, params, refusal)
            response = web.json_response(error_body(refusal.code, refusal.description), status=refusal.code)
        else:
            if method == "getUpdates" and result and not dropping:
                self._note_returned(result)
            response = web.json_response({"ok": True, "result": result})
        return self._drop(request) if dropping else response

    @staticmethod
    def _drop(request: web.Request) -> web.Response:
        """Close the connection: the client sees the server hang up without an answer."""
        if request.transport is not None:
            request.transport.close()
        return web.Response()

    async def _read_params(self, request: web.Request) -> Params:
        raw: dict[str, Any] = dict(request.query)
        if request.body_exists:
            if request.content_type == "application/json":
                body = await request.json()
                raw.update(body if isinstance(body, dict) else {})
            else:
                raw.update((await request.post()).items())
        params = {name: decode_field(name, value) for name, value in raw.items()}
        for name, value in list(params.items()):
            if isinstance(value, str) and value.startswith("attach://"):
                part = params.pop(value.removeprefix("attach://"), None)
                params[name] = part if isinstance(part, Upload) else value
        return params

    async def _handle_download(self, request: web.Request) -> web.StreamResponse:
        data = self.download(request.match_info["path"])
        if request.match_info["token"] != self.token or data is None:
            return web.json_response(error_body(404, "Not Found"), status=404)
        return web.Response(body=data)

"""The aiohttp server that speaks the Bot API wire format (``SandboxServer``)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web

# Importing the method modules registers their handlers.
from sandbox import media, methods_chats, methods_messages, places  # noqa: F401
from sandbox.flood import FloodLimits
from sandbox.models import (
    JSON,
    ApiError,
    BotAccount,
    CallRecord,
    UploadedFile,
    Webhook,
    bad_request,
)
from sandbox.spec import Field
from sandbox.state import _TOKEN_RE, HANDLERS
from sandbox.users import UserActions

_INT_RE = re.compile(r"^-?\d+$")
_REQUIRED_WORDING = {"text": "message text is empty", "chat_id": "chat_id is empty"}
_DEFAULT_ERRORS = {
    400: "Bad Request: injected failure",
    403: "Forbidden: injected failure",
    500: "Internal Server Error",
    502: "Bad Gateway",
}


@dataclass
class Injection:
    method: str  # lower-case method name, or "*" for any
    count: int
    error_code: int = 0
    description: str | None = None
    chat_id: int | str | None = None
    retry_after: int | None = None
    parameters: JSON | None = None
    drop: bool = False
    after_processing: bool = False

    def matches(self, method: str, params: JSON) -> bool:
        if self.method not in ("*", method.lower()):
            return False
        return self.chat_id is None or params.get("chat_id") == self.chat_id


class SandboxServer(UserActions):
    """A local Bot API server. See the package docs for the control API."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        flood: FloodLimits | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        super().__init__(flood=flood, clock=clock)
        self.host = host
        self.port = port
        self.webhook_retry_delay = 0.05
        self.internal_errors: list[str] = []
        self._injections: list[Injection] = []
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._hook_tasks: dict[str, asyncio.Task[None]] = {}
        self._in_flight = 0
        self._last_activity = 0.0

    # ------------------------------------------------------------------ lifecycle
    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://{self.host}:{self.port}/file/bot"

    @property
    def control_url(self) -> str:
        return f"http://{self.host}:{self.port}/control"

    def make_app(self) -> web.Application:
        from sandbox.control import add_control_routes

        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        add_control_routes(app, self)
        return app

    async def start(self) -> None:
        self.closing = False
        self._session = aiohttp.ClientSession()
        self._runner = web.AppRunner(self.make_app(), access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        for bot in self.bots.values():
            self.webhook_changed(bot)

    async def stop(self) -> None:
        self.closing = True
        self.notify()
        for task in self._hook_tasks.values():
            task.cancel()
        for task in list(self._hook_tasks.values()):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._hook_tasks.clear()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> SandboxServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def add_bot(
        self,
        token: str = "123456:TEST",
        username: str = "gridbot",
        first_name: str = "网格通",
        **kwargs: Any,
    ) -> BotAccount:
        """Register a bot account; calling it again for a known token updates that bot."""
        existing = self.bots.get(token)
        if existing is None:
            return super().add_bot(token, username, first_name, **kwargs)
        existing.user.username = username
        existing.user.first_name = first_name
        for key, value in kwargs.items():
            setattr(existing, key, value)
        return existing

    # ------------------------------------------------------------------ error injection
    def fail_next(
        self,
        method: str,
        *,
        error_code: int,
        description: str | None = None,
        count: int = 1,
        chat_id: int | str | None = None,
        retry_after: int | None = None,
        parameters: JSON | None = None,
    ) -> None:
        """Make the next ``count`` calls of ``method`` ("*" = any) fail with this error."""
        if description is None:
            description = (
                f"Too Many Requests: retry after {retry_after or 1}"
                if error_code == 429
                else _DEFAULT_ERRORS.get(error_code, "Error")
            )
        params = dict(parameters or {})
        if retry_after is not None or error_code == 429:
            params["retry_after"] = retry_after or 1
        self._injections.append(
            Injection(
                method.lower(),
                count,
                error_code,
                description,
                chat_id,
                retry_after,
                params or None,
            )
        )

    def drop_connection_next(
        self, method: str, count: int = 1, *, after_processing: bool = False
    ) -> None:
        """Close the connection without answering (optionally after executing the call)."""
        self._injections.append(
            Injection(method.lower(), count, drop=True, after_processing=after_processing)
        )

    def _take_injection(self, method: str, params: JSON) -> Injection | None:
        for inj in self._injections:
            if inj.matches(method, params):
                inj.count -= 1
                if inj.count <= 0:
                    self._injections.remove(inj)
                return inj
        return None

    # ------------------------------------------------------------------ HTTP: Bot API
    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        token, method = request.match_info["token"], request.match_info["method"]
        if not _TOKEN_RE.match(token):
            return _reply(ApiError(404, "Not Found").to_json(), 404)
        bot = self.bots.get(token)
        if bot is None:
            return _reply(ApiError(401, "Unauthorized").to_json(), 401)
        canonical = self.spec.canonical(method)
        name = canonical or method
        counted = name != "getUpdates"
        self._in_flight += counted
        self._touch(name)
        params: JSON = {}
        try:
            if canonical is None or canonical not in HANDLERS:
                raise ApiError(404, "Not Found: method not found")
            params = self._coerce(canonical, await _read_params(request))
            injection = self._take_injection(canonical, params)
            if injection is not None and injection.drop and not injection.after_processing:
                return self._drop(request, canonical, params, token)
            if injection is not None and not injection.drop:
                self.stats.injected_failures += 1
                raise ApiError(
                    injection.error_code, injection.description or "Error", injection.parameters
                )
            result = await HANDLERS[canonical](self, bot, params)
            if injection is not None:
                return self._drop(request, canonical, params, token)
            self._record(canonical, params, 200, None, token)
            return _reply({"ok": True, "result": result}, 200)
        except ApiError as exc:
            if exc.code == 429:
                self.stats.rate_limited += 1
            self._record(name, params, exc.code, exc.description, token)
            return _reply(exc.to_json(), exc.code)
        except Exception as exc:  # a sandbox bug: make it loud but keep serving
            self.internal_errors.append(f"{name}: {exc!r}")
            self._record(name, params, 500, repr(exc), token)
            return _reply(
                {"ok": False, "error_code": 500, "description": f"Internal Server Error: {exc!r}"},
                500,
            )
        finally:
            self._in_flight -= counted
            self._touch(name)

    def _drop(
        self, request: web.Request, method: str, params: JSON, token: str
    ) -> web.StreamResponse:
        self.stats.dropped_connections += 1
        self._record(method, params, 0, "connection dropped", token)
        if request.transport is not None:
            request.transport.abort()
        raise asyncio.CancelledError

    def _touch(self, method: str) -> None:
        if method != "getUpdates":
            self._last_activity = asyncio.get_running_loop().time()
        self.notify()

    def _record(
        self, method: str, params: JSON, status: int, description: str | None, token: str
    ) -> None:
        self.stats.calls += 1
        self.stats.by_method[method] = self.stats.by_method.get(method, 0) + 1
        if status != 200:
            self.stats.errors += 1
        self.calls.append(CallRecord(method, params, status, description, self.clock(), token))
        self.notify()

    def _coerce(self, method: str, raw: JSON) -> JSON:
        fields = self.spec.methods[method]
        out: JSON = {}
        attachments: dict[str, UploadedFile] = {}
        for key, value in raw.items():
            field = fields.get(key)
            if field is None:
                if isinstance(value, UploadedFile):
                    attachments[key] = value
                    continue
                self.unknown_params.append((method, key))
                out[key] = _guess(value)
                continue
            out[key] = _coerce_value(field, value)
        for field in fields.values():
            if field.required and out.get(field.name) is None:
                if method == "setWebhook" and field.name == "url":
                    continue
                raise bad_request(_REQUIRED_WORDING.get(field.name, f"{field.name} is required"))
        if attachments:
            out["_attachments"] = attachments
        return out

    # ------------------------------------------------------------------ HTTP: files
    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] not in self.bots:
            return _reply(ApiError(404, "Not Found").to_json(), 404)
        stored = self.files_by_path.get(request.match_info["path"])
        if stored is None:
            return _reply(ApiError(404, "Not Found").to_json(), 404)
        return web.Response(
            body=stored.data, content_type=stored.mime_type or "application/octet-stream"
        )

    # ------------------------------------------------------------------ webhooks
    def webhook_changed(self, bot: BotAccount) -> None:
        task = self._hook_tasks.pop(bot.token, None)
        if task is not None:
            task.cancel()
        if bot.webhook is not None and self._session is not None:
            self._hook_tasks[bot.token] = asyncio.get_running_loop().create_task(
                self._push_updates(bot, bot.webhook)
            )

    async def _push_updates(self, bot: BotAccount, hook: Webhook) -> None:
        assert self._session is not None
        delay = self.webhook_retry_delay
        while bot.webhook is hook and not self.closing:
            self.confirm_updates(bot, None)
            if not bot.updates:
                await self.wait_change(1.0)
                continue
            update = bot.updates[0]
            headers = {}
            if hook.secret_token:
                headers["X-Telegram-Bot-Api-Secret-Token"] = hook.secret_token
            error: str | None = None
            try:
                async with self._session.post(
                    hook.url, json=update, headers=headers, timeout=aiohttp.ClientTimeout(total=30)
                ) as resp:
                    await resp.read()
                    if resp.status != 200:
                        error = f"Wrong response from the webhook: {resp.status} {resp.reason}"
            except (aiohttp.ClientError, TimeoutError) as exc:
                error = f"Connection failed: {exc.__class__.__name__}"
            if error is None:
                if bot.updates and bot.updates[0] is update:
                    bot.updates.pop(0)
                    self.stats.updates_delivered += 1
                delay = self.webhook_retry_delay
                self.notify()
                continue
            hook.last_error_date, hook.last_error_message = self.now(), error
            self.stats.webhook_failures += 1
            self.notify()
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)

    # ------------------------------------------------------------------ idleness
    async def wait_idle(self, quiet: float = 0.2, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Wait until no update is pending, no call is in flight and nothing happened for
        ``quiet`` seconds (getUpdates long polls don't count as activity)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            busy = self._in_flight > 0 or any(b.updates for b in self.bots.values())
            idle_for = loop.time() - self._last_activity
            if not busy and idle_for >= quiet:
                return
            if loop.time() >= deadline:
                raise TimeoutError(
                    f"sandbox not idle after {timeout}s (in flight: "
                    f"{self._in_flight}, pending: "
                    f"{[len(b.updates) for b in self.bots.values()]})"
                )
            await asyncio.sleep(min(0.02, max(quiet - idle_for, 0.005)))


async def _read_params(request: web.Request) -> JSON:
    params: JSON = dict(request.query)
    if not request.body_exists:
        return params
    ctype = request.content_type
    if ctype == "application/json":
        try:
            body = await request.json()
        except json.JSONDecodeError as exc:
            raise bad_request("can't parse JSON encoded request body") from exc
        if not isinstance(body, dict):
            raise bad_request("JSON object expected as request body")
        params.update(body)
    elif ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, web.FileField):
                params[key] = UploadedFile(value.filename, value.content_type, value.file.read())
            else:
                params[key] = value
    return params


def _reply(body: JSON, status: int) -> web.Response:
    return web.Response(
        text=json.dumps(body, ensure_ascii=False), status=status, content_type="application/json"
    )


def _json_param(name: str, value: str) -> Any:
    try:
        return json.loads(value)
    except json.JSONDecodeError as exc:
        if name == "reply_markup":
            raise bad_request("can't parse reply keyboard markup JSON object") from exc
        if name.endswith("entities"):
            raise bad_request("can't parse entities JSON object") from exc
        raise bad_request(f"can't parse {name} JSON object") from exc


def _coerce_value(field: Field, value: Any) -> Any:
    types = field.types
    if isinstance(value, UploadedFile) or value is None:
        return value
    if types == ("Integer",):
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str) and _INT_RE.match(value.strip()):
            return int(value)
        raise bad_request(f"invalid {field.name} specified")
    if types == ("Integer", "String"):
        if isinstance(value, str) and _INT_RE.match(value.strip()):
            return int(value)
        return value
    if types == ("Boolean",):
        if isinstance(value, str):
            return value.strip().lower() in ("true", "1")
        return bool(value)
    if types in (("Float",), ("Float number",)):
        return float(value)
    if types == ("String",) or "InputFile" in types:
        return value if isinstance(value, str) else json.dumps(value)
    if isinstance(value, str):
        return _json_param(field.name, value)
    return value


def _guess(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if _INT_RE.match(value):
        return int(value)
    if value in ("true", "false"):
        return value == "true"
    if value[:1] in "[{":
        with contextlib.suppress(json.JSONDecodeError):
            return json.loads(value)
    return value

"""HTTP control API (``/control/<operation>``) mirroring the Python control surface.

Every operation accepts JSON arguments (POST body, or query string for GET) and answers
``{"ok": true, "result": ...}`` or ``{"ok": false, "error": "..."}`` with status 400.
Binary payloads travel base64-encoded (``image_b64``, ``data_b64``).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from sandbox.flood import FloodLimits
from sandbox.models import JSON, ApiError, SandboxError, to_jsonable

if TYPE_CHECKING:
    from sandbox.server import SandboxServer

Operation = Callable[["SandboxServer", JSON], Awaitable[Any]]
OPERATIONS: dict[str, Operation] = {}

# Server coroutine methods that are exposed 1:1 (JSON args -> keyword arguments).
_ASYNC_PASSTHROUGH = (
    "start_private",
    "user_sends",
    "user_sends_sticker",
    "user_sends_location",
    "user_edits",
    "press_button",
    "vote_poll",
    "join",
    "leave",
    "remove_bot",
    "add_bot_to_group",
    "migrate_to_supergroup",
)
_SYNC_PASSTHROUGH = (
    "block_bot",
    "unblock_bot",
    "inject_raw_update",
    "pending_updates",
    "chat_messages",
    "fail_next",
    "drop_connection_next",
)


def operation(name: str) -> Callable[[Operation], Operation]:
    def register(fn: Operation) -> Operation:
        OPERATIONS[name] = fn
        return fn

    return register


def _passthrough(name: str, is_async: bool) -> Operation:
    async def run(server: SandboxServer, args: JSON) -> Any:
        result = getattr(server, name)(**args)
        return await result if is_async else result

    return run


for _name in _ASYNC_PASSTHROUGH:
    OPERATIONS[_name] = _passthrough(_name, True)
for _name in _SYNC_PASSTHROUGH:
    OPERATIONS[_name] = _passthrough(_name, False)


@operation("add_bot")
async def _add_bot(server: SandboxServer, args: JSON) -> Any:
    bot = server.add_bot(**args)
    return {**bot.get_me(), "token": bot.token}


@operation("add_user")
async def _add_user(server: SandboxServer, args: JSON) -> Any:
    return server.add_user(**args).to_json()


@operation("add_group")
async def _add_group(server: SandboxServer, args: JSON) -> Any:
    return server.add_group(**args).to_json()


@operation("user_sends_photo")
async def _user_sends_photo(server: SandboxServer, args: JSON) -> Any:
    if "image_b64" in args:
        args["image_bytes"] = base64.b64decode(args.pop("image_b64"))
    return await server.user_sends_photo(**args)


@operation("user_sends_voice")
async def _user_sends_voice(server: SandboxServer, args: JSON) -> Any:
    if "data_b64" in args:
        args["data"] = base64.b64decode(args.pop("data_b64"))
    return await server.user_sends_voice(**args)


@operation("user_sends_document")
async def _user_sends_document(server: SandboxServer, args: JSON) -> Any:
    args["data"] = base64.b64decode(args.pop("data_b64", ""))
    return await server.user_sends_document(**args)


def _since(args: JSON) -> int:
    return int(args.get("since", 0))


@operation("sent")
async def _sent(server: SandboxServer, args: JSON) -> Any:
    since = _since(args)
    return {"records": to_jsonable(server.sent[since:]), "next": len(server.sent)}


@operation("calls")
async def _calls(server: SandboxServer, args: JSON) -> Any:
    since = _since(args)
    return {"records": to_jsonable(server.calls[since:]), "next": len(server.calls)}


@operation("callback_answers")
async def _callback_answers(server: SandboxServer, args: JSON) -> Any:
    since = _since(args)
    return {
        "records": to_jsonable(server.callback_answers[since:]),
        "next": len(server.callback_answers),
    }


@operation("unknown_params")
async def _unknown_params(server: SandboxServer, args: JSON) -> Any:
    return [list(item) for item in server.unknown_params]


@operation("stats")
async def _stats(server: SandboxServer, args: JSON) -> Any:
    limits = server.flood.limits
    return {
        **to_jsonable(server.stats),
        "flood": limits.to_json() if limits else None,
        "sent": len(server.sent),
        "internal_errors": list(server.internal_errors),
        "pending_updates": {t: len(b.updates) for t, b in server.bots.items()},
    }


@operation("set_flood")
async def _set_flood(server: SandboxServer, args: JSON) -> Any:
    enabled = args.pop("enabled", True)
    server.set_flood(FloodLimits(**args) if enabled else None)
    return server.flood.limits.to_json() if server.flood.limits else None


@operation("max_in_window")
async def _max_in_window(server: SandboxServer, args: JSON) -> Any:
    seconds = float(args["seconds"])
    if args.get("chat_id") is None:
        return server.max_in_window_global(seconds)
    return server.max_in_window(int(args["chat_id"]), seconds)


@operation("wait_idle")
async def _wait_idle(server: SandboxServer, args: JSON) -> Any:
    await server.wait_idle(**args)
    return to_jsonable(server.stats)


@operation("wait_sent")
async def _wait_sent(server: SandboxServer, args: JSON) -> Any:
    """Wait until at least ``count`` sent records exist (``timeout`` seconds)."""
    count = int(args["count"])
    await server.wait_for(lambda s: len(s.sent) >= count, float(args.get("timeout", 5.0)))
    return len(server.sent)


def add_control_routes(app: web.Application, server: SandboxServer) -> None:
    async def handle(request: web.Request) -> web.Response:
        op = OPERATIONS.get(request.match_info["operation"])
        if op is None:
            return _answer({"ok": False, "error": "unknown control operation"}, 404)
        args: JSON = {k: _query_value(v) for k, v in request.query.items()}
        if request.body_exists:
            try:
                body = await request.json()
            except json.JSONDecodeError:
                return _answer({"ok": False, "error": "body must be a JSON object"}, 400)
            if isinstance(body, dict):
                args.update(body)
        try:
            result = await op(server, args)
        except (SandboxError, ApiError, TypeError, KeyError, ValueError, TimeoutError) as exc:
            return _answer({"ok": False, "error": f"{exc.__class__.__name__}: {exc}"}, 400)
        return _answer({"ok": True, "result": to_jsonable(result)}, 200)

    app.router.add_route("*", "/control/{operation}", handle)


def _query_value(value: str) -> Any:
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        return value


def _answer(body: JSON, status: int) -> web.Response:
    return web.Response(
        text=json.dumps(body, ensure_ascii=False), status=status, content_type="application/json"
    )

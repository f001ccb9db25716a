"""PTB's networking on aiohttp (bot/transport/http.py): bodies as the Bot API takes them, errors as
PTB's own backend reports them, against a real aiohttp server on loopback."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from telegram import InputFile
from telegram.error import NetworkError, TimedOut
from telegram.request import RequestData
from telegram.request._requestparameter import RequestParameter

from bot.transport.http import AiohttpRequest


def request_data(**params: object) -> RequestData:
    return RequestData([RequestParameter.from_input(k, v) for k, v in params.items()])


async def echo(request: web.Request) -> web.Response:
    if request.content_type == "application/json":
        body = {"json": await request.json()}
    else:
        form = await request.post()
        body = {
            "form": {
                k: (v.file.read().decode() if isinstance(v, web.FileField) else v)
                for k, v in form.items()
            }
        }
    return web.json_response({"ok": True, "result": body})


RELEASE = web.AppKey("release", asyncio.Event)


async def slow(request: web.Request) -> web.Response:
    """Answers only when the test is over: no answer can beat the client's time-out."""
    await request.app[RELEASE].wait()
    return web.json_response({"ok": True, "result": True})


@pytest.fixture
async def base_url() -> AsyncIterator[str]:
    app = web.Application()
    app[RELEASE] = asyncio.Event()
    app.router.add_post("/echo", echo)
    app.router.add_post("/slow", slow)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        app[RELEASE].set()
        await runner.cleanup()


@pytest.fixture
async def client() -> AsyncIterator[AiohttpRequest]:
    request = AiohttpRequest(connection_pool_size=4)
    await request.initialize()
    try:
        yield request
    finally:
        await request.shutdown()


async def test_parameters_go_as_a_json_body_with_nested_values(
    client: AiohttpRequest, base_url: str
) -> None:
    keyboard = {"inline_keyboard": [[{"text": "受理", "callback_data": "i:acc:1"}]]}
    result = await client.post(
        f"{base_url}/echo", request_data(chat_id=-1001, text="电梯坏了", reply_markup=keyboard)
    )
    assert result == {"json": {"chat_id": -1001, "text": "电梯坏了", "reply_markup": keyboard}}


async def test_files_go_as_multipart(client: AiohttpRequest, base_url: str) -> None:
    document = InputFile(b"ledger", filename="ledger.xlsx", attach=True)
    result = await client.post(f"{base_url}/echo", request_data(chat_id=7, document=document))
    assert isinstance(result, dict) and document.attach_name
    assert result["form"]["chat_id"] == "7"
    assert result["form"][document.attach_name] == "ledger"


async def test_a_slow_answer_is_timed_out(client: AiohttpRequest, base_url: str) -> None:
    with pytest.raises(TimedOut):
        await client.post(f"{base_url}/slow", request_data(x=1), read_timeout=0.2)


async def test_a_refused_connection_is_a_network_error(client: AiohttpRequest) -> None:
    # A port bound but not listening refuses connections, and stays ours while we try (closed
    # first, a server the other worker starts on port 0 could be given it).
    with socket.socket() as sock, pytest.raises(NetworkError) as caught:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        await client.post(f"http://127.0.0.1:{port}/echo", request_data(x=1))
    assert not isinstance(caught.value, TimedOut)

"""The outbox's lean HTTP client (bot/transport/lean_http.py) against real servers on loopback:
an aiohttp server (Content-Length and chunked answers, kept-alive and closed connections,
Telegram's error answers), a raw socket server (a connection dropped mid-answer) and the same
aiohttp server behind TLS with a certificate made for the test."""

from __future__ import annotations

import asyncio
import socket
import ssl
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.request import RequestData
from telegram.request._requestparameter import RequestParameter

from bot.transport.lean_http import LeanRequest


def request_data(**params: object) -> RequestData:
    return RequestData([RequestParameter.from_input(k, v) for k, v in params.items()])


PEERS = web.AppKey("peers", list)
RELEASE = web.AppKey("release", asyncio.Event)


async def echo(request: web.Request) -> web.Response:
    """Echoes the JSON body and says which client connection (port) it came on."""
    assert request.transport is not None
    request.app[PEERS].append(request.transport.get_extra_info("peername")[1])
    body = {"json": await request.json(), "type": request.content_type}
    return web.json_response({"ok": True, "result": body})


async def chunked(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "application/json"})
    response.enable_chunked_encoding()
    await response.prepare(request)
    for part in (b'{"ok": true, ', b'"result": {"message_id": 42, ', b'"text": "\xe6\x94\xb6"}}'):
        await response.write(part)
    await response.write_eof()
    return response


async def closing(request: web.Request) -> web.Response:
    """Answers and closes the connection (``Connection: close``)."""
    request.app[PEERS].append(request.transport.get_extra_info("peername")[1])  # type: ignore[union-attr]
    response = web.json_response({"ok": True, "result": True})
    response.force_close()
    return response


async def refuse(request: web.Request) -> web.Response:
    """Telegram's error answers, chosen by the body's ``case``."""
    case = (await request.json())["case"]
    answers = {
        "blocked": (403, {"description": "Forbidden: bot was blocked by the user"}),
        "flood": (429, {"description": "Too Many Requests", "parameters": {"retry_after": 7}}),
        "migrated": (
            400,
            {
                "description": "Bad Request: group upgraded",
                "parameters": {"migrate_to_chat_id": -1009},
            },
        ),
        "parse": (400, {"description": "Bad Request: can't parse entities"}),
        "down": (502, {"description": "Bad Gateway"}),
    }
    status, body = answers[case]
    return web.json_response({"ok": False, "error_code": status, **body}, status=status)


async def upload(request: web.Request) -> web.Response:
    """A multipart upload, as sendDocument: its fields and the file's name and size."""
    form = await request.post()
    # ``attach=True``, as the outbox sends: the field names the part that holds the file
    document = form[str(form["document"]).removeprefix("attach://")]
    assert isinstance(document, web.FileField)
    size = len(document.file.read())
    result = {"chat_id": form["chat_id"], "file": document.filename, "size": size}
    return web.json_response({"ok": True, "result": result})


async def download(request: web.Request) -> web.Response:
    return web.Response(body=b"ledger bytes")


async def slow(request: web.Request) -> web.Response:
    await request.app[RELEASE].wait()
    return web.json_response({"ok": True, "result": True})


def make_app() -> web.Application:
    app = web.Application()
    app[PEERS] = []
    app[RELEASE] = asyncio.Event()
    for path, handler in (
        ("/echo", echo),
        ("/chunked", chunked),
        ("/closing", closing),
        ("/refuse", refuse),
        ("/slow", slow),
        ("/upload", upload),
    ):
        app.router.add_post(path, handler)
    app.router.add_get("/file/{name}", download)
    return app


async def serve(app: web.Application, context: ssl.SSLContext | None = None) -> web.AppRunner:
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context).start()
    return runner


@pytest.fixture
async def server() -> AsyncIterator[tuple[str, web.Application]]:
    app = make_app()
    runner = await serve(app)
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}", app
    finally:
        app[RELEASE].set()
        await runner.cleanup()


@pytest.fixture
async def client() -> AsyncIterator[LeanRequest]:
    request = LeanRequest(connection_pool_size=4)
    await request.initialize()
    try:
        yield request
    finally:
        await request.shutdown()


async def test_a_json_post_is_answered_and_its_connection_kept_alive(
    client: LeanRequest, server: tuple[str, web.Application]
) -> None:
    base, app = server
    keyboard = {"inline_keyboard": [[{"text": "受理", "callback_data": "i:acc:1"}]]}
    first = await client.post(f"{base}/echo", request_data(chat_id=-1001, text="电梯坏了"))
    second = await client.post(f"{base}/echo", request_data(chat_id=7, reply_markup=keyboard))
    assert first == {"json": {"chat_id": -1001, "text": "电梯坏了"}, "type": "application/json"}
    assert second == {"json": {"chat_id": 7, "reply_markup": keyboard}, "type": "application/json"}
    assert len(app[PEERS]) == 2 and app[PEERS][0] == app[PEERS][1]  # one connection for both


async def test_a_chunked_answer_is_read_whole(
    client: LeanRequest, server: tuple[str, web.Application]
) -> None:
    base, _ = server
    result = await client.post(f"{base}/chunked", request_data(x=1))
    assert result == {"message_id": 42, "text": "收"}
    assert await client.post(f"{base}/chunked", request_data(x=2)) == result  # and again


async def test_a_connection_the_server_closes_is_replaced(
    client: LeanRequest, server: tuple[str, web.Application]
) -> None:
    base, app = server
    assert await client.post(f"{base}/closing", request_data(x=1)) is True
    assert await client.post(f"{base}/closing", request_data(x=2)) is True
    assert len(app[PEERS]) == 2 and app[PEERS][0] != app[PEERS][1]


async def test_telegrams_refusals_become_ptbs_exceptions(
    client: LeanRequest, server: tuple[str, web.Application]
) -> None:
    """Raised by PTB's own ``post`` from the status and body, as with its backends: the
    outbox's handling of each (bot/transport/outbox.py) depends on exactly these."""
    base, _ = server
    url = f"{base}/refuse"
    with pytest.raises(Forbidden, match="blocked"):
        await client.post(url, request_data(case="blocked"))
    with pytest.raises(RetryAfter) as flood:
        await client.post(url, request_data(case="flood"))
    assert flood.value.retry_after.total_seconds() == 7  # type: ignore[union-attr]
    with pytest.raises(ChatMigrated) as migrated:
        await client.post(url, request_data(case="migrated"))
    assert migrated.value.new_chat_id == -1009
    with pytest.raises(BadRequest, match="Can't parse entities"):
        await client.post(url, request_data(case="parse"))
    with pytest.raises(NetworkError) as down:
        await client.post(url, request_data(case="down"))
    assert not isinstance(down.value, (BadRequest, TimedOut))
    # After five refusals the kept-alive connection still serves.
    assert await client.post(f"{base}/echo", request_data(x=1)) == {
        "json": {"x": 1},
        "type": "application/json",
    }


async def test_a_slow_answer_is_timed_out_and_its_connection_dropped(
    client: LeanRequest, server: tuple[str, web.Application]
) -> None:
    base, _ = server
    with pytest.raises(TimedOut):
        await client.post(f"{base}/slow", request_data(x=1), read_timeout=0.2, write_timeout=0)
    # The late answer cannot be read as the next request's: a fresh connection answers.
    assert await client.post(f"{base}/echo", request_data(x=2)) == {
        "json": {"x": 2},
        "type": "application/json",
    }


async def test_a_refused_connection_is_a_network_error(client: LeanRequest) -> None:
    # A port bound but not listening refuses connections, and stays ours while we try (closed
    # first, a server the other worker starts on port 0 could be given it).
    with socket.socket() as sock, pytest.raises(NetworkError) as caught:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        await client.post(f"http://127.0.0.1:{port}/echo", request_data(x=1))
    assert not isinstance(caught.value, TimedOut)


async def test_a_connection_dropped_mid_answer_is_a_network_error(client: LeanRequest) -> None:
    """Half an answer, then the server goes: retried by the outbox, never taken as sent."""

    async def half(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"ok": tr')
        await writer.drain()
        writer.close()

    raw = await asyncio.start_server(half, "127.0.0.1", 0)
    port = raw.sockets[0].getsockname()[1]
    try:
        with pytest.raises(NetworkError) as caught:
            await client.post(f"http://127.0.0.1:{port}/x", request_data(x=1))
        assert not isinstance(caught.value, TimedOut)
    finally:
        raw.close()
        await raw.wait_closed()


async def test_uploads_and_downloads_go_through_aiohttp_made_at_the_first(
    client: LeanRequest, server: tuple[str, web.Application]
) -> None:
    """A row with a file (multipart) and a file's download (GET) are aiohttp's; JSON calls
    never load it (the start imports no aiohttp)."""
    from telegram import InputFile

    assert client._others is None
    answer = await client.post(f"{server[0]}/echo", request_data(chat_id=7))
    assert answer["json"] == {"chat_id": 7}
    assert client._others is None, "a JSON call needs no aiohttp"
    document = InputFile(b"ledger", filename="ledger.xlsx", attach=True)
    sent = await client.post(f"{server[0]}/upload", request_data(chat_id=7, document=document))
    assert sent == {"chat_id": "7", "file": "ledger.xlsx", "size": 6}
    assert client._others is not None
    assert await client.retrieve(f"{server[0]}/file/ledger.xlsx") == b"ledger bytes"


async def test_tls_with_the_host_name_checked(tmp_path: Path) -> None:
    """HTTPS as for api.telegram.org: the certificate is verified against a trusted root and
    the host name; one made for another name is refused."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    await asyncio.to_thread(
        subprocess.run,
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1",
         "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"],
        check=True,
        capture_output=True,
    )  # fmt: skip
    served = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    served.load_cert_chain(cert, key)
    trusting = ssl.create_default_context(cafile=str(cert))
    app = make_app()
    runner = await serve(app, served)
    port = runner.addresses[0][1]
    client = LeanRequest(ssl_context=trusting)
    await client.initialize()
    try:
        result = await client.post(f"https://localhost:{port}/echo", request_data(text="你好"))
        again = await client.post(f"https://localhost:{port}/chunked", request_data(x=1))
        with pytest.raises(NetworkError, match="could not connect"):  # not the name it is for
            await client.post(f"https://127.0.0.1:{port}/echo", request_data(x=1))
    finally:
        await client.shutdown()
        await runner.cleanup()
    assert result == {"json": {"text": "你好"}, "type": "application/json"}
    assert again == {"message_id": 42, "text": "收"}
    assert len(set(app[PEERS])) == 1  # kept alive over TLS too

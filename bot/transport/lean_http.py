"""The bot's HTTP client: JSON POSTs to the Bot API over kept-alive HTTP/1.1 connections
(every outbox row, getUpdates, and PTB's own calls).

Why not aiohttp here: every outbox row is one POST, and in the ingest benchmark aiohttp's
``ClientSession._request`` was two thirds of a send's CPU (issue #15 item 6: URL and header
objects, a timer context, a response object with its stream and a connection wrapper per
request). A send needs none of that: one request line and five headers written to a kept-alive
connection, the answer's status and body read back. The answer is parsed by httptools, a C
binding of llhttp (Node.js's HTTP parser, MagicStack's package behind uvicorn): Content-Length
and chunked bodies, keep-alive and ``Connection: close`` as the server says.

It is a :class:`telegram.request.BaseRequest`, so the caller goes through PTB's ``post`` and
Telegram's answers become exactly the exceptions PTB's own backends raise (RetryAfter,
Forbidden, ChatMigrated, BadRequest, NetworkError for 5xx; the outbox handles each). Only what
the transport itself adds is mapped here, as bot/transport/http.py maps aiohttp's: a time-out
becomes :class:`TimedOut`, a refused or dropped connection or a garbled answer
:class:`NetworkError`, so the row is retried, never lost.

Multipart uploads and GETs (files) it hands to aiohttp (bot/transport/http.py), made at the
first one, so a start imports no aiohttp (~0.1 s; issue #15 item 5). No proxies. TLS works as
for any asyncio connection (the system's certificate store, the host name checked), as
api.telegram.org needs.
"""

from __future__ import annotations

import asyncio
import ssl
from functools import lru_cache
from typing import Any, NamedTuple, cast
from urllib.parse import urlsplit

import httptools
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

from bot.transport.http import DEFAULT, _given, parse_json_payload
from storage import jsontext

# An idle connection older than this is closed rather than reused: the server may have dropped
# it meanwhile (nginx and aiohttp's server close idle ones after about a minute), and a POST
# written into a connection just closed fails where a new one would have gone through.
IDLE_REUSE = 15.0


class _Origin(NamedTuple):
    secure: bool
    host: str
    port: int
    host_header: str


class _Target(NamedTuple):
    origin: _Origin
    path: bytes


@lru_cache(maxsize=256)
def _target(url: str) -> _Target:
    """Where a Bot API URL goes: parsed once per method, not on every call."""
    parts = urlsplit(url)
    secure = parts.scheme == "https"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {url!r}")
    port = parts.port or (443 if secure else 80)
    default = port == (443 if secure else 80)
    host = parts.hostname
    host_header = host if default else f"{host}:{port}"
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return _Target(_Origin(secure, host, port, host_header), path.encode("ascii"))


class _Connection(asyncio.Protocol):
    """One HTTP/1.1 connection: one request at a time, its answer parsed as bytes arrive."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.waiter: asyncio.Future[tuple[int, bytes, bool]] | None = None
        self.body: list[bytes] = []
        self.closed = False
        self.idle_since = 0.0

    # -- asyncio.Protocol ------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A cast, not an isinstance check: another event loop's transports (uvloop's) have
        # the methods without deriving from asyncio.Transport.
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        if self.waiter is None:  # nothing was asked: the connection cannot be trusted
            self.close()
            return
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(NetworkError(f"garbled answer from the Bot API: {exc}"))
            self.close()

    def eof_received(self) -> bool:
        return False  # close our side too; connection_lost fails a pending exchange

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        reason = f": {exc}" if exc else ""
        self._fail(NetworkError(f"connection to the Bot API closed before its answer{reason}"))

    # -- httptools callbacks -----------------------------------------------------------------

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            status = self.parser.get_status_code()
            keep = self.parser.should_keep_alive()
            waiter.set_result((status, b"".join(self.body), keep))
        self.body = []

    # -- ours ---------------------------------------------------------------------------------

    def _fail(self, error: Exception) -> None:
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(error)

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    async def exchange(self, request: bytes, limit: float | None) -> tuple[int, bytes, bool]:
        """Write ``request``, wait for the whole answer: (status, body, keep the connection).

        A timer handle rather than ``asyncio.timeout``: this runs for every message sent."""
        assert self.transport is not None
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[tuple[int, bytes, bool]] = loop.create_future()
        self.waiter = waiter
        self.body = []
        self.transport.write(request)
        timer = None
        if limit is not None:
            timer = loop.call_later(limit, _expire, waiter)
        try:
            return await waiter
        finally:
            if timer is not None:
                timer.cancel()


def _expire(waiter: asyncio.Future[Any]) -> None:
    if not waiter.done():
        waiter.set_exception(TimedOut("Timed out waiting for the Bot API's answer"))


class LeanRequest(BaseRequest):
    """JSON POSTs only (every outbox row without a file); see the module's docstring."""

    parse_json_payload = staticmethod(parse_json_payload)  # orjson, as AiohttpRequest

    def __init__(
        self,
        *,
        connection_pool_size: int = 16,
        read_timeout: float = 5.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._ssl = ssl_context
        self._idle: dict[_Origin, list[_Connection]] = {}
        self._open: set[_Connection] = set()
        self._slots: asyncio.Semaphore | None = None
        # Uploads and downloads (multipart bodies, GETs of files) go through aiohttp, made at
        # the first one: most runs never send a file, and importing aiohttp costs ~0.1 s.
        self._others: BaseRequest | None = None

    @property
    def read_timeout(self) -> float:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._slots is None:
            self._slots = asyncio.Semaphore(self._pool_size)

    async def shutdown(self) -> None:
        if self._others is not None:
            await self._others.shutdown()
            self._others = None
        for conn in list(self._open):
            conn.close()
        self._open.clear()
        self._idle.clear()
        self._slots = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._slots is None:
            raise RuntimeError("LeanRequest is not initialized")
        if method != "POST" or (request_data is not None and request_data.contains_files):
            others = await self._uploads_and_downloads()
            return await others.do_request(
                url,
                method,
                request_data,
                read_timeout=read_timeout,
                write_timeout=write_timeout,
                connect_timeout=connect_timeout,
                pool_timeout=pool_timeout,
            )
        target = _target(url)
        body = jsontext.dump_bytes(request_data.parameters) if request_data else b"{}"
        read = _given(read_timeout, self._read_timeout)
        write = _given(write_timeout, DEFAULT["write"])
        exchange_timeout = None if read is None or write is None else read + write
        slots = self._slots
        if slots.locked():  # every connection is busy: wait for one, as long as PTB's pool
            try:
                async with asyncio.timeout(_given(pool_timeout, DEFAULT["pool"])):
                    await slots.acquire()
            except TimeoutError as err:
                raise TimedOut("Pool timeout: all connections to the Bot API are busy") from err
        else:
            await slots.acquire()
        try:
            conn = await self._connection(
                target.origin, _given(connect_timeout, DEFAULT["connect"])
            )
            request = _head(target, len(body)) + body
            try:
                status, answer, keep = await conn.exchange(request, exchange_timeout)
            except BaseException:
                self._discard(conn)  # a half-read answer would be read as the next one's
                raise
            if keep and not conn.closed:
                conn.idle_since = asyncio.get_running_loop().time()
                self._idle.setdefault(target.origin, []).append(conn)
            else:
                self._discard(conn)
            return status, answer
        finally:
            slots.release()

    async def _uploads_and_downloads(self) -> BaseRequest:
        if self._others is None:
            from bot.transport.http import AiohttpRequest

            others = AiohttpRequest(
                connection_pool_size=self._pool_size, read_timeout=self._read_timeout
            )
            await others.initialize()
            self._others = others
        return self._others

    async def _connection(self, origin: _Origin, limit: float | None) -> _Connection:
        """A kept-alive connection to ``origin`` (the one used last first), else a new one."""
        idle = self._idle.get(origin)
        if idle:
            oldest_usable = asyncio.get_running_loop().time() - IDLE_REUSE
            while idle:
                conn = idle.pop()
                if not conn.closed and conn.idle_since >= oldest_usable:
                    return conn
                self._discard(conn)
        loop = asyncio.get_running_loop()
        context = None
        if origin.secure:
            context = self._ssl or _default_context()
        try:
            async with asyncio.timeout(limit):
                _, conn = await loop.create_connection(
                    _Connection,
                    origin.host,
                    origin.port,
                    ssl=context,
                    server_hostname=origin.host if context is not None else None,
                )
        except TimeoutError as err:
            raise TimedOut(f"Timed out connecting to {origin.host_header}") from err
        except (OSError, ssl.SSLError) as err:
            raise NetworkError(f"could not connect to {origin.host_header}: {err!r}") from err
        self._open.add(conn)
        return conn

    def _discard(self, conn: _Connection) -> None:
        conn.close()
        self._open.discard(conn)


@lru_cache(maxsize=1)
def _default_context() -> ssl.SSLContext:
    """Built once (loading the certificate store is milliseconds), at the first https call."""
    return ssl.create_default_context()


@lru_cache(maxsize=1024)
def _head(target: _Target, length: int) -> bytes:
    """The request's head, cached per (method, body length): both repeat all the time."""
    return (
        b"POST " + target.path + b" HTTP/1.1\r\nHost: " + target.origin.host_header.encode()
        + b"\r\nUser-Agent: " + LeanRequest.USER_AGENT.encode()
        + b"\r\nAccept: */*\r\nContent-Type: application/json\r\nContent-Length: "
        + str(length).encode() + b"\r\n\r\n"
    )  # fmt: skip

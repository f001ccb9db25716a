"""PTB's networking backend on aiohttp, for the calls that carry files.

The bot's JSON calls go through bot/transport/lean_http.py, which hands this class what it
does not do itself: multipart uploads (a photo, a ledger) and GETs of files. aiohttp is
imported at the first of them, not with this module, so a start does not pay for it.

Why aiohttp rather than PTB's default httpx: at ingest rates httpx's per-request overhead was
the largest single cost in the bot process (issue #7's profile: httpx, httpcore, anyio and h11,
including a scan of every pooled connection on each request); aiohttp parses HTTP in C and is
a dependency already (the webhook server). PTB supports this officially: a
:class:`telegram.request.BaseRequest` subclass. It still sends a JSON body when given one.

Errors map as PTB's own backend maps them: a timeout becomes :class:`TimedOut`, any other
transport failure :class:`NetworkError` (both "try again", which the outbox does).
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import TYPE_CHECKING, Any, cast

from telegram._utils.types import JSONDict
from telegram.error import NetworkError, TelegramError, TimedOut
from telegram.request import BaseRequest, RequestData

from storage import jsontext

if TYPE_CHECKING:
    import aiohttp
    from yarl import URL

DEFAULT: dict[str, float] = {"read": 5.0, "write": 5.0, "connect": 5.0, "pool": 1.0}
MEDIA_WRITE_TIMEOUT = 20.0
JSON_HEADERS = {"Content-Type": "application/json"}


def parse_json_payload(payload: bytes) -> JSONDict:
    """PTB's ``BaseRequest.parse_json_payload`` (which PTB lets a backend replace) with orjson
    (storage/jsontext.py): every answer from Telegram is parsed here, a getUpdates batch or a
    sent message."""
    try:
        parsed = jsontext.loads(payload)
    except ValueError:  # not JSON, or not UTF-8: PTB decodes with errors="replace"
        try:
            parsed = json.loads(payload.decode("utf-8", "replace"))
        except ValueError as exc:
            raise TelegramError("Invalid server response") from exc
    return cast(JSONDict, parsed)


class AiohttpRequest(BaseRequest):
    """One keep-alive connection pool for Bot API calls."""

    parse_json_payload = staticmethod(parse_json_payload)

    def __init__(self, *, connection_pool_size: int = 16, read_timeout: float = 5.0) -> None:
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float:
        return self._read_timeout

    async def initialize(self) -> None:
        # aiohttp is imported here, not with the module: ~100-170 ms at every start, and the
        # bot's JSON calls go through bot/transport/lean_http.py, which hands this class only
        # uploads and downloads (issue #15 item 5: start-up).
        import aiohttp

        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._pool_size, ttl_dns_cache=300)
            self._session = aiohttp.ClientSession(
                connector=connector,
                headers={"User-Agent": self.USER_AGENT},
                # The Bot API sets no cookies: a jar filtered and updated on every call for
                # nothing (issue #15 item 6's profile of the sender).
                cookie_jar=aiohttp.DummyCookieJar(),
            )

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

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
        if self._session is None or self._session.closed:
            raise RuntimeError("AiohttpRequest is not initialized")
        import aiohttp  # already loaded by initialize()

        files = request_data.multipart_data if request_data else None
        body: aiohttp.FormData | bytes | None = None
        headers = None
        if files and request_data:
            body = aiohttp.FormData(request_data.json_parameters)
            for name, (filename, content, mimetype) in files.items():
                body.add_field(name, content, filename=filename, content_type=mimetype)
        elif request_data:
            # A JSON body (which the Bot API accepts) costs less to build than a form:
            # percent-encoding Chinese text showed in the profile.
            body = jsontext.dump_bytes(request_data.parameters)
            headers = JSON_HEADERS
        timeout = _timeout(  # cached: callers ask with the same few every time
            _given(read_timeout, self._read_timeout),
            _given(write_timeout, MEDIA_WRITE_TIMEOUT if files else DEFAULT["write"]),
            _given(connect_timeout, DEFAULT["connect"]),
            _given(pool_timeout, DEFAULT["pool"]),
        )
        try:
            async with self._session.request(
                method, _url(url), data=body, headers=headers, timeout=timeout
            ) as resp:
                return resp.status, await resp.read()
        except TimeoutError as err:
            raise TimedOut from err
        except (aiohttp.ClientError, OSError) as err:
            raise NetworkError(f"aiohttp.{err.__class__.__name__}: {err}") from err


def _given(value: Any, default: float | None) -> float | None:
    """PTB passes DEFAULT_NONE for "not specified" and None for "no limit"."""
    return default if isinstance(value, type(BaseRequest.DEFAULT_NONE)) else value


@lru_cache(maxsize=256)
def _url(url: str) -> URL:
    """The parsed URL of a Bot API method: a handful of them, parsed once each instead of
    on every call."""
    from yarl import URL

    return URL(url)


@lru_cache(maxsize=64)
def _timeout(
    read: float | None, write: float | None, connect: float | None, pool: float | None
) -> aiohttp.ClientTimeout:
    """aiohttp has no write timeout: the whole exchange is bounded by the sum instead."""
    import aiohttp

    parts = (read, write, connect, pool)
    total = None if any(p is None for p in parts) else sum(p for p in parts if p is not None)
    return aiohttp.ClientTimeout(
        total=total,
        connect=None if connect is None or pool is None else connect + pool,
        sock_read=read,
    )

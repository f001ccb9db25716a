"""Fixtures for the sandbox Bot API server tests."""

from __future__ import annotations

import functools
import ssl
from collections.abc import AsyncIterator
from typing import Any

import pytest
from telegram import Bot
from telegram.request import HTTPXRequest

from sandbox.models import ChatState, SandboxUser
from sandbox.server import SandboxServer

TOKEN = "123456:TEST"


class FakeClock:
    """A manually advanced clock (seconds since the epoch)."""

    def __init__(self, start: float = 1_750_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@functools.cache
def tls() -> ssl.SSLContext:
    """One verifying TLS context for every HTTP client of a test process. httpx builds a new
    one per client by default, reading the whole CA bundle: 23 ms of CPU each, two per PTB
    ``Bot``, ~100 times a run (issue #12 item 6). The sandbox speaks plain HTTP anyway."""
    return ssl.create_default_context()


def ptb_bot(token: str, **kwargs: Any) -> Bot:
    """PTB's ``Bot`` with its own default backend (httpx), on the shared TLS context."""
    return Bot(
        token,
        request=HTTPXRequest(httpx_kwargs={"verify": tls()}),
        get_updates_request=HTTPXRequest(httpx_kwargs={"verify": tls()}),
        **kwargs,
    )


@pytest.fixture(autouse=True)
def _ptb_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    # PTB 22 warns (an error under filterwarnings=error) when RetryAfter/periods are ints.
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def server() -> AsyncIterator[SandboxServer]:
    srv = SandboxServer()
    srv.add_bot(TOKEN, username="gridbot", first_name="网格通")
    await srv.start()
    try:
        yield srv
    finally:
        await srv.stop()
        assert srv.internal_errors == []


@pytest.fixture
async def bot(server: SandboxServer) -> AsyncIterator[Bot]:
    tg = ptb_bot(TOKEN, base_url=server.base_url, base_file_url=server.base_file_url)
    async with tg:
        yield tg


@pytest.fixture
def alice(server: SandboxServer) -> SandboxUser:
    return server.add_user("王", "阿姨", username="wang_ayi")


@pytest.fixture
def bob(server: SandboxServer) -> SandboxUser:
    return server.add_user("李", "师傅")


@pytest.fixture
def group(server: SandboxServer, alice: SandboxUser, bob: SandboxUser) -> ChatState:
    return server.add_group("阅海湾一网格", members=[alice.id, bob.id])


async def raw_call(
    server: SandboxServer,
    method: str,
    token: str = TOKEN,
    *,
    json_body: bool = False,
    **params: object,
) -> tuple[int, dict[str, object]]:
    """Call the Bot API without PTB (form-encoded by default) and return (status, body)."""
    import httpx

    async with httpx.AsyncClient(verify=tls()) as http:
        url = f"{server.base_url}{token}/{method}"
        if json_body:
            response = await http.post(url, json=params)
        else:
            response = await http.post(url, data={k: str(v) for k, v in params.items()})
    return response.status_code, response.json()

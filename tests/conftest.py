"""Settings for the whole suite."""

from __future__ import annotations

import pytest

import storage.db


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "durable: open databases as gridbot does in production (synchronous=FULL)"
    )


@pytest.fixture(autouse=True)
def _commits_without_fsync(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Commits reach the operating system, not the platters: a test never cuts the power, and
    on this shared machine each fsync waited on everyone's disk (5 of the 14 s the service
    and storage tests spent waiting; issue #12 item 6). A killed process still loses nothing
    (WAL); the crash test runs its bots in processes of their own, with production settings."""
    if request.node.get_closest_marker("durable") is None:
        monkeypatch.setattr(storage.db, "SYNCHRONOUS", "NORMAL")

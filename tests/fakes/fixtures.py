"""pytest fixtures for the fake upstream.

    from tests.fakes.fixtures import fake_upstream   # or rely on tests/providers/conftest.py

One server per test session (started on first use, in a background thread); each test gets it
freshly reset, with its host:port added to SAFE_FETCH_ALLOW_HOSTS so output downloads from
loopback are allowed for that test only."""
from __future__ import annotations

import atexit
import threading

import pytest

from .core import FakeUpstream

_lock = threading.Lock()
_server: FakeUpstream | None = None


def shared_fake_upstream() -> FakeUpstream:
    global _server
    with _lock:
        if _server is None:
            _server = FakeUpstream().start()
            atexit.register(_server.stop)
    return _server


@pytest.fixture
def fake_upstream(settings):
    fake = shared_fake_upstream()
    fake.reset()
    settings.SAFE_FETCH_ALLOW_HOSTS = [*getattr(settings, "SAFE_FETCH_ALLOW_HOSTS", []), fake.host]
    yield fake
    fake.reset()

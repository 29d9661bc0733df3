"""A burst of 1,000 concurrent requests against the production server configuration (granian
from the Procfile, bounded database pool): nothing answers 500, at least 95% succeed, the rest
are retryable (429/503 with Retry-After), the server answers normally right after, and on
PostgreSQL the connection count stays under the configured bound."""
from __future__ import annotations

import asyncio
import collections
import threading
import time

import httpx
import pytest
from django.db import connection

from apps.accounts.models import Plan
from apps.accounts.services import user_onboard
from apps.api.services import api_key_create
from apps.wallet.models import Wallet
from apps.wallet.services import wallet_grant
from tests.support.web import WebProcess

BURST = 1_000
SUBMITS = 100  # of the burst; the rest read the balance
WEB_WORKERS = 2
POOL_MAX = 6
WEB_APP_NAME = "atelier-burst-web"  # libpq's PGAPPNAME: tells the web processes' sessions apart


@pytest.fixture
def burst_key(transactional_db, make_user, catalog):
    user = make_user("burst@example.com")
    user_onboard(user=user)
    # This burst measures the server's resources, not the rate limiter (tests/api/test_keys_and_limits.py):
    # its workspace gets a plan whose windows the burst cannot fill.
    user.current_workspace.plan = Plan.objects.create(name="Burst", requests_per_minute=100_000,
                                                      polls_per_minute=100_000)
    user.current_workspace.save()
    wallet_grant(wallet=Wallet.objects.get(workspace=user.current_workspace), amount=10_000_000, reason="burst")
    return api_key_create(user=user, workspace=user.current_workspace, name="burst").secret


async def _fire(url: str, key: str) -> list[httpx.Response | Exception]:
    headers = {"Authorization": f"Bearer {key}"}
    limits = httpx.Limits(max_connections=BURST, max_keepalive_connections=BURST)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=httpx.Timeout(120.0)) as client:
        async def one(i: int):
            try:
                if i % (BURST // SUBMITS) == 0:
                    return await client.post("/v1/generations", headers=headers,
                                             json={"model": "sandbox-image", "params": {"prompt": f"burst {i}"}})
                return await client.get("/v1/balance", headers=headers)
            except httpx.HTTPError as exc:
                return exc

        return await asyncio.gather(*(one(i) for i in range(BURST)))


class ConnectionSampler(threading.Thread):
    """Counts the web processes' PostgreSQL sessions every 20 ms during the burst."""

    def __init__(self, dsn: dict):
        super().__init__(daemon=True)
        self.dsn, self.peak, self.samples = dsn, 0, 0
        self.done = threading.Event()

    def run(self):
        import psycopg

        with psycopg.connect(**self.dsn, autocommit=True) as conn:
            while not self.done.is_set():
                count = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
                                     [WEB_APP_NAME]).fetchone()[0]
                self.peak, self.samples = max(self.peak, count), self.samples + 1
                time.sleep(0.02)


def _burst(key: str, sampler: ConnectionSampler | None = None):
    # Threads and backpressure: the shipped defaults.
    web = WebProcess(workers=WEB_WORKERS, extra_env={"DB_POOL_MAX_SIZE": str(POOL_MAX), "PGAPPNAME": WEB_APP_NAME})
    try:
        if sampler:
            sampler.start()
        started = time.monotonic()
        answers = asyncio.run(_fire(web.url, key))
        elapsed = time.monotonic() - started
        if sampler:
            sampler.done.set()
            sampler.join(timeout=10)
        after = httpx.get(f"{web.url}/v1/balance", headers={"Authorization": f"Bearer {key}"}, timeout=10)
        return answers, after, elapsed, web.log()
    finally:
        web.stop()


def _check(answers, after, log):
    statuses = collections.Counter(a.status_code if isinstance(a, httpx.Response) else type(a).__name__
                                   for a in answers)
    print(f"burst answers: {dict(statuses)}")
    assert all(isinstance(a, httpx.Response) for a in answers), (statuses, log)
    assert statuses.get(500, 0) == 0, (statuses, log)
    ok = sum(n for status, n in statuses.items() if 200 <= status < 300)
    assert ok >= 0.95 * BURST, statuses
    retryable = [a for a in answers if a.status_code in (429, 503)]
    assert ok + len(retryable) == BURST, statuses
    assert all(a.headers.get("Retry-After") for a in retryable)
    assert all(a.json()["error"]["code"] for a in retryable)
    assert after.status_code == 200 and after.json()["object"] == "balance"
    return statuses


@pytest.mark.pg
def test_burst_of_1000_requests_gets_no_500_and_stays_under_the_connection_bound(burst_key):
    sampler = None
    if connection.vendor == "postgresql":
        params = connection.get_connection_params()
        sampler = ConnectionSampler({k: params[k] for k in ("dbname", "user", "host", "port") if params.get(k)})
    answers, after, elapsed, log = _burst(burst_key, sampler)
    print(f"burst of {BURST} took {elapsed:.1f}s")
    statuses = _check(answers, after, log)
    accepted = statuses.get(202, 0)
    assert accepted > 0.9 * SUBMITS  # submits went through too (queued for the workers)
    if sampler is not None:
        bound = WEB_WORKERS * POOL_MAX
        print(f"peak PostgreSQL sessions of the web processes during the burst: {sampler.peak} "
              f"(bound {bound}), {sampler.samples} samples, {elapsed:.1f}s")
        assert sampler.samples > 5 and sampler.peak > 0
        assert sampler.peak <= bound

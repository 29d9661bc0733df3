"""MCP benchmark: what the Streamable HTTP bridge (apps/agents/http.py: a Django view driving the
SDK's stateless JSON transport on an event loop per request) costs beside a plain API call.
Prints figures, asserts nothing.

Atelier runs on its production server (granian, WSGI) on the embedded default (SQLite), started
by this script on a free loopback port. Rounds interleave the cases so a noisy neighbour hits
them alike; the load average is printed beside the figures.

Figures (median over rounds of each round's median latency, and the ratio to the first case):
 1. GET /v1/balance (the API, the baseline);
 2. POST /mcp tools/call get_balance as one raw JSON-RPC request (what the bridge adds);
 3. POST /mcp tools/list (the catalog-derived schemas, cached).

Run: .venv/bin/python bench/mcp_tools.py [--rounds 7] [--requests 100]"""
from __future__ import annotations

import argparse
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.servers import _wait_for_port, free_port  # noqa: E402

LEGACY = "2025-06-18"  # a handshake-era revision: what today's agents send


def setup(var_dir: str) -> str:
    os.environ.update(ATELIER_VAR_DIR=var_dir, SQLITE_PATH=f"{var_dir}/bench.sqlite3", LOG_LEVEL="WARNING",
                      DJANGO_SETTINGS_MODULE="config.settings", SECRET_KEY="bench-" + secrets.token_hex(24))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from apps.accounts.models import Plan, User
    from apps.accounts.services import user_onboard
    from apps.api.services import api_key_create
    from apps.catalog.data import all_models
    from apps.catalog.services import catalog_sync

    catalog_sync(entries=all_models())
    Plan.objects.filter(is_default=True).update(requests_per_minute=10**7, polls_per_minute=10**7)
    user = User.objects.create_user(email="bench@example.com", password="x")
    user_onboard(user=user)
    return api_key_create(user=user, workspace=user.current_workspace, name="bench").secret


def median_ms(client: httpx.Client, send, requests: int) -> float:
    times = []
    for _ in range(requests):
        start = time.perf_counter()
        response = send(client)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, response.text[:300]
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--requests", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="atelier-bench-mcp-") as var_dir:
        key = setup(var_dir)
        port = free_port()
        env = {**os.environ, "ATELIER_ADDR": f"127.0.0.1:{port}", "WEB_WORKERS": "1", "WEB_THREADS": "8"}
        server = subprocess.Popen([sys.executable, "manage.py", "serve"], cwd=ROOT, env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            _wait_for_port(port, timeout=60)
            base = f"http://127.0.0.1:{port}"
            auth = {"Authorization": f"Bearer {key}"}
            rpc = {**auth, "Accept": "application/json, text/event-stream", "MCP-Protocol-Version": LEGACY}
            cases = {
                "GET /v1/balance": lambda c: c.get(f"{base}/v1/balance", headers=auth),
                "MCP tools/call get_balance": lambda c: c.post(f"{base}/mcp", headers=rpc, json={
                    "jsonrpc": "2.0", "id": 1, "method": "tools/call",
                    "params": {"name": "get_balance", "arguments": {}}}),
                "MCP tools/list": lambda c: c.post(f"{base}/mcp", headers=rpc, json={
                    "jsonrpc": "2.0", "id": 1, "method": "tools/list"}),
            }
            rounds: dict[str, list[float]] = {name: [] for name in cases}
            with httpx.Client(timeout=30) as client:
                for send in cases.values():  # warm up: caches, connections, imports
                    median_ms(client, send, 5)
                for _ in range(args.rounds):
                    for name, send in cases.items():
                        rounds[name].append(median_ms(client, send, args.requests))
            load = open("/proc/loadavg").read().split()[:3]
            baseline = statistics.median(rounds["GET /v1/balance"])
            print(f"{args.rounds} rounds x {args.requests} sequential requests, load average {' '.join(load)}")
            for name, values in rounds.items():
                value = statistics.median(values)
                print(f"  {name:30s} median {value:7.2f} ms   x{value / baseline:5.2f} of GET /v1/balance")
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()

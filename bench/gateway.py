"""Gateway benchmark: what Atelier adds to a chat completion, beside LiteLLM's proxy. Prints
figures, asserts nothing.

Everything runs on loopback, started by this script: PostgreSQL + Redis (the production stack),
the fake upstream (an OpenAI-compatible server), Atelier on its production server (granian,
WSGI) and LiteLLM's proxy pointed at the same fake (installed into bench/.litellm-venv on first
use: `pip install 'litellm[proxy]'`, about a minute). Rounds are interleaved (direct, Atelier,
LiteLLM, direct, ...) so a noisy neighbour hits all three alike; the load average is printed
beside each figure.

Figures:
 1. non-streaming chat: median latency direct, through Atelier, through LiteLLM, and the median
    latency each gateway adds (median over rounds of each round's median); beside them the floor
    (bench/floor.py): granian + Django + one pooled httpx call to the fake, no Atelier code,
    which is what any Django gateway on this server adds before doing anything;
 2. streaming: the time to first token each gateway adds;
 3. requests/s through Atelier (and LiteLLM) at 16 and 200 concurrent clients;
 4. the time to first token with 200 streams open through Atelier at once;
 5. server CPU time and database queries of one POST /v1/generations (in this process);
 6. the key check and rate limiter alone (in this process), per request.

Run: .venv/bin/python bench/gateway.py [--rounds 7] [--requests 200] [--skip-litellm]"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.servers import _wait_for_port, free_port, start_postgres, start_redis  # noqa: E402

LITELLM_VENV = ROOT / "bench" / ".litellm-venv"
MODEL = "gpt-4o-mini"
BODY = {"model": MODEL, "messages": [{"role": "user", "content": "Say hello to the benchmark."}], "max_tokens": 16}


def load() -> str:
    return "load %s" % " ".join(open("/proc/loadavg").read().split()[:3])


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--requests", type=int, default=200, help="sequential requests per gateway per round")
    parser.add_argument("--skip-litellm", action="store_true")
    return parser.parse_args()


# ---- processes ----------------------------------------------------------------------------------
def spawn(args, *, env=None, log: Path, cwd=ROOT) -> subprocess.Popen:
    return subprocess.Popen(args, cwd=cwd, env=env, stdout=open(log, "wb"), stderr=subprocess.STDOUT,
                            start_new_session=True)


def stop(process: subprocess.Popen):
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def litellm_binary() -> Path:
    binary = LITELLM_VENV / "bin" / "litellm"
    if not binary.exists():
        print("installing litellm[proxy] into bench/.litellm-venv (once) ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(LITELLM_VENV)], check=True)
        subprocess.run([str(LITELLM_VENV / "bin" / "pip"), "install", "--quiet", "litellm[proxy]"], check=True)
    return binary


def start_litellm(fake_url: str, workdir: Path) -> tuple[subprocess.Popen, str, str]:
    port = free_port()
    config = workdir / "litellm.yaml"
    config.write_text(json.dumps({"model_list": [{"model_name": MODEL, "litellm_params": {
        "model": f"openai/{MODEL}", "api_base": f"{fake_url}/open/v1", "api_key": "none"}}],
        "general_settings": {"master_key": "sk-bench-master"}}))
    # Not Atelier's database or Redis: LiteLLM would try to run its own migrations on them.
    env = {name: value for name, value in os.environ.items() if name not in ("DATABASE_URL", "REDIS_URL")}
    env.update(LITELLM_LOG="ERROR", LITELLM_MASTER_KEY="sk-bench-master")
    process = spawn([str(litellm_binary()), "--config", str(config), "--host", "127.0.0.1", "--port", str(port),
                     "--num_workers", "1"], env=env, log=workdir / "litellm.log")
    try:
        _wait_for_port(port, timeout=600)  # its first start imports a lot (about a minute here)
    except Exception:
        stop(process)
        raise SystemExit("LiteLLM did not start:\n" + (workdir / "litellm.log").read_text(errors="replace")[-3000:]) from None
    return process, f"http://127.0.0.1:{port}", "sk-bench-master"


def setup_atelier(pg_url: str, redis_url: str, var_dir: str, fake_url: str) -> str:
    os.environ.update(DATABASE_URL=pg_url, REDIS_URL=redis_url, ATELIER_VAR_DIR=var_dir, LOG_LEVEL="WARNING",
                      DJANGO_SETTINGS_MODULE="config.settings")
    os.environ.setdefault("SECRET_KEY", "bench-only-" + "k" * 40)
    # Each web worker's pool: enough for 200 streams' brief database moments without waiting.
    os.environ.setdefault("DB_POOL_MAX_SIZE", "32")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from apps.accounts.models import Plan, User
    from apps.accounts.services import user_onboard
    from apps.api.services import api_key_create
    from apps.catalog.data import all_models
    from apps.catalog.models import Channel
    from apps.catalog.services import catalog_sync
    from apps.wallet.models import Wallet
    from apps.wallet.services import wallet_grant

    catalog_sync(entries=all_models())
    # A benchmark is not a burst to protect against: the windows stay on, set out of reach.
    Plan.objects.filter(is_default=True).update(requests_per_minute=10**7, polls_per_minute=10**7,
                                                concurrent_video_jobs=None)
    user = User.objects.create_user(email="bench@example.com", password="x")
    user_onboard(user=user)
    wallet_grant(wallet=Wallet.objects.get(workspace=user.current_workspace), amount=10**13, reason="bench")
    Channel.objects.create(name="fake", adapter="openai_compat", base_url=f"{fake_url}/open/v1", priority=10)
    return api_key_create(user=user, workspace=user.current_workspace, name="bench").secret


def start_atelier(env: dict, workdir: Path, threads: int = 256, target: str = "config.wsgi:application",
                  log: str = "atelier.log") -> tuple[subprocess.Popen, str]:
    port = free_port()
    granian = Path(sys.executable).with_name("granian")
    process = spawn([str(granian), "--interface", "wsgi", "--host", "127.0.0.1", "--port", str(port), "--workers",
                     "1", "--blocking-threads", str(threads), "--backpressure", str(threads), "--log-level",
                     "warning", target], env=env, log=workdir / log)
    _wait_for_port(port, timeout=60)
    return process, f"http://127.0.0.1:{port}"


def start_floor(fake_url: str, workdir: Path) -> tuple[subprocess.Popen, str]:
    """bench/floor.py on the same granian settings as Atelier."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.floor", "FLOOR_UPSTREAM": fake_url}
    return start_atelier(env, workdir, target="bench.floor:application", log="floor.log")


def start_stack(workdir: Path, processes: list, servers: list) -> tuple[str, str, str]:
    """PostgreSQL, Redis, the fake upstream and Atelier on granian, set up for chat; what it
    starts is appended to processes and servers (for the caller's cleanup). Returns the fake's
    URL, Atelier's API key and Atelier's URL."""
    postgres, redis = start_postgres(), start_redis()
    servers += [postgres, redis]
    fake_port = free_port()
    processes.append(spawn([sys.executable, "-m", "tests.fakes.server", "--port", str(fake_port), "--instant"],
                           log=workdir / "fake.log"))
    _wait_for_port(fake_port)
    fake_url = f"http://127.0.0.1:{fake_port}"
    key = setup_atelier(postgres.url, redis.url, str(workdir / "var"), fake_url)
    env = {**os.environ, "DATABASE_URL": postgres.url, "REDIS_URL": redis.url,
           "ATELIER_VAR_DIR": str(workdir / "var"), "SAFE_FETCH_ALLOW_HOSTS": f"127.0.0.1:{fake_port}"}
    atelier_process, atelier_url = start_atelier(env, workdir)
    processes.append(atelier_process)
    return fake_url, key, atelier_url


# ---- measurements -------------------------------------------------------------------------------
class Target:
    def __init__(self, name: str, url: str, path: str, key: str | None):
        import httpx

        self.name, self.url, self.path = name, url, path
        self.headers = {"Authorization": f"Bearer {key}"} if key else {}
        self.client = httpx.Client(base_url=url, timeout=60, headers=self.headers)

    def once(self) -> float:
        started = time.perf_counter()
        response = self.client.post(self.path, json=BODY)
        response.raise_for_status()
        return time.perf_counter() - started

    def first_token(self) -> float:
        started = time.perf_counter()
        with self.client.stream("POST", self.path, json={**BODY, "stream": True}) as response:
            response.raise_for_status()
            lines = response.iter_lines()
            for line in lines:
                if line.startswith("data: {") and '"content":"' in line.replace(" ", "") and \
                        '"content":""' not in line.replace(" ", ""):
                    elapsed = time.perf_counter() - started
                    break
            else:
                raise RuntimeError(f"{self.name}: no token in the stream")
            for _ in lines:
                pass
            return elapsed


def interleaved(targets: list[Target], rounds: int, requests: int, measure: str) -> dict[str, list[float]]:
    medians = {t.name: [] for t in targets}
    for target in targets:  # warm connections, caches and JITs
        for _ in range(20):
            getattr(target, measure)()
    for _ in range(rounds):
        samples = {t.name: [] for t in targets}
        for _ in range(requests):
            for target in targets:
                samples[target.name].append(getattr(target, measure)())
        for name, values in samples.items():
            medians[name].append(statistics.median(values))
    return medians


def throughput(target: Target, clients: int, seconds: float = 5.0) -> float:
    import httpx

    stop_at = time.perf_counter() + seconds
    counts = [0] * clients

    def run(index):
        with httpx.Client(base_url=target.url, timeout=60, headers=target.headers,
                          limits=httpx.Limits(max_connections=1)) as client:
            while time.perf_counter() < stop_at:
                client.post(target.path, json=BODY).raise_for_status()
                counts[index] += 1

    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(run, range(clients)))
    return sum(counts) / seconds


def streams_at_once(target: Target, streams: int, fake) -> list[float]:
    """TTFT of `streams` streams opened together while the upstream drips tokens slowly."""
    fake.config(stream_chunk_seconds=0.05)
    barrier = threading.Barrier(streams)
    results = [0.0] * streams

    def run(index):
        import httpx

        with httpx.Client(base_url=target.url, timeout=120, headers=target.headers) as client:
            barrier.wait()
            started = time.perf_counter()
            with client.stream("POST", target.path, json={**BODY, "stream": True, "max_tokens": 8}) as response:
                lines = response.iter_lines()
                for line in lines:
                    if '"content":"' in line.replace(" ", "") and '"content":""' not in line.replace(" ", ""):
                        results[index] = time.perf_counter() - started
                        break
                for _ in lines:
                    pass

    threads = [threading.Thread(target=run, args=(i,)) for i in range(streams)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    fake.config(stream_chunk_seconds=0.0)
    return results


def submit_cost(samples: int = 200) -> tuple[float, float]:
    """CPU ms and queries of one POST /v1/generations, through Django's test client in-process."""
    from django.db import connection
    from django.test import Client

    from apps.api.models import ApiKey
    from apps.api.services import api_key_create

    key = ApiKey.objects.get(name="bench")
    secret = api_key_create(user=key.user, workspace=key.workspace, name="bench-submit").secret
    client = Client()
    body = json.dumps({"model": "sandbox-image", "params": {"prompt": "a benchmark", "size": "512x512"}})

    def submit():
        response = client.post("/v1/generations", data=body, content_type="application/json",
                               HTTP_AUTHORIZATION=f"Bearer {secret}")
        assert response.status_code == 202, response.content

    for _ in range(20):
        submit()
    # Counted by an execute wrapper: it sees every statement of the request, whichever pooled
    # connection the wrapper object holds at the time.
    statements: list[str] = []

    def record(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        submit()
    started = time.process_time()
    for _ in range(samples):
        submit()
    return (time.process_time() - started) / samples * 1000, len(statements)


def key_check_cost(samples: int = 2000) -> tuple[float, float]:
    """Microseconds per request of the key check alone, and of the key check with the limiter."""
    from django.test import RequestFactory

    from apps.api.auth import authenticate, key_auth
    from apps.api.models import ApiKey
    from apps.api.services import api_key_create

    key = ApiKey.objects.get(name="bench")
    secret = api_key_create(user=key.user, workspace=key.workspace, name="bench-auth").secret
    request = RequestFactory().post("/v1/chat/completions", HTTP_AUTHORIZATION=f"Bearer {secret}")
    results = []
    for check in (authenticate, key_auth):
        for _ in range(50):
            check(request)
        started = time.perf_counter()
        for _ in range(samples):
            check(request)
        results.append((time.perf_counter() - started) / samples * 1e6)
    return results[0], results[1]


def main():
    args = parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="atelier-bench-gateway-"))
    processes, servers = [], []
    try:
        fake_url, key, atelier_url = start_stack(workdir, processes, servers)
        from tests.fakes.core import _Controls

        fake = _Controls()
        fake.url = fake_url
        floor_process, floor_url = start_floor(fake_url, workdir)
        processes.append(floor_process)
        targets = [Target("direct", fake_url, "/open/v1/chat/completions", None),
                   Target("floor", floor_url, "/v1/chat/completions", None),
                   Target("atelier", atelier_url, "/v1/chat/completions", key)]
        if not args.skip_litellm:
            litellm_process, litellm_url, master = start_litellm(fake_url, workdir)
            processes.append(litellm_process)
            targets.append(Target("litellm", litellm_url, "/v1/chat/completions", master))
        print(f"rounds: {args.rounds} x {args.requests} requests per gateway, interleaved ({load()})")

        medians = interleaved(targets, args.rounds, args.requests, "once")
        direct = statistics.median(medians["direct"])
        print(f"1. chat, non-streaming: direct {direct * 1000:.2f} ms ({load()})")
        added = {}
        for name in [t.name for t in targets if t.name != "direct"]:
            per_round = [g - d for g, d in zip(medians[name], medians["direct"])]
            added[name] = statistics.median(per_round)
            print(f"   {name:8s} {statistics.median(medians[name]) * 1000:7.2f} ms, adds {added[name] * 1000:6.2f} ms "
                  f"(rounds: {', '.join(f'{x * 1000:.2f}' for x in per_round)})")
        print(f"   the floor (granian + Django + one httpx call, no Atelier code) adds {added['floor'] * 1000:.2f} ms; "
              f"Atelier's own code adds {(added['atelier'] - added['floor']) * 1000:.2f} ms above it")
        if "litellm" in added:
            print(f"   Atelier adds {added['atelier'] / added['litellm']:.2f} x what LiteLLM adds "
                  "(target <= 0.5, and under 2 ms)")

        gateways = [target for target in targets if target.name != "floor"]  # the floor does not stream
        ttft = interleaved(gateways, args.rounds, max(20, args.requests // 4), "first_token")
        print(f"2. time to first token: direct {statistics.median(ttft['direct']) * 1000:.2f} ms ({load()})")
        for name in [t.name for t in gateways if t.name != "direct"]:
            gap = statistics.median([g - d for g, d in zip(ttft[name], ttft["direct"])])
            print(f"   {name:8s} adds {gap * 1000:6.2f} ms to the first token")

        for clients in (16, 200):
            for target in targets[1:]:
                print(f"3. {target.name:8s} {throughput(target, clients):8.0f} requests/s at {clients} clients "
                      f"({load()})")

        firsts = sorted(streams_at_once(next(t for t in targets if t.name == "atelier"), 200, fake))
        print(f"4. 200 streams at once through Atelier: first token median {statistics.median(firsts) * 1000:.0f} ms, "
              f"p95 {firsts[int(len(firsts) * 0.95)] * 1000:.0f} ms, max {firsts[-1] * 1000:.0f} ms ({load()})")

        cpu_ms, queries = submit_cost()
        print(f"5. POST /v1/generations: {cpu_ms:.2f} ms of CPU and {queries} queries per submit ({load()})")
        auth_us, limited_us = key_check_cost()
        print(f"6. key check {auth_us:.0f} us per request; with the rate limiter (Redis) {limited_us:.0f} us "
              f"({load()})")
    finally:
        for process in reversed(processes):
            stop(process)
        for server in servers:
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()

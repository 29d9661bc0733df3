"""Where a chat completion's time goes inside Atelier's production server: py-spy samples the
granian worker while one client sends sequential non-streaming chat completions, then prints
the inclusive share of the samples of each frame (function and line), highest first.

It starts the same stack as bench/gateway.py (PostgreSQL, Redis, the fake upstream, granian
WSGI) and prints the median latency direct and through Atelier beside the load average, so a
profile can be read against the figure it explains. Shares include time spent waiting on
PostgreSQL and Redis (py-spy --idle is off, but psycopg's wait loop runs in Python). py-spy
slows the worker while it samples: read shares, not absolute times.

Needs py-spy, which is not a project dependency: `.venv/bin/pip install py-spy`.

Run: .venv/bin/python bench/chat_profile.py [--seconds 20] [--rate 500] [--top 60]"""
from __future__ import annotations

import argparse
import collections
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.gateway import Target, load, start_stack, stop  # noqa: E402


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=20.0, help="how long to sample")
    parser.add_argument("--rate", type=int, default=500, help="py-spy samples per second")
    parser.add_argument("--top", type=int, default=60, help="frames to print")
    return parser.parse_args()


def frame_name(frame: str) -> str:
    """py-spy's raw frame `func (path/to/file.py:123)` as `func file.py:123`."""
    function, _, where = frame.partition(" (")
    return f"{function} {where.rstrip(')').rsplit('/', 1)[-1]}" if where else function


def inclusive_shares(raw: str) -> tuple[int, collections.Counter]:
    """Samples in all, and per frame the samples whose stack holds it (once per stack)."""
    shares: collections.Counter = collections.Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        samples = int(count)
        total += samples
        for name in {frame_name(frame) for frame in stack.split(";")}:
            shares[name] += samples
    return total, shares


def main():
    args = parse_args()
    spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
    if spy is None:
        raise SystemExit("py-spy is missing: .venv/bin/pip install py-spy")
    workdir = Path(tempfile.mkdtemp(prefix="atelier-bench-profile-"))
    processes, servers = [], []
    try:
        fake_url, key, atelier_url = start_stack(workdir, processes, servers)
        atelier = Target("atelier", atelier_url, "/v1/chat/completions", key)
        direct = Target("direct", fake_url, "/open/v1/chat/completions", None)
        for _ in range(300):  # warm connections and caches
            atelier.once()
        through = statistics.median(atelier.once() for _ in range(300)) * 1000
        straight = statistics.median(direct.once() for _ in range(300)) * 1000
        print(f"before sampling: direct {straight:.2f} ms, through Atelier {through:.2f} ms ({load()})")

        raw = workdir / "samples.txt"
        sampler = subprocess.Popen([spy, "record", "--format", "raw", "--rate", str(args.rate), "--subprocesses",
                                    "--nonblocking", "--output", str(raw), "--pid", str(processes[-1].pid)],  # granian: started last,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1.5)  # py-spy attaches to the worker
        requests, stop_at = 0, time.perf_counter() + args.seconds
        while time.perf_counter() < stop_at:
            atelier.once()
            requests += 1
        sampler.send_signal(signal.SIGINT)
        sampler.wait(timeout=60)
        total, shares = inclusive_shares(raw.read_text())
        print(f"{requests} requests sampled in {args.seconds:.0f} s, {total} samples ({load()})")
        for name, samples in shares.most_common(args.top):
            if not name.startswith("process "):
                print(f"{samples / max(total, 1) * 100:5.1f}%  {name}")
    finally:
        for process in processes:
            stop(process)
        for server in servers:
            server.stop()


if __name__ == "__main__":
    main()

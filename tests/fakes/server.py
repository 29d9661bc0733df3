"""Run the fake upstream as its own process (real-worker tests, benchmarks, demo mode).

    python -m tests.fakes.server --port 9900 [--host 127.0.0.1] [--instant] [--job-seconds 1.0]
"""
from __future__ import annotations

import argparse
import signal
import sys

from .core import FakeUpstream, state


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Atelier fake upstream server (loopback only by default).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9900)
    parser.add_argument("--instant", action="store_true", help="async jobs complete on their first poll")
    parser.add_argument("--job-seconds", type=float, default=None, help="how long async jobs take (default 1.0)")
    args = parser.parse_args(argv)
    fake = FakeUpstream(args.host, args.port, instant=args.instant)
    if args.job_seconds is not None:
        state.config["job_seconds"] = args.job_seconds
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"fake upstream listening on {fake.url}", flush=True)
    try:
        fake._server.serve_forever()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        fake._server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

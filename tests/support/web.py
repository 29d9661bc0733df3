"""A real web server process (granian, the production server) on the test database.

Clients in tests (the official openai SDK, httpx, the MCP client) talk to it over loopback,
exactly as they would to a deployment; the test process reads and writes the same database."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings

from .servers import _wait_for_port, free_port
from .worker import ROOT, _worker_env


class WebProcess:
    def __init__(self, *, extra_env: dict | None = None, threads: int = 16):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = Path(settings.VAR_DIR) / f"web-{time.time_ns()}.log"
        self._log = open(self.log_path, "wb")
        env = _worker_env({"SITE_URL": self.url, "ALLOWED_HOSTS": "127.0.0.1,localhost", **(extra_env or {})})
        self.process = subprocess.Popen(
            [str(Path(sys.executable).with_name("granian")), "--interface", "wsgi", "--host", "127.0.0.1",
             "--port", str(self.port), "--workers", "1", "--blocking-threads", str(threads),
             "--log-level", "warning", "config.wsgi:application"],
            cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        try:
            _wait_for_port(self.port, timeout=30)
        except Exception:
            self.stop()
            raise RuntimeError(f"web server did not start:\n{self.log()}") from None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:]

    def stop(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self._log.close()


def web_env_for_tests() -> dict:
    """Settings the test process has that a fresh server process would not."""
    return {"SAFE_FETCH_ALLOW_HOSTS": ",".join(getattr(settings, "SAFE_FETCH_ALLOW_HOSTS", []) or []),
            "PYTHONUNBUFFERED": "1", "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE",
                                                                             "config.settings")}

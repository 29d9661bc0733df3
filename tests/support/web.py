"""A production web process (granian, WSGI interface) on a free loopback port, sharing the test database."""
from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
from django.conf import settings

from .servers import ServerUnavailable, free_port
from .worker import ROOT, process_env, stop_process_group


def granian_binary() -> str:
    found = shutil.which("granian", path=str(Path(sys.executable).parent)) or shutil.which("granian")
    if not found:
        raise ServerUnavailable("granian is not installed (it is pinned in requirements.lock)")
    return found


class WebProcess:
    def __init__(self, *, extra_env: dict | None = None, threads: int = 32):
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = Path(settings.VAR_DIR) / f"web-{port}.log"
        self._log = open(self.log_path, "wb")
        env = process_env({"ALLOWED_HOSTS": "127.0.0.1,localhost", "SITE_URL": self.url, **(extra_env or {})})
        self.process = subprocess.Popen(
            [granian_binary(), "--interface", "wsgi", "config.wsgi:application", "--host", "127.0.0.1",
             "--port", str(port), "--workers", "1", "--blocking-threads", str(threads), "--no-access-log"],
            cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        self.wait_ready()

    def wait_ready(self, timeout: float = 60.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"web process exited early:\n{self.log()}")
            try:
                if httpx.get(self.url + "/v1/models", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"web process not ready within {timeout}s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:]

    def stop(self):
        stop_process_group(self.process)
        self._log.close()

"""The production web server (the Procfile's `web` line: manage.py serve -> granian, WSGI) in a
subprocess on a free port, sharing the test database, broker and media folder."""
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
    def __init__(self, *, extra_env: dict | None = None, workers: int | None = None, threads: int | None = None):
        from apps.ops.procfile import procfile_commands

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        sizes = {"WEB_WORKERS": workers, "WEB_THREADS": threads}
        env = process_env({"ATELIER_ADDR": f"127.0.0.1:{self.port}", **(extra_env or {}),
                           **{name: str(value) for name, value in sizes.items() if value}})
        env.setdefault("PROMETHEUS_MULTIPROC_DIR", str(Path(settings.VAR_DIR) / f"metrics-{self.port}"))
        Path(env["PROMETHEUS_MULTIPROC_DIR"]).mkdir(parents=True, exist_ok=True)
        self.command = procfile_commands(env=env)["web"]
        self.log_path = Path(settings.VAR_DIR) / f"web-{self.port}.log"
        self._log = open(self.log_path, "wb")
        self.process = subprocess.Popen(self.command, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        self.wait_ready()

    def wait_ready(self, timeout: float = 60.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"web server exited early:\n{self.log()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"web server not up within {timeout}s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:]

    def stop(self):
        stop_process_group(self.process, timeout=30)
        self._log.close()


def web_env_for_tests() -> dict:
    """Settings the test process has that a fresh server process would not (the fake upstream's
    address among the hosts server-side fetches may reach)."""
    return {"SAFE_FETCH_ALLOW_HOSTS": ",".join(getattr(settings, "SAFE_FETCH_ALLOW_HOSTS", []) or [])}

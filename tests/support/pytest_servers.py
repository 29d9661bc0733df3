"""pytest plugin (loaded with -p from pyproject): prepares the environment before Django loads.

- Every session gets its own ATELIER_VAR_DIR (embedded broker, media, SQLite files), so a
  real Celery worker process started by a test shares the broker folder, media and database
  with the test process.
- `--postgres` starts a real PostgreSQL and a real Redis on free ports and points
  DATABASE_URL and REDIS_URL at them: the same tests then run on the production stack.
"""
from __future__ import annotations

import os
import shutil
import tempfile

import pytest

from .servers import ServerUnavailable, start_postgres, start_redis

_servers = []
UNAVAILABLE_REASON: str | None = None


def pytest_addoption(parser):
    parser.addoption("--postgres", action="store_true", help="run on PostgreSQL + Redis started for the session")


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config, parser, args):
    global UNAVAILABLE_REASON
    var_dir = tempfile.mkdtemp(prefix="atelier-test-")
    os.environ["ATELIER_VAR_DIR"] = var_dir
    # The settings refuse to start without a key (make run generates one; tests bring their own).
    os.environ.setdefault("SECRET_KEY", "test-only-" + "k" * 40)
    # A file (not :memory:) so that worker processes see the same test database.
    os.environ["SQLITE_TEST_PATH"] = os.path.join(var_dir, "test.sqlite3")
    _servers.append(("dir", var_dir))
    if not early_config.known_args_namespace.postgres:
        return
    try:
        postgres = start_postgres()
        _servers.append(("server", postgres))
        redis = start_redis()
        _servers.append(("server", redis))
    except ServerUnavailable as exc:
        UNAVAILABLE_REASON = str(exc)
        return
    os.environ["DATABASE_URL"] = postgres.url
    os.environ["REDIS_URL"] = redis.url


def pytest_collection_modifyitems(config, items):
    if not config.getoption("--postgres") or UNAVAILABLE_REASON is None:
        return
    for item in items:
        item.add_marker(pytest.mark.skip(reason=f"PostgreSQL/Redis unavailable: {UNAVAILABLE_REASON}"))


def pytest_sessionfinish(session, exitstatus):
    if session.config.getoption("--postgres") and UNAVAILABLE_REASON and os.environ.get("CI", "").lower() == "true":
        session.exitstatus = 1
        print(f"\nCI=true: PostgreSQL/Redis unavailable ({UNAVAILABLE_REASON}); this is a failure")


def pytest_unconfigure(config):
    while _servers:
        kind, item = _servers.pop()
        if kind == "server":
            item.stop()
        else:
            shutil.rmtree(item, ignore_errors=True)

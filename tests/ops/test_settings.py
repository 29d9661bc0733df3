"""Settings refuse what they cannot parse, and the keys production needs, at start."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
KEY = "settings-test-" + "k" * 40


def load_settings(tmp_path, **env):
    """Import the settings in a fresh interpreter with exactly this environment."""
    base = {"PATH": os.environ["PATH"], "ATELIER_VAR_DIR": str(tmp_path / "var"), "DJANGO_SETTINGS_MODULE": "config.settings"}
    code = ("import django, json; from django.conf import settings; "
            "print(json.dumps({'SITE_URL': settings.SITE_URL, 'SESSION_COOKIE_SECURE': settings.SESSION_COOKIE_SECURE, "
            "'HSTS': settings.SECURE_HSTS_SECONDS, 'MFA': settings.ADMIN_REQUIRE_MFA, 'LOG': settings.LOG_FORMAT, "
            "'POOL': settings.DATABASES['default']['OPTIONS'].get('pool'), 'SECRET': settings.SECRET_KEY}))")
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**base, **env}, capture_output=True, text=True,
                          timeout=60)


@pytest.mark.parametrize("name,value,says", [
    ("DEBUG", "ture", "DEBUG='ture' is not a boolean"),
    ("SECURE_COOKIES", "maybe", "SECURE_COOKIES='maybe' is not a boolean"),
    ("DB_POOL_MAX_SIZE", "ten", "DB_POOL_MAX_SIZE='ten' is not a whole number"),
    ("DB_POOL_TIMEOUT", "fast", "DB_POOL_TIMEOUT='fast' is not a number"),
    ("WEB_THREADS", "0", "WEB_THREADS=0 is below the minimum of 1"),
    ("LOG_FORMAT", "xml", "LOG_FORMAT='xml' is not one of"),
])
def test_unparsable_values_refuse_to_start_naming_the_variable(tmp_path, name, value, says):
    result = load_settings(tmp_path, SECRET_KEY=KEY, **{name: value})
    assert result.returncode != 0
    assert says in result.stderr


def test_without_secret_key_or_key_file_the_site_refuses_to_start(tmp_path):
    result = load_settings(tmp_path)
    assert result.returncode != 0 and "SECRET_KEY is not set" in result.stderr
    assert not (tmp_path / "var").exists()  # importing the settings created no folder


def test_make_run_key_file_is_generated_once_and_used(tmp_path):
    env = {"PATH": os.environ["PATH"], "ATELIER_VAR_DIR": str(tmp_path / "var")}
    first = subprocess.run([sys.executable, "-m", "config.keys"], cwd=ROOT, env=env, capture_output=True, text=True)
    key_file = tmp_path / "var" / "secret_key"
    assert first.returncode == 0 and key_file.exists() and (key_file.stat().st_mode & 0o077) == 0
    key = key_file.read_text().strip()
    subprocess.run([sys.executable, "-m", "config.keys"], cwd=ROOT, env=env, check=True)
    assert key_file.read_text().strip() == key and len(key) >= 64  # kept, not regenerated
    result = load_settings(tmp_path)
    assert result.returncode == 0, result.stderr
    assert f'"SECRET": "{key}"' in result.stdout


def test_production_needs_a_field_encryption_key_and_turns_on_the_strict_defaults(tmp_path):
    refused = load_settings(tmp_path, SECRET_KEY=KEY, ATELIER_PRODUCTION="true")
    assert refused.returncode != 0 and "FIELD_ENCRYPTION_KEY must be set in production" in refused.stderr
    bad = load_settings(tmp_path, SECRET_KEY=KEY, ATELIER_PRODUCTION="true", FIELD_ENCRYPTION_KEY="short")
    assert bad.returncode != 0 and "not a Fernet key" in bad.stderr
    from cryptography.fernet import Fernet

    ok = load_settings(tmp_path, SECRET_KEY=KEY, ATELIER_PRODUCTION="true", FIELD_ENCRYPTION_KEY=Fernet.generate_key().decode(),
                       DATABASE_URL="postgres://u@db.example:5432/atelier")
    assert ok.returncode == 0, ok.stderr
    import json

    values = json.loads(ok.stdout)
    assert values["SESSION_COOKIE_SECURE"] is True and values["HSTS"] == 31_536_000
    assert values["MFA"] is True and values["LOG"] == "json"
    assert values["POOL"]["max_size"] == 8 and values["POOL"]["timeout"] == 10.0


def test_site_url_follows_atelier_addr_unless_set(tmp_path):
    import json

    follows = json.loads(load_settings(tmp_path, SECRET_KEY=KEY, ATELIER_ADDR="0.0.0.0:9401").stdout)
    assert follows["SITE_URL"] == "http://0.0.0.0:9401"
    explicit = json.loads(load_settings(tmp_path, SECRET_KEY=KEY, ATELIER_ADDR="0.0.0.0:9401",
                                        SITE_URL="https://atelier.example.com").stdout)
    assert explicit["SITE_URL"] == "https://atelier.example.com"
    embedded = json.loads(load_settings(tmp_path, SECRET_KEY=KEY).stdout)
    assert embedded["SESSION_COOKIE_SECURE"] is False and embedded["MFA"] is False and embedded["LOG"] == "text"


def test_redis_pools_hold_a_connection_for_every_web_thread(settings):
    """redis-py's default pool refuses a 101st connection; the web process runs 256 threads."""
    from apps.api import limits

    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # pools connect lazily: nothing is reached here
    limits.forget_limiter()
    try:
        pool = limits.limiter().storage.storage.connection_pool
        assert pool.max_connections >= settings.WEB_THREADS and pool.timeout > 0
    finally:
        limits.forget_limiter()
    from config import settings as project_settings

    assert project_settings.REDIS_POOL_SIZE >= project_settings.WEB_THREADS  # the cache's pool (with REDIS_URL)

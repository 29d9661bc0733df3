"""The --postgres session really runs on PostgreSQL and Redis (not silently on SQLite)."""
import pytest
from django.conf import settings
from django.db import connection

pytestmark = pytest.mark.pg


@pytest.mark.django_db
def test_session_runs_on_the_requested_stack(request):
    if request.config.getoption("--postgres"):
        assert connection.vendor == "postgresql"
        assert settings.CELERY_BROKER_URL.startswith("redis://")
        assert "RedisCache" in settings.CACHES["default"]["BACKEND"]
    else:
        assert connection.vendor == "sqlite"
        assert settings.CELERY_BROKER_URL == "atelierfs://"
        assert connection.settings_dict["TEST"]["NAME"], "the SQLite test database must be a file a worker can open"

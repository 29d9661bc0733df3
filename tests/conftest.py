"""Shared fixtures: a team (owner, teammate, outsider), models, and a real worker process."""
import pytest

from apps.accounts.models import Membership, User, Workspace
from apps.catalog.data import all_models
from apps.catalog.services import catalog_sync
from apps.wallet.models import Wallet
from apps.wallet.services import wallet_create, wallet_grant

PASSWORD = "correct-horse-battery-9"


@pytest.fixture(autouse=True)
def _fresh_channel_configs():
    """Channel names repeat across tests; a config cached by an earlier test must not leak."""
    from apps.catalog.cache import forget_catalog_caches
    from apps.providers.health import forget_local_health_state

    forget_catalog_caches()
    forget_local_health_state()
    yield
    forget_catalog_caches()
    forget_local_health_state()


@pytest.fixture
def make_user(db):
    counter = {"n": 0}

    def make(email=None, **extra):
        counter["n"] += 1
        return User.objects.create_user(email=email or f"user{counter['n']}@example.com", password=PASSWORD, **extra)

    return make


@pytest.fixture
def owner(make_user):
    return make_user("owner@example.com")


@pytest.fixture
def teammate(make_user):
    return make_user("teammate@example.com")


@pytest.fixture
def outsider(make_user):
    return make_user("outsider@example.com")


@pytest.fixture
def team(owner, teammate):
    """A team workspace owned by `owner` with `teammate` as a member and 500 credits in its pool."""
    workspace = Workspace.objects.create(kind=Workspace.Kind.TEAM, name="Studio Team", created_by=owner)
    Membership.objects.create(workspace=workspace, user=owner, role=Membership.Role.OWNER)
    Membership.objects.create(workspace=workspace, user=teammate, role=Membership.Role.MEMBER)
    wallet = wallet_create(workspace=workspace)
    wallet_grant(wallet=wallet, amount=500_000, reason="Team top-up")
    return workspace


@pytest.fixture
def catalog(db):
    catalog_sync(entries=all_models())


def personal_wallet(user) -> Wallet:
    return Wallet.objects.get(workspace__created_by=user, workspace__kind=Workspace.Kind.PERSONAL)


@pytest.fixture
def eager(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    from config.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


@pytest.fixture
def worker(transactional_db):
    """A real Celery worker process on the session's broker (filesystem, or Redis with --postgres)."""
    from tests.support.worker import WorkerProcess

    process = WorkerProcess()
    yield process
    process.stop()


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hasher():
    """MD5 for test accounts: PBKDF2's deliberate slowness cost about a second per few users."""
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def finished(team, owner, catalog, settings, tmp_path):
    """A succeeded image generation of the team workspace, its outputs stored under a fresh MEDIA_ROOT."""
    from tests.support.media import finished_generation

    settings.MEDIA_ROOT = tmp_path
    return finished_generation(workspace=team, user=owner)


@pytest.fixture(scope="module")
def s3_server():
    """An S3-compatible server (moto) on loopback with one private bucket, for the module's tests."""
    from tests.support.s3 import start_s3
    from tests.support.servers import ServerUnavailable, missing

    try:
        server = start_s3()
    except ServerUnavailable as exc:
        missing(str(exc))
    yield server
    server.stop()

import pytest

from apps.accounts.services import user_onboard

from .receiver import Receiver


@pytest.fixture
def member(make_user, catalog):
    user = make_user("hooks@example.com")
    user_onboard(user=user)
    return user


@pytest.fixture
def receiver(settings):
    """A loopback receiver; its host is allow-listed as a trusted LAN host would be (loopback is
    otherwise refused, like every private address)."""
    server = Receiver().start()
    settings.SAFE_FETCH_ALLOW_HOSTS = [server.host]
    yield server
    server.stop()

from tests.fakes.fixtures import fake_upstream  # noqa: F401  (the fake upstream for API tests)
import pytest

from apps.accounts.services import user_onboard
from apps.api.services import api_key_create


@pytest.fixture
def member(make_user, catalog):
    """A signed-up user (personal workspace with the sign-up grant) and the catalog loaded."""
    user = make_user("member@example.com")
    user_onboard(user=user)
    return user


@pytest.fixture
def api_key(member):
    return api_key_create(user=member, workspace=member.current_workspace, name="test")


@pytest.fixture
def auth(api_key):
    return {"HTTP_AUTHORIZATION": f"Bearer {api_key.secret}"}

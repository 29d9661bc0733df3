"""Django admin: reached only through allauth's login (rate-limited, with its MFA step), and with
ADMIN_REQUIRE_MFA only by staff who have an authenticator."""
import time

import pytest
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, generate_totp_secret, hotp_value

from tests.conftest import PASSWORD


@pytest.fixture(autouse=True)
def _forget_rate_limits():
    """allauth counts attempts in the cache; other tests log in from the same address."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def staff(make_user):
    return make_user("admin@example.com", is_staff=True, is_superuser=True)


def test_staff_without_mfa_cannot_open_admin_when_it_is_required(client, staff, settings):
    settings.ADMIN_REQUIRE_MFA = True
    client.force_login(staff)
    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"] == "/accounts/2fa/"
    assert client.get("/admin/wallet/wallet/").status_code == 302  # no admin page, not just the index
    TOTP.activate(staff, generate_totp_secret())
    assert client.get("/admin/").status_code == 200


def test_without_the_setting_staff_open_admin_without_mfa(client, staff, settings):
    settings.ADMIN_REQUIRE_MFA = False
    client.force_login(staff)
    assert client.get("/admin/").status_code == 200


def test_admin_login_goes_through_allauth_and_its_totp_step(client, staff, settings):
    settings.ADMIN_REQUIRE_MFA = True
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    secret = generate_totp_secret()
    TOTP.activate(staff, secret)
    step = client.post("/accounts/login/", {"login": staff.email, "password": PASSWORD})
    assert step.status_code == 302 and step["Location"] == "/accounts/2fa/authenticate/"
    assert client.get("/admin/").status_code == 302  # the password alone opens nothing
    code = format_hotp_value(hotp_value(secret, int(time.time()) // 30))
    done = client.post("/accounts/2fa/authenticate/", {"code": code})
    assert done.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_failed_admin_logins_are_rate_limited(client, staff, settings):
    for _ in range(5):
        wrong = client.post("/accounts/login/", {"login": staff.email, "password": "wrong-password-1"})
        assert wrong.status_code == 200 and b"not correct" in wrong.content
    limited = client.post("/accounts/login/", {"login": staff.email, "password": PASSWORD})
    assert limited.status_code in (200, 429)
    assert b"Too many failed login attempts" in limited.content or limited.status_code == 429
    assert "_auth_user_id" not in client.session  # even the right password is refused meanwhile

import re

import pytest
from django.core import mail

from apps.accounts.models import User, Workspace
from apps.wallet.models import LedgerEntry
from tests.conftest import PASSWORD, personal_wallet


@pytest.mark.django_db
def test_signup_creates_personal_workspace_wallet_and_grant_entry(client, settings):
    settings.SIGNUP_GRANT_CREDITS = 25
    response = client.post("/accounts/signup/", {"email": "New@Example.com", "password1": PASSWORD, "password2": PASSWORD})
    assert response.status_code == 302
    user = User.objects.get(email="new@example.com")
    workspace = Workspace.objects.get(created_by=user, kind="personal")
    assert user.current_workspace == workspace
    wallet = personal_wallet(user)
    assert wallet.balance == 25_000 and wallet.held == 0
    entry = LedgerEntry.objects.get(wallet=wallet)
    assert entry.kind == "grant" and entry.amount == 25_000 and entry.reason == "Sign-up grant"
    # Logged in right away: the page shows the balance.
    assert "25" in client.get("/").content.decode()


@pytest.mark.django_db
def test_signup_rejects_duplicate_email_and_short_password(client, make_user):
    make_user("taken@example.com")
    response = client.post("/accounts/signup/", {"email": "taken@example.com", "password1": PASSWORD, "password2": PASSWORD})
    assert response.status_code == 200
    assert "already registered" in response.content.decode()
    response = client.post("/accounts/signup/", {"email": "x@example.com", "password1": "abc", "password2": "abc"})
    assert "too short" in response.content.decode()
    assert User.objects.filter(email="x@example.com").count() == 0


@pytest.mark.django_db
def test_login_logout_and_password_reset(client, make_user):
    make_user("me@example.com")
    response = client.post("/accounts/login/", {"login": "me@example.com", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/history/").status_code == 200
    client.post("/accounts/logout/")
    assert client.get("/history/").status_code == 302  # back to login

    response = client.post("/accounts/password/reset/", {"email": "me@example.com"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = re.search(r"http://\S+/accounts/password/reset/key/\S+", mail.outbox[0].body).group(0)
    path = link.split("testserver", 1)[-1] if "testserver" in link else "/" + link.split("/", 3)[3]
    response = client.get(path, follow=True)
    form_path = response.redirect_chain[-1][0] if response.redirect_chain else path
    response = client.post(form_path, {"password1": "a-new-Password-77", "password2": "a-new-Password-77"})
    assert response.status_code == 302
    assert client.login(email="me@example.com", password="a-new-Password-77")


@pytest.mark.django_db
def test_every_user_creation_path_gets_exactly_one_wallet(make_user):
    user = make_user()
    from apps.accounts.services import user_onboard

    user_onboard(user=user)  # idempotent
    assert Workspace.objects.filter(created_by=user, kind="personal").count() == 1
    assert LedgerEntry.objects.filter(wallet__workspace__created_by=user).count() == 1

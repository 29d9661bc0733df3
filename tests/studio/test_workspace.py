"""Workspace pages: usage (spend per day by model, CSV), the low-balance alert (banner and one
email per drop), and invitations for logged-out and other-account invitees."""
import csv
import io
import re

import pytest
from django.core import mail

from apps.accounts.models import Membership
from apps.accounts.services import team_invite
from apps.studio.models import LowBalanceAlert
from apps.studio.services import low_balance_alerts_send
from apps.wallet.refunds import hold_refund
from apps.wallet.services import wallet_adjust, wallet_grant
from tests.conftest import personal_wallet

from .conftest import make_job

pytestmark = pytest.mark.django_db


@pytest.mark.pg  # also on PostgreSQL: JSON search, uuid keyset and date truncation differ per backend
def test_usage_shows_spend_per_day_by_model_with_refunds_taken_off(logged_in, owner, no_enqueue):
    image = make_job(owner, n=2)
    make_job(owner, slug="sandbox-speech", input="hello world")
    hold_refund(hold=image.hold, amount=500, reason="one image was blank", actor=None)
    page = logged_in.get("/usage/").content.decode()
    assert 'data-testid="usage-chart"' in page and "<rect" in page and "Sandbox Image" in page
    rows = re.findall(r"<tr><td>(\d{4}-\d\d-\d\d)</td><td><a [^>]+>([^<]+)</a></td><td class=\"num\">(\d+)</td><td class=\"num\">([\d.,]+)</td>", page)
    assert ("Sandbox Image", "1", "0.5") in [(model, jobs, credits) for _, model, jobs, credits in rows]
    exported = logged_in.get("/usage.csv?days=7")
    lines = list(csv.reader(io.StringIO(b"".join(exported.streaming_content).decode())))
    assert lines[0] == ["date", "model", "model_id", "jobs", "credits"]
    assert ["Sandbox Image", "sandbox-image", "1", "0.5"] in [line[1:] for line in lines[1:]]


def test_usage_is_per_workspace(logged_in, owner, outsider, client, no_enqueue):
    make_job(owner)
    client.force_login(outsider)
    assert "Sandbox Image" not in client.get("/usage/").content.decode()


@pytest.mark.pg  # also on PostgreSQL: JSON search, uuid keyset and date truncation differ per backend
def test_owner_sets_a_low_balance_alert_banner_and_one_email_per_drop(logged_in, owner, no_enqueue):
    assert 'id="low-balance-alert"' in logged_in.get("/wallet/").content.decode()
    logged_in.post("/workspace/low-balance", {"threshold": "99.5"})
    assert LowBalanceAlert.objects.get().threshold == 99_500
    assert 'data-testid="low-balance"' not in logged_in.get("/").content.decode()  # 100 available
    make_job(owner)  # spends 0.5 (512x512): 99.5 left, not below
    assert low_balance_alerts_send() == 0
    make_job(owner)
    page = logged_in.get("/").content.decode()
    assert 'data-testid="low-balance"' in page and "99 available" in page
    assert low_balance_alerts_send() == 1 and low_balance_alerts_send() == 0  # once per drop
    assert mail.outbox[-1].to == ["owner@example.com"] and "low on credits" in mail.outbox[-1].subject
    wallet_grant(wallet=personal_wallet(owner), amount=10_000, reason="top-up")
    assert low_balance_alerts_send() == 0  # back above: re-armed
    wallet_adjust(wallet=personal_wallet(owner), amount=-20_000, reason="spent", actor=None)
    assert low_balance_alerts_send() == 1
    logged_in.post("/workspace/low-balance", {"threshold": ""})
    assert not LowBalanceAlert.objects.exists()


def test_only_owners_set_the_alert(client, team, teammate, catalog):
    teammate.current_workspace = team
    teammate.save()
    client.force_login(teammate)
    assert 'id="low-balance-alert"' not in client.get("/wallet/").content.decode()
    assert client.post("/workspace/low-balance", {"threshold": "5"}).status_code == 404
    Membership.objects.filter(workspace=team, user=teammate).update(role="owner")
    client.post("/workspace/low-balance", {"threshold": "5"})
    assert LowBalanceAlert.objects.get(workspace=team).threshold == 5_000


def test_a_logged_out_invitee_is_sent_to_sign_up_and_back(client, team, owner, catalog):
    _, token = team_invite(workspace=team, actor=owner, email="new@example.com")
    page = client.get(f"/invitations/{token}/")
    body = page.content.decode()
    assert page.status_code == 200 and "Studio Team" not in body and owner.email not in body
    signup = re.search(r'data-testid="invite-signup" href="([^"]+)"', body).group(1).replace("&amp;", "&")
    assert signup == f"/accounts/signup/?email=new%40example.com&next=/invitations/{token}/"
    response = client.post(signup, {"email": "new@example.com", "password1": "brush-and-Canvas-42",
                                     "password2": "brush-and-Canvas-42"})
    assert response.status_code == 302 and response["Location"] == f"/invitations/{token}/"
    accept = client.get(response["Location"]).content.decode()
    assert "Join Studio Team" in accept and "Accept and join" in accept


def test_another_logged_in_account_is_told_to_switch_and_sees_no_team_details(client, team, owner, outsider, catalog):
    _, token = team_invite(workspace=team, actor=owner, email="new@example.com")
    client.force_login(outsider)
    page = client.get(f"/invitations/{token}/")
    body = page.content.decode()
    assert page.status_code == 403 and "Accept" not in body and "Studio Team" not in body
    assert "Log out and continue" in body and f'value="/invitations/{token}/"' in body
    assert client.post(f"/invitations/{token}/").status_code == 403
    assert not Membership.objects.filter(workspace=team, user=outsider).exists()

import csv
import io

import pytest
from django.urls import reverse

from apps.catalog.models import AIModel
from apps.generations.models import Generation
from apps.wallet.models import Wallet
from apps.wallet.services import hold_capture, hold_place, redemption_batch_create
from tests.conftest import personal_wallet

pytestmark = pytest.mark.django_db


@pytest.fixture
def pool(team):
    return Wallet.objects.get(workspace=team)


def _in_team(client, user, team):
    user.current_workspace = team
    user.save(update_fields=["current_workspace"])
    client.force_login(user)


def test_wallet_page_shows_balance_held_available(client, owner):
    hold_place(wallet=personal_wallet(owner), amount=12_500, member=owner)
    client.force_login(owner)
    page = client.get(reverse("wallet:page")).content.decode()
    assert 'data-testid="wallet-balance">100<' in page
    assert 'data-testid="wallet-held">12.5<' in page
    assert 'data-testid="wallet-available">87.5<' in page
    assert "Sign-up grant" in page


def test_ledger_filters_by_kind_member_and_model(client, owner, teammate, team, pool, catalog):
    model = AIModel.objects.filter(enabled=True).first()
    other = AIModel.objects.filter(enabled=True).exclude(pk=model.pk).first()

    def generation(user, ai_model, price):
        from datetime import timedelta

        from django.utils import timezone

        g = Generation.objects.create(workspace=team, user=user, model=ai_model, params={}, price=price,
                                      deadline_at=timezone.now() + timedelta(minutes=5))
        return hold_place(wallet=pool, amount=price, generation=g, member=user)

    hold_capture(hold=generation(teammate, model, 3_000))
    generation(owner, other, 4_000)
    _in_team(client, owner, team)
    url = reverse("wallet:page")
    rows = lambda response: response.content.decode().count('<tr class="kind-')  # noqa: E731
    assert rows(client.get(url)) == 4  # grant, hold, capture, hold
    assert rows(client.get(url, {"kind": "capture"})) == 1
    assert rows(client.get(url, {"member": teammate.pk})) == 2
    assert rows(client.get(url, {"model": other.slug})) == 1
    assert rows(client.get(url, {"from": "2000-01-01", "to": "2000-01-02"})) == 0
    partial = client.get(url, {"kind": "hold"}, headers={"HX-Request": "true"})
    assert partial.content.decode().lstrip().startswith('<div id="ledger">') and rows(partial) == 2


def test_ledger_csv_export_respects_filters(client, owner):
    wallet = personal_wallet(owner)
    hold_capture(hold=hold_place(wallet=wallet, amount=2_000, member=owner), amount=1_250)
    client.force_login(owner)
    response = client.get(reverse("wallet:csv"), {"kind": "capture"})
    assert response["Content-Type"] == "text/csv"
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:4] == ["id", "created_at", "kind", "amount_credits"]
    assert len(rows) == 2 and rows[1][2] == "capture" and rows[1][3] == "-1.25" and rows[1][4] == "-2"


def test_ledger_of_another_account_is_not_reachable(client, owner, outsider, team):
    _in_team(client, owner, team)
    client.force_login(outsider)
    page = client.get(reverse("wallet:page")).content.decode()
    assert "Team top-up" not in page and "Studio Team" not in page
    csv_body = b"".join(client.get(reverse("wallet:csv")).streaming_content).decode()
    assert "Team top-up" not in csv_body


def test_redeem_form_adds_to_the_current_workspace(client, owner, team, pool):
    code = redemption_batch_create(name="promo", value=5_000, count=1).codes.get().code
    _in_team(client, owner, team)
    response = client.post(reverse("wallet:redeem"), {"code": code}, follow=True)
    assert "Redeemed: 5 credits added to Studio Team" in response.content.decode()
    pool.refresh_from_db()
    assert pool.balance == 505_000
    response = client.post(reverse("wallet:redeem"), {"code": code}, follow=True)
    body = response.content.decode()
    assert "You have already redeemed this code." in body and "code_already_redeemed" not in body
    response = client.post(reverse("wallet:redeem"), {"code": "nope"}, follow=True)
    assert "This code does not exist." in response.content.decode()


def test_wallet_pages_need_login(client):
    for name in ("wallet:page", "wallet:csv"):
        assert client.get(reverse(name)).status_code == 302
    assert client.post(reverse("wallet:redeem"), {"code": "x"}).status_code == 302

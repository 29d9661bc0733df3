import csv
import io

import pytest
from django.urls import reverse

from apps.wallet.models import LedgerEntry, RedemptionBatch
from tests.conftest import personal_wallet

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, make_user):
    admin = make_user("admin@example.com", is_staff=True, is_superuser=True)
    client.force_login(admin)
    client.admin = admin
    return client


def _change(client, wallet, **data):
    payload = {"adjust_kind": "grant", "adjust_credits": "", "adjust_reason": "", "entries-TOTAL_FORMS": "0",
               "entries-INITIAL_FORMS": "0", "entries-MIN_NUM_FORMS": "0", "entries-MAX_NUM_FORMS": "1000"}
    payload.update(data)
    return client.post(reverse("admin:wallet_wallet_change", args=[wallet.pk]), payload)


def test_admin_grant_records_the_admin_and_reason(admin_client, make_user):
    wallet = personal_wallet(make_user())
    response = _change(admin_client, wallet, adjust_credits="12.5", adjust_reason="Support gesture")
    assert response.status_code == 302
    entry = LedgerEntry.objects.filter(wallet=wallet).order_by("-id").first()
    assert (entry.kind, entry.amount, entry.actor, entry.reason) == ("grant", 12_500, admin_client.admin, "Support gesture")


def test_admin_adjustment_without_reason_is_refused(admin_client, make_user):
    wallet = personal_wallet(make_user())
    response = _change(admin_client, wallet, adjust_kind="adjustment", adjust_credits="-3")
    assert response.status_code == 200 and "A reason is required" in response.content.decode()
    assert LedgerEntry.objects.filter(wallet=wallet).count() == 1
    _change(admin_client, wallet, adjust_kind="adjustment", adjust_credits="-3", adjust_reason="duplicate grant")
    wallet.refresh_from_db()
    assert wallet.balance == 97_000


def test_ledger_admin_cannot_change_or_delete(admin_client, make_user):
    entry = LedgerEntry.objects.filter(wallet=personal_wallet(make_user())).first()
    assert admin_client.get(reverse("admin:wallet_ledgerentry_changelist")).status_code == 200
    assert admin_client.post(reverse("admin:wallet_ledgerentry_delete", args=[entry.pk]), {"post": "yes"}).status_code == 403
    assert admin_client.get(reverse("admin:wallet_ledgerentry_add")).status_code == 403
    assert LedgerEntry.objects.filter(pk=entry.pk).exists()


def test_admin_creates_a_batch_and_exports_csv(admin_client):
    response = admin_client.post(reverse("admin:wallet_redemptionbatch_add"), {
        "name": "Conference", "value_credits": "20", "count": "7", "max_redemptions": "2", "expires_at_0": "", "expires_at_1": "",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    batch = RedemptionBatch.objects.get(name="Conference")
    assert (batch.value, batch.max_redemptions, batch.codes.count(), batch.created_by) == (20_000, 2, 7, admin_client.admin)
    response = admin_client.post(reverse("admin:wallet_redemptionbatch_changelist"), {
        "action": "export_codes", "_selected_action": [batch.pk],
    })
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert response["Content-Type"] == "text/csv" and len(rows) == 8
    assert {row[0] for row in rows[1:]} == set(batch.codes.values_list("code", flat=True))
    assert rows[1][1:4] == ["20", "2", "0"]

"""Admin usability: owner emails on wallets, credits everywhere, a choice list of adapters for
channels, retrying a generation, and refunding a finished one with a reason."""
import pytest
from django.urls import reverse

from apps.generations.models import Generation
from apps.providers.registry import adapter_names
from apps.wallet.audit import wallet_audit
from apps.wallet.models import LedgerEntry
from tests.conftest import personal_wallet

from .conftest import make_job

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, make_user, catalog):
    admin = make_user("admin@example.com", is_staff=True, is_superuser=True)
    client.force_login(admin)
    client.admin = admin
    return client


def test_wallet_list_shows_owner_email_and_credits(admin_client, owner):
    page = admin_client.get(reverse("admin:wallet_wallet_changelist")).content.decode()
    assert "owner@example.com" in page and ">100<" in page  # 100 credits, not 100000 millicredits
    ledger = admin_client.get(reverse("admin:wallet_ledgerentry_changelist")).content.decode()
    assert "Amount (credits)" in ledger and ">100000<" not in ledger


def test_channel_adapter_is_a_choice_list(admin_client):
    page = admin_client.get(reverse("admin:catalog_channel_add")).content.decode()
    assert '<select name="adapter"' in page
    for name in ("sandbox", "openai", "replicate"):
        assert f'<option value="{name}"' in page and name in adapter_names()
    response = admin_client.post(reverse("admin:catalog_channel_add"), {
        "name": "typo", "adapter": "opneai", "priority": 0, "weight": 1, "max_concurrent": 0, "options": "{}"})
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()


def test_retry_queues_a_new_generation_with_the_same_settings(admin_client, owner, no_enqueue):
    job = make_job(owner, prompt="retry me", n=2)
    response = admin_client.post(reverse("admin:generations_generation_changelist"),
                                 {"action": "retry_as_new", "_selected_action": [str(job.pk)]})
    assert response.status_code == 302
    retry = Generation.objects.exclude(pk=job.pk).get()
    assert (retry.params, retry.user, retry.workspace, retry.source, retry.status) == (
        job.params, owner, job.workspace, "admin", "queued")
    assert retry.hold.amount == job.price


def test_refund_of_a_finished_generation_needs_a_reason_and_stays_within_the_charge(admin_client, owner, no_enqueue):
    job = make_job(owner, n=2)  # 1 credit charged
    change = admin_client.get(reverse("admin:generations_generation_change", args=[job.pk])).content.decode()
    url = reverse("admin:generations_generation_refund", args=[job.pk])
    assert url in change and "Refund up to 1 credits" in change
    missing = admin_client.post(url, {"credits": "0.5", "reason": ""})
    assert missing.status_code == 200 and "This field is required" in missing.content.decode()
    too_much = admin_client.post(url, {"credits": "2", "reason": "blurry"})
    assert "At most 1 credits" in too_much.content.decode()
    done = admin_client.post(url, {"credits": "0.5", "reason": "one image was blank"})
    assert done.status_code == 302
    entry = LedgerEntry.objects.get(kind="refund")
    assert (entry.amount, entry.reason, entry.actor, entry.generation_id) == (500, "one image was blank", admin_client.admin, job.pk)
    assert personal_wallet(owner).balance == 100_000 - 1_000 + 500
    assert wallet_audit() == []


def test_a_failed_generation_offers_no_refund(admin_client, owner, no_enqueue):
    job = make_job(owner, run=False)
    from apps.generations.services import generation_fail

    generation_fail(generation=job, code="upstream_error", message="boom")
    change = admin_client.get(reverse("admin:generations_generation_change", args=[job.pk])).content.decode()
    assert "Nothing to refund" in change
    response = admin_client.post(reverse("admin:generations_generation_refund", args=[job.pk]),
                                 {"credits": "1", "reason": "x"})
    assert "can be refunded" in response.content.decode() and not LedgerEntry.objects.filter(kind="refund").exists()

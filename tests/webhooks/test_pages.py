"""The Webhooks page and admin: endpoints with a secret shown once, the log, redeliver, who may see it."""
from __future__ import annotations

import json

from apps.accounts.services import user_onboard
from apps.api.services import api_key_create
from apps.webhooks.models import Delivery, Endpoint
from apps.webhooks.services import endpoint_create


def test_create_an_endpoint_and_see_its_secret_once(client, member, receiver):
    client.force_login(member)
    created = client.post("/webhooks/", {"url": receiver.url(), "description": "orders", "events": [
        "generation.succeeded"]})
    assert created.status_code == 201 and created["Cache-Control"] == "no-store"
    secret = created.context["secret"]
    assert secret.startswith("whsec_") and secret in created.content.decode()
    endpoint = Endpoint.objects.get()
    assert endpoint.secret == secret and endpoint.events == ["generation.succeeded"]
    assert secret not in endpoint.secret_encrypted  # encrypted at rest
    again = client.get("/webhooks/")
    assert receiver.url() in again.content.decode() and secret not in again.content.decode()

    refused = client.post("/webhooks/", {"url": "http://localhost:9/hook"})
    assert refused.status_code == 400 and "non-public address" in refused.content.decode()
    assert Endpoint.objects.count() == 1


def test_the_secret_for_webhook_url_is_created_on_the_page(client, member):
    client.force_login(member)
    page = client.post("/webhooks/secret")
    assert page.status_code == 200 and page.context["secret"].startswith("whsec_")
    assert member.current_workspace.webhook_secret.secret == page.context["secret"]


def test_log_and_redeliver_from_the_page(client, member, receiver, eager, django_capture_on_commit_callbacks):
    endpoint, _ = endpoint_create(workspace=member.current_workspace, user=member, url=receiver.url())
    key = api_key_create(user=member, workspace=member.current_workspace, name="k").secret
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/v1/generations", data=json.dumps({"model": "sandbox-image", "params": {"prompt": "x"}}),
                    content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}")
    client.force_login(member)
    delivery = Delivery.objects.get()
    detail = client.get(f"/webhooks/{endpoint.pk}/")
    assert detail.status_code == 200 and delivery.event_id in detail.content.decode()
    assert "HTTP 200" in detail.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/webhooks/deliveries/{delivery.pk}/redeliver")
    assert response.status_code == 302
    assert Delivery.objects.filter(event=delivery.event, state="succeeded").count() == 2
    assert len(receiver.requests) == 2

    toggled = client.post(f"/webhooks/{endpoint.pk}/toggle")
    assert toggled.status_code == 302 and not Endpoint.objects.get().enabled
    client.post(f"/webhooks/deliveries/{delivery.pk}/redeliver")
    assert Delivery.objects.count() == 2  # refused: the endpoint is disabled


def test_outsiders_and_plain_members_get_404(client, member, owner, teammate, team, outsider, receiver):
    endpoint, _ = endpoint_create(workspace=member.current_workspace, user=member, url=receiver.url())
    user_onboard(user=outsider)
    teammate.current_workspace = team
    teammate.save(update_fields=["current_workspace"])
    for user in (outsider, teammate):
        client.force_login(user)
        assert client.get(f"/webhooks/{endpoint.pk}/").status_code == 404
        assert client.post(f"/webhooks/{endpoint.pk}/delete").status_code == 404
    assert client.get("/webhooks/").status_code == 404  # a plain team member does not manage webhooks
    client.force_login(outsider)
    assert client.get("/webhooks/").status_code == 200  # their own personal workspace
    assert Endpoint.objects.filter(pk=endpoint.pk).exists()


def test_admin_lists_deliveries_and_redelivers(admin_client, member, receiver, eager,
                                               django_capture_on_commit_callbacks):
    endpoint_create(workspace=member.current_workspace, user=member, url=receiver.url())
    key = api_key_create(user=member, workspace=member.current_workspace, name="k").secret
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post("/v1/generations", data=json.dumps({"model": "sandbox-image", "params": {"prompt": "x"}}),
                          content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}")
    delivery = Delivery.objects.get()
    assert admin_client.get(f"/admin/webhooks/delivery/{delivery.pk}/change/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post("/admin/webhooks/delivery/", {"action": "redeliver", "_selected_action": [delivery.pk]})
    assert len(receiver.requests) == 2
    assert admin_client.get("/admin/webhooks/endpoint/").status_code == 200

from apps.api.models import ApiKey


def test_create_shows_the_secret_once_then_only_the_prefix(client, member):
    client.force_login(member)
    page = client.get("/api-keys/")
    assert page.status_code == 200 and b"No keys yet." in page.content
    created = client.post("/api-keys/", {"name": "laptop", "workspace": member.current_workspace_id,
                                         "expires_in_days": "30"})
    assert created.status_code == 201 and created["Cache-Control"] == "no-store"
    key = ApiKey.objects.get()
    secret = created.context["created"].secret
    assert secret.encode() in created.content
    assert key.expires_at is not None and key.user == member
    again = client.get("/api-keys/")
    assert secret.encode() not in again.content and key.prefix.encode() in again.content
    # The secret works against the API.
    assert client.get("/v1/balance", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 200


def test_name_is_required(client, member):
    client.force_login(member)
    response = client.post("/api-keys/", {"name": " ", "workspace": member.current_workspace_id})
    assert response.status_code == 400 and b"Give the key a name." in response.content
    assert ApiKey.objects.count() == 0


def test_revoke_and_outsider_gets_404(client, member, api_key, outsider, team):
    client.force_login(outsider)
    assert client.post(f"/api-keys/{api_key.key.pk}/revoke").status_code == 404
    assert client.post("/api-keys/", {"name": "x", "workspace": member.current_workspace_id}).status_code == 404
    assert ApiKey.objects.get().revoked_at is None
    client.force_login(member)
    response = client.post(f"/api-keys/{api_key.key.pk}/revoke")
    assert response.status_code == 302
    assert ApiKey.objects.get().revoked_at is not None
    assert client.get("/v1/balance", HTTP_AUTHORIZATION=f"Bearer {api_key.secret}").json()["error"]["code"] == \
        "invalid_api_key"


def test_keys_page_needs_login(client, db):
    response = client.get("/api-keys/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_publishable_key_with_allowlist_budget_and_pause(client, member):
    client.force_login(member)
    created = client.post("/api-keys/", {"name": "site", "workspace": member.current_workspace_id,
                                         "kind": "publishable", "allowed_models": ["sandbox-image"],
                                         "permissions": ["generate", "models"], "credit_limit": "2.5",
                                         "monthly_credit_limit": "1", "requests_per_minute": "10"})
    assert created.status_code == 201, created.content
    key = ApiKey.objects.get()
    assert created.context["created"].secret.startswith("pk_") and key.kind == "publishable"
    assert key.allowed_models == ["sandbox-image"] and key.permissions == ["generate", "models"]
    assert (key.credit_limit, key.monthly_credit_limit, key.requests_per_minute) == (2500, 1000, 10)
    assert client.post(f"/api-keys/{key.pk}/pause").status_code == 302
    assert ApiKey.objects.get().paused_at is not None
    assert client.post(f"/api-keys/{key.pk}/pause").status_code == 302
    assert ApiKey.objects.get().paused_at is None


def test_a_publishable_key_must_name_its_models(client, member):
    client.force_login(member)
    response = client.post("/api-keys/", {"name": "site", "workspace": member.current_workspace_id,
                                          "kind": "publishable"})
    assert response.status_code == 400 and b"must name the models" in response.content
    assert ApiKey.objects.count() == 0


def test_the_plan_caps_active_keys(client, member):
    client.force_login(member)
    for number in range(3):  # the default plan allows 3, like reference 004's
        assert client.post("/api-keys/", {"name": f"k{number}", "workspace": member.current_workspace_id}
                           ).status_code == 201
    refused = client.post("/api-keys/", {"name": "k4", "workspace": member.current_workspace_id})
    assert refused.status_code == 400 and b"allows 3 active keys" in refused.content

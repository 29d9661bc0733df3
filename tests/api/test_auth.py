from datetime import timedelta

import pytest
from django.utils import timezone

from apps.accounts.models import Membership
from apps.api.models import ApiKey
from apps.api.services import api_key_create, api_key_revoke


def error_of(response, status):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    return body["error"]


def test_key_is_stored_hashed_and_shown_once(api_key, member):
    key = ApiKey.objects.get()
    assert api_key.secret.startswith("sk_") and len(api_key.secret) > 40
    assert key.prefix == api_key.secret[:11] and key.kind == "secret"
    assert api_key.secret not in {key.secret_hash, key.prefix, key.name}
    assert len(key.secret_hash) == 64
    assert key.workspace == member.current_workspace


def test_balance_with_a_valid_key(client, auth, api_key):
    response = client.get("/v1/balance", **auth)
    assert response.status_code == 200
    assert response.json() == {"object": "balance", "workspace": {
        "id": api_key.key.workspace_id, "name": "Personal", "kind": "personal"},
        "currency": "credits", "balance": "100", "held": "0", "available": "100"}
    assert ApiKey.objects.get().last_used_at is not None


@pytest.mark.parametrize("header, code", [
    (None, "missing_api_key"),
    ("Bearer atl_not-a-real-key", "invalid_api_key"),
    ("Basic dXNlcjpwYXNz", "invalid_api_key"),
    ("Bearer ", "invalid_api_key"),
])
def test_missing_or_invalid_key_is_401_with_a_code(client, member, header, code):
    extra = {"HTTP_AUTHORIZATION": header} if header is not None else {}
    response = client.get("/v1/balance", **extra)
    error = error_of(response, 401)
    assert error["code"] == code and error["type"] == "authentication_error" and error["message"]
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_revoked_key_is_401_invalid_api_key(client, auth, api_key, member):
    assert api_key_revoke(user=member, key_id=api_key.key.pk) is True
    assert api_key_revoke(user=member, key_id=api_key.key.pk) is False
    error = error_of(client.get("/v1/balance", **auth), 401)
    assert error["code"] == "invalid_api_key" and "revoked" in error["message"]


def test_expired_key_is_403(client, auth, api_key):
    ApiKey.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert error_of(client.get("/v1/balance", **auth), 403)["code"] == "api_key_expired"


def test_keys_made_before_key_kinds_keep_working(client, member):
    import hashlib

    secret = "atl_" + "x" * 43
    ApiKey.objects.create(user=member, workspace=member.current_workspace, name="old", prefix=secret[:12],
                          secret_hash=hashlib.sha256(secret.encode()).hexdigest())
    assert client.get("/v1/balance", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 200


def test_key_of_a_member_who_left_the_team_stops_working(client, team, teammate):
    created = api_key_create(user=teammate, workspace=team, name="team key")
    headers = {"HTTP_AUTHORIZATION": f"Bearer {created.secret}"}
    assert client.get("/v1/balance", **headers).json()["balance"] == "500"
    Membership.objects.filter(user=teammate, workspace=team).delete()
    assert error_of(client.get("/v1/balance", **headers), 401)["code"] == "invalid_api_key"


def test_cannot_create_a_key_for_someone_elses_workspace(team, outsider):
    from apps.api.errors import ApiError

    with pytest.raises(ApiError) as caught:
        api_key_create(user=outsider, workspace=team, name="sneaky")
    assert caught.value.kind == "not_found" and caught.value.code == "not_found"


def test_session_login_is_not_api_auth(client, member):
    client.force_login(member)
    assert error_of(client.get("/v1/balance"), 401)["code"] == "missing_api_key"


def test_wrong_method_is_405_in_the_error_shape(client, auth):
    response = client.delete("/v1/balance", **auth)
    assert error_of(response, 405)["code"] == "method_not_allowed"
    assert response["Allow"] == "GET"

"""POST /v1/redeem: the API key's workspace gets the credits; errors carry the stable codes."""
import pytest

from apps.api.services import api_key_create
from apps.wallet.models import Wallet
from apps.wallet.services import redemption_batch_create

pytestmark = pytest.mark.django_db


def _post(client, secret, body):
    return client.post("/v1/redeem", body, content_type="application/json", headers={"Authorization": f"Bearer {secret}"})


def test_redeem_into_the_keys_team_workspace(client, team, teammate):
    secret = api_key_create(user=teammate, workspace=team, name="ci").secret
    code = redemption_batch_create(name="api", value=7_250, count=1, max_redemptions=2).codes.get().code
    response = _post(client, secret, {"code": code.lower()})
    assert response.status_code == 201
    body = response.json()
    assert body["credits"] == "7.25" and body["workspace"]["id"] == team.pk and body["balance"] == "507.25"
    assert Wallet.objects.get(workspace=team).balance == 507_250
    again = _post(client, secret, {"code": code})
    assert again.status_code == 409 and again.json()["error"]["code"] == "code_already_redeemed"


@pytest.mark.parametrize("body, status, code", [
    ({"code": "AAAA-BBBB-CCCC-DDDD"}, 404, "code_invalid"),
    ({}, 400, "invalid_request"),
    ({"code": 12}, 400, "invalid_request"),
])
def test_redeem_errors(client, owner, body, status, code):
    from apps.accounts.models import Workspace

    personal = Workspace.objects.get(created_by=owner, kind="personal")
    secret = api_key_create(user=owner, workspace=personal, name="k").secret
    response = _post(client, secret, body)
    assert response.status_code == status and response.json()["error"]["code"] == code


def test_redeem_needs_a_key(client):
    response = client.post("/v1/redeem", {"code": "x"}, content_type="application/json")
    assert response.status_code == 401

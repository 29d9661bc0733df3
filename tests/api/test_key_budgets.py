"""Per-key credit limits (reference 004's api_key_credit_limit_exceeded), taken with the hold."""
from __future__ import annotations

import json

import pytest

from apps.accounts.services import user_onboard
from apps.api.models import ApiKey
from apps.api.services import api_key_create, api_key_set_limits
from apps.catalog.models import AIModel
from apps.generations.models import Generation
from apps.generations.services import generation_fail, generation_submit
from apps.wallet.audit import wallet_audit
from apps.wallet.models import Budget, Wallet
from apps.wallet.services import wallet_grant
from tests.wallet.race import race, scale

SUBMIT = {"model": "sandbox-image", "params": {"prompt": "a kite", "size": "512x512"}}  # 0.5 credits


def post(client, secret, body=SUBMIT):
    return client.post("/v1/generations", data=json.dumps(body), content_type="application/json",
                       HTTP_AUTHORIZATION=f"Bearer {secret}")


def test_lifetime_limit_refuses_with_402_and_releases_give_back(client, member, monkeypatch):
    monkeypatch.setattr("apps.generations.services._enqueue_run", lambda *a, **k: None)
    created = api_key_create(user=member, workspace=member.current_workspace, name="capped", credit_limit=1000)
    assert post(client, created.secret).status_code == 202
    assert post(client, created.secret).status_code == 202
    refused = post(client, created.secret)
    assert refused.status_code == 402 and refused.json()["error"]["code"] == "api_key_credit_limit_exceeded"
    assert Generation.objects.count() == 2
    assert Wallet.objects.get(workspace=member.current_workspace).held == 1000  # the wallet had room
    generation_fail(generation=Generation.objects.first(), code="canceled", message="test")
    assert post(client, created.secret).status_code == 202  # the release gave the budget back
    assert wallet_audit() == []


def test_monthly_limit_and_raising_it(client, member, monkeypatch):
    monkeypatch.setattr("apps.generations.services._enqueue_run", lambda *a, **k: None)
    created = api_key_create(user=member, workspace=member.current_workspace, name="monthly",
                             monthly_credit_limit=500)
    assert post(client, created.secret).status_code == 202
    assert post(client, created.secret).json()["error"]["code"] == "api_key_credit_limit_exceeded"
    api_key_set_limits(key=ApiKey.objects.get(pk=created.key.pk), credit_limit=None, monthly_credit_limit=1000)
    assert post(client, created.secret).status_code == 202
    assert wallet_audit() == []


def test_chat_counts_against_the_key_budget(client, member):
    created = api_key_create(user=member, workspace=member.current_workspace, name="chat", credit_limit=1)
    response = client.post("/v1/chat/completions", data=json.dumps({
        "model": "sandbox-text", "messages": [{"role": "user", "content": "hello there"}], "max_tokens": 4000}),
        content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {created.secret}")
    assert response.status_code == 402 and response.json()["error"]["code"] == "api_key_credit_limit_exceeded"


@pytest.mark.pg
def test_a_key_budget_holds_under_100_concurrent_holds(transactional_db, make_user, catalog, monkeypatch):
    """100 holds race for a key budget that covers exactly 20 of them (the wallet covers all)."""
    monkeypatch.setattr("apps.generations.services._enqueue_run", lambda *a, **k: None)
    user = make_user("racer@example.com")
    user_onboard(user=user)
    wallet = Wallet.objects.get(workspace=user.current_workspace)
    wallet_grant(wallet=wallet, amount=10_000_000, reason="plenty")
    model = AIModel.objects.get(slug="sandbox-image")
    price = 500
    covered = 20
    key = api_key_create(user=user, workspace=user.current_workspace, name="racer", credit_limit=covered * price).key
    attempts = scale(postgres=100, sqlite=40)

    def attempt(p, t, i):
        try:
            generation_submit(user=user, workspace=user.current_workspace, model=model,
                              raw_params={"prompt": f"race {p}-{t}-{i}", "size": "512x512"}, source="api",
                              api_key_id=key.pk, budget_id=key.budget_id)
            return "ok"
        except Exception as exc:  # noqa: BLE001 - the label is the test's evidence
            return getattr(exc, "code", type(exc).__name__)

    results = race(attempt, processes=4, threads=5, per_thread=attempts // 20)
    assert results == {"ok": covered, "budget_exceeded": attempts - covered}
    budget = Budget.objects.get(pk=key.budget_id)
    assert budget.spent == covered * price == budget.lifetime_limit
    assert Generation.objects.count() == covered
    assert wallet_audit() == []

"""Issue 9 item 8: every model id the references use resolves on /v1/models/{id} and in a call."""
from __future__ import annotations

import json

import pytest

from apps.catalog.services import catalog_sample_params, model_find
from apps.generations.models import Generation
from apps.wallet.models import Wallet
from apps.wallet.services import wallet_grant

MEDIA_IDS = ["gpt-image-2", "nano-banana-2", "gemini-nano-banana-2", "nano-banana-pro", "seedance-2-0",
             "seedance-2-0-fast", "grok-imagine-1.5-video", "grok-imagine-1.5-video-apimart",
             # pollinations' image and video names (reference 002)
             "flux", "turbo", "gptimage", "kontext", "seedream", "nanobanana", "nanobanana-pro", "veo", "seedance"]
CHAT_IDS = ["deepseek-v4-flash", "openai", "openai-fast", "openai-large", "gemini", "deepseek", "claude", "mistral",
            "qwen-coder", "gemini-fast", "grok", "claude-fast", "claude-large", "gemini-large", "kimi", "glm",
            "minimax"]


@pytest.fixture
def rich(member):
    wallet_grant(wallet=Wallet.objects.get(workspace=member.current_workspace), amount=10_000_000, reason="ids")


@pytest.mark.parametrize("model_id", MEDIA_IDS)
def test_media_ids_resolve_and_submit(client, auth, rich, model_id, monkeypatch):
    monkeypatch.setattr("apps.generations.services._enqueue_run", lambda *a, **k: None)
    detail = client.get(f"/v1/models/{model_id}")
    assert detail.status_code == 200, detail.content
    model = model_find(slug_or_alias=model_id)
    params = catalog_sample_params(model.schema)
    params.setdefault("prompt", "a lighthouse at dusk")
    response = client.post("/v1/generations", data=json.dumps({"model": model_id, "params": params}),
                           content_type="application/json", **auth)
    assert response.status_code == 202, response.content
    assert response.json()["model"] == detail.json()["id"] == Generation.objects.get().model.slug


@pytest.mark.parametrize("model_id", CHAT_IDS)
def test_chat_ids_resolve_and_answer(client, auth, rich, model_id):
    assert client.get(f"/v1/models/{model_id}").status_code == 200
    response = client.post("/v1/chat/completions", data=json.dumps({
        "model": model_id, "messages": [{"role": "user", "content": "Say hello."}], "max_tokens": 30}),
        content_type="application/json", **auth)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["choices"][0]["message"]["content"] and body["routing"]["adapter"] == "sandbox"

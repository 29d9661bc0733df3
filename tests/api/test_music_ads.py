"""POST /v1/music and /v1/ads: 001's options as bodies, refusals before anything is held."""
import json

import pytest

from apps.api.services import api_key_create
from apps.generations.models import Generation
from tests.support.images import data_uri, reference_ad

pytestmark = pytest.mark.django_db


@pytest.fixture
def quiet(monkeypatch):
    monkeypatch.setattr("apps.generations.services._enqueue_run", lambda gid, countdown=None: None)


def post(client, auth, path, body, **headers):
    return client.post(path, data=json.dumps(body), content_type="application/json", **auth, **headers)


def test_music_answers_the_generation_and_lists_what_the_model_ignores(client, auth, member, quiet):
    response = post(client, auth, "/v1/music", {"prompt": "rain on a tin roof", "style": "lofi", "title": "Tin",
                                                "duration": 20}, HTTP_IDEMPOTENCY_KEY="song-1")
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["model"] == "ace-step" and body["status"] == "queued" and body["ignored_params"] == ["title"]
    assert body["params"]["prompt"] == "lofi, rain on a tin roof" and body["params"]["duration"] == 20
    again = post(client, auth, "/v1/music", {"prompt": "rain on a tin roof", "style": "lofi", "title": "Tin",
                                             "duration": 20}, HTTP_IDEMPOTENCY_KEY="song-1")
    assert again.json()["id"] == body["id"] and Generation.objects.count() == 1


@pytest.mark.parametrize("body, param", [
    ({"prompt": "x", "lyrics": "la la", "instrumental": True}, "lyrics"),
    ({"prompt": "x", "model": "elevenlabs-music", "lyrics": "la la la"}, "lyrics"),
    ({"prompt": "x", "model": "sandbox-image"}, "model"),
    ({"prompt": "x", "duration": "20"}, "duration"),
    ({"prompt": "x", "colour": "blue"}, "colour"),
])
def test_music_refusals_name_the_option(client, auth, member, quiet, body, param):
    response = post(client, auth, "/v1/music", body)
    assert response.status_code == 400 and response.json()["error"]["param"] == param, response.content
    assert Generation.objects.count() == 0


def test_ads_refusals_and_the_keys_allowlist(client, auth, member, quiet):
    reference = data_uri(reference_ad(64))
    unknown = post(client, auth, "/v1/ads", {"reference_image_url": reference, "product_text": "Lumen",
                                             "image_model": "no-such-model"})
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "invalid_model"
    no_product = post(client, auth, "/v1/ads", {"reference_image_url": reference})
    assert no_product.status_code == 400 and no_product.json()["error"]["param"] == "product_image_url"
    too_many = post(client, auth, "/v1/ads", {"reference_image_url": reference, "product_text": "x", "variants": 9})
    assert too_many.status_code == 400 and too_many.json()["error"]["param"] == "variants"
    narrow = api_key_create(user=member, workspace=member.current_workspace, name="narrow",
                            allowed_models=["sandbox-image"]).secret
    refused = post(client, {"HTTP_AUTHORIZATION": f"Bearer {narrow}"}, "/v1/ads",
                   {"reference_image_url": reference, "product_text": "Lumen"})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "api_key_model_not_allowed"
    assert Generation.objects.count() == 0


def test_ads_answer_one_generation_per_variant(client, auth, member, quiet):
    response = post(client, auth, "/v1/ads", {"reference_image_url": data_uri(reference_ad(64)),
                                              "product_text": "Lumen Bottle", "variants": 2, "tone": "calm"})
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["object"] == "ad_campaign" and len(body["generation_ids"]) == 2
    assert [v["generation_id"] for v in body["variants"]] == body["generation_ids"]
    assert all(v["headline"] and v["status"] == "queued" for v in body["variants"])
    assert Generation.objects.filter(model__slug="nano-banana-pro").count() == 2


def test_music_and_ads_spend_the_keys_credit_limit(client, member, quiet):
    """A key's credit limit is taken with every hold of the workflow (the song, each ad's copy
    turn and image), so a capped key cannot spend past it through these endpoints either."""
    from apps.wallet.audit import wallet_audit
    from apps.wallet.models import Budget

    capped = api_key_create(user=member, workspace=member.current_workspace, name="capped", credit_limit=1)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {capped.secret}"}
    song = post(client, auth, "/v1/music", {"prompt": "rain on a tin roof"})
    assert song.status_code == 402 and song.json()["error"]["code"] == "api_key_credit_limit_exceeded"
    ads = post(client, auth, "/v1/ads", {"reference_image_url": data_uri(reference_ad(64)), "product_text": "Lumen",
                                         "variants": 1})
    assert ads.status_code == 402 and ads.json()["error"]["code"] == "api_key_credit_limit_exceeded"
    assert Generation.objects.filter(status__in=Generation.PENDING).count() == 0
    roomy = api_key_create(user=member, workspace=member.current_workspace, name="roomy", credit_limit=50_000)
    accepted = post(client, {"HTTP_AUTHORIZATION": f"Bearer {roomy.secret}"}, "/v1/music", {"prompt": "rain"})
    assert accepted.status_code == 202, accepted.content
    budget = Budget.objects.get(api_key__pk=roomy.key.pk)
    assert budget.spent == Generation.objects.get(pk=accepted.json()["id"]).price > 0
    assert wallet_audit() == []

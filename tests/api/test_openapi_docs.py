"""The OpenAPI document, the docs page and llms.txt: generated from the code, covering every
endpoint the API serves, with unique operation ids and per-model examples."""
from __future__ import annotations

import json
import re

import pytest

from apps.api.app import api
from apps.catalog.models import AIModel

pytestmark = pytest.mark.django_db


def served_paths() -> set[str]:
    """Every (path) the ninja application routes, from Django's resolver, in OpenAPI's {name} form."""
    found = set()
    for pattern in api.urls[0]:
        if pattern.name == "api-root":  # ninja's own placeholder for reverse(), not an endpoint
            continue
        found.add("/" + re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", str(pattern.pattern)))
    return found


def _no_duplicate_keys(pairs):
    keys = [key for key, _ in pairs]
    assert len(keys) == len(set(keys)), keys
    return dict(pairs)


def test_the_document_covers_every_endpoint_with_unique_ids(client, catalog):
    response = client.get("/v1/openapi.json")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/json")
    json.loads(response.content, object_pairs_hook=_no_duplicate_keys)
    document = response.json()
    assert document["openapi"].startswith("3.1") and client.get("/api/v1/openapi.json").json() == document
    listed = {path for path in document["paths"]}
    assert served_paths() - listed == set()
    ids = [op["operationId"] for methods in document["paths"].values() for op in methods.values()]
    assert len(ids) == len(set(ids))
    assert {"v1_generations_create", "api_v1_generations_create", "root_image_models"} <= set(ids)
    create = document["paths"]["/v1/generations"]["post"]
    assert create["security"] == [{"bearerAuth": []}, {"keyQuery": []}]
    assert create["responses"]["202"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/GenerationOut"}
    assert create["responses"]["default"]["content"]["application/json"]["schema"]["$ref"].endswith("ErrorEnvelope")
    examples = create["requestBody"]["content"]["application/json"]["examples"]
    assert set(examples) == set(AIModel.objects.offered().values_list("slug", flat=True))
    assert examples["flux-schnell"]["value"]["params"]["prompt"]
    assert {} in document["paths"]["/v1/models"]["get"]["security"]  # public
    assert set(document["webhooks"]) == {"generation.succeeded", "generation.failed", "generation.canceled"}
    body = document["components"]["schemas"]["GenerationBody"]["properties"]
    assert "webhook_url" in body


def test_examples_are_valid_requests(client, catalog):
    """Every per-model example is accepted by the validator and priced (POST /v1/quote)."""
    document = client.get("/v1/openapi.json").json()
    examples = document["paths"]["/v1/quote"]["post"]["requestBody"]["content"]["application/json"]["examples"]
    assert len(examples) > 50
    for slug, example in examples.items():
        answer = client.post("/v1/quote", example["value"], content_type="application/json")
        assert answer.status_code == 200, (slug, answer.content)


def test_docs_page_and_llms_txt(client, catalog):
    page = client.get("/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "POST /v1/generations" in html and "claude mcp add --transport http atelier" in html
    assert "bearer_token_env_var" in html and "standardwebhooks" in html
    # Local assets only: no remote script, no CDN host in any link (the page's random CSRF token
    # may spell "cdn", so only src/href values are looked at).
    assert "<script src=\"http" not in html
    assert not re.search(r'(?:src|href)="[^"]*cdn', html, re.IGNORECASE)
    text = client.get("/llms.txt")
    assert text["Content-Type"].startswith("text/markdown")
    markdown = text.content.decode()
    assert markdown.startswith("# Atelier API") and "### POST /v1/generations" in markdown
    assert "&quot;" not in markdown and '{"model": "flux-schnell"' in markdown
    for slug in AIModel.objects.offered().values_list("slug", flat=True):
        assert f'"model": "{slug}"' in markdown

"""Gallery filters and the model page's reference sections (they read the catalog)."""
import json
import re
from html import unescape

import pytest

from apps.catalog.models import AIModel, Channel
from apps.catalog.presentation import api_examples, catalog_gallery, example_params
from apps.catalog.schema import validate_params


def slugs(cards):
    return {card["model"].slug for card in cards}


def test_gallery_filters_combine(catalog):
    everything = catalog_gallery()
    assert len(everything.cards) == AIModel.objects.offered().count() < AIModel.objects.filter(enabled=True).count()
    assert "sora-2" not in slugs(everything.cards)  # retired: kept for history, not offered
    assert "Google" in everything.vendors and ("end-frame", "End frame (start and end frames)") in everything.capabilities
    videos = slugs(catalog_gallery(modality="video").cards)
    assert {"veo-3", "seedance-2"} <= videos and "gpt-image-1" not in videos
    google_video = slugs(catalog_gallery(modality="video", vendor="Google").cards)
    assert google_video == {"veo-3", "veo-3-fast", "veo-3.1", "veo-3.1-fast", "veo-3.1-lite"}
    end_frames = slugs(catalog_gallery(capability="end-frame").cards)
    assert "kling-2.1" in end_frames and "veo-3" not in end_frames
    assert slugs(catalog_gallery(query="gemini-3.1-flash-image").cards) == {"nano-banana-2"}  # alias search
    assert slugs(catalog_gallery(query="flux kontext").cards) == {"flux-kontext-pro", "flux-kontext-max"}
    assert catalog_gallery(query="no such thing at all").cards == []


def test_gallery_page_and_htmx_partial(client, catalog):
    page = client.get("/", {"modality": "speech", "vendor": "OpenAI"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "GPT-4o mini TTS" in html and "Veo 3" not in html
    assert "credits per 1k characters" in html
    assert 'value="OpenAI" selected' in html
    partial = client.get("/", {"capability": "lyrics"}, HTTP_HX_REQUEST="true")
    text = partial.content.decode()
    assert text.lstrip().startswith('<div id="cards"') and "<html" not in text
    assert "MiniMax Music 1.5" in text and "Sora 2" not in text
    texts = client.get("/", {"modality": "text"}).content.decode()
    assert "credits per 1k tokens in / out" in texts


def test_disabled_models_leave_the_gallery(client, catalog):
    AIModel.objects.filter(slug="dall-e-3").update(enabled=False)
    assert "dall-e-3" not in slugs(catalog_gallery().cards)
    assert client.get("/models/dall-e-3/").status_code == 404


def test_model_page_shows_parameters_pricing_routes_and_examples(client, catalog):
    html = unescape(client.get("/models/seedance-2/").content.decode())
    for text in ["<code>media_urls</code>", "string[] (URL)", "1–12 public URLs", "<code>seed</code>",
                 "-1 – 4294967295", "image_url required when mode = image-to-video.",
                 "Base, per second", "generate_audio = true", "resolution = 1080p",
                 "<code>dreamina-seedance-2-0-260128</code>", "no seed",
                 "Served by the local sandbox until an upstream channel is configured",
                 "curl -X POST http://testserver/v1/generations", '"model": "seedance-2"', "Idempotency-Key"]:
        assert text in html, text


def test_sandbox_label_follows_channels(client, catalog):
    assert "Served by the local sandbox" in client.get("/models/gpt-image-1/").content.decode()
    Channel.objects.create(name="OpenAI", adapter="openai", priority=10)
    html = client.get("/models/gpt-image-1/").content.decode()
    assert "Served by a configured upstream channel" in html and "channel configured" in html
    assert "Runs on this server" in client.get("/models/sandbox-image/").content.decode()


@pytest.mark.parametrize("slug", ["gpt-image-1", "veo-3", "kling-2.1", "minimax-music-1.5", "tts-1", "gpt-4o"])
def test_api_examples_are_valid_requests_and_python(catalog, slug):
    model = AIModel.objects.get(slug=slug)
    validate_params(model.schema, example_params(model))
    examples = api_examples(model, "https://atelier.example")
    body = re.search(r"-d '(.*?)'\n", examples["curl"], re.S).group(1)
    assert json.loads(body)["model"] == slug
    compile(examples["python"], f"{slug}-example.py", "exec")
    assert 'API = "https://atelier.example"' in examples["python"]
    assert f'"model": "{slug}"' in examples["python"]


def test_every_model_page_renders_with_its_tables(client, catalog):
    for model in AIModel.objects.filter(enabled=True):
        response = client.get(f"/models/{model.slug}/")
        assert response.status_code == 200, model.slug
        html = response.content.decode()
        assert 'class="table params"' in html and 'class="table pricing"' in html, model.slug
        assert f'"model": "{model.slug}"' in unescape(html), model.slug


@pytest.mark.django_db(transaction=True)
def test_text_model_from_the_web_form_uses_the_prompt(client, make_user, eager):
    from apps.accounts.services import user_onboard
    from apps.catalog.data import all_models
    from apps.catalog.services import catalog_sync
    from apps.generations.models import Generation

    catalog_sync(entries=all_models())
    user = make_user("writer@example.com")
    user_onboard(user=user)
    client.force_login(user)
    response = client.post("/models/gpt-4o-mini/generate", {"prompt": "Say hello", "max_tokens": "64"})
    assert response.status_code == 302
    generation = Generation.objects.get()
    assert generation.params["prompt"] == "Say hello" and "messages" not in generation.params
    assert generation.status == "succeeded", generation.error_message
    assert generation.result_text
    assert generation.charged <= generation.price


def test_the_model_page_shows_when_the_entry_was_checked_and_what_is_unconfirmed(client, catalog):
    page = client.get("/models/grok-imagine-1.5-video/").content.decode()
    assert 'data-testid="checked-at"' in page and "2026-12-01" in page
    assert "not xAI&#x27;s own pricing page" in page or "not xAI's own pricing page" in page


def test_a_retired_model_page_says_so_and_its_quote_refuses(client, catalog):
    page = client.get("/models/sora-2/").content.decode()
    assert 'data-testid="retired"' in page and "2026-09-24" in page
    response = client.post("/models/sora-2/price", {"prompt": "x"}, HTTP_HX_REQUEST="true")
    assert "retired on 2026-09-24" in response.content.decode()


def test_every_catalog_entry_has_a_checked_date():
    from apps.catalog.data import all_models

    assert [e["slug"] for e in all_models() if not e.get("checked_at")] == []

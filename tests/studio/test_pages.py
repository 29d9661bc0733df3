"""The creator pages: gallery, model form, live price, submit, history polling, bad input."""
import re
import uuid

import pytest

from apps.generations.models import Generation
from apps.wallet.models import Hold
from tests.conftest import personal_wallet

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def logged_in(client, owner, catalog):
    client.force_login(owner)
    return client


@pytest.fixture
def no_enqueue(monkeypatch):
    monkeypatch.setattr("apps.generations.services._enqueue_run", lambda gid, countdown=None: None)


def form(**values):
    data = {"prompt": "a lighthouse in fog", "size": "1024x1024", "n": "1", "seed": "", "submit_token": uuid.uuid4().hex}
    data.update(values)
    return data


def test_gallery_lists_the_sandbox_model_labelled_local(client, catalog):
    page = client.get("/").content.decode()
    assert "Sandbox Image" in page and "Local sandbox" in page and "from <strong>1</strong> credits" in page
    filtered = client.get("/?modality=video", **HX).content.decode()
    assert "Sandbox Image" not in filtered


def test_model_page_renders_the_schema_form_and_price(client, catalog):
    page = client.get("/models/sandbox-image/").content.decode()
    assert 'name="prompt"' in page and 'name="size"' in page and 'name="n"' in page
    assert re.search(r'data-testid="price">1</strong>', page)
    assert client.get("/models/nope/").status_code == 404


def test_live_price_follows_the_fields(client, catalog):
    response = client.post("/models/sandbox-image/price", {"prompt": "x", "size": "1536x1024", "n": "3"}, **HX)
    assert 'data-testid="price">4.5</strong>' in response.content.decode()
    response = client.post("/models/sandbox-image/price", {"prompt": "x", "n": "40"}, **HX)
    assert "at most 4" in response.content.decode()


def test_submit_holds_the_shown_price_and_history_polls_until_done(logged_in, owner, no_enqueue):
    response = logged_in.post("/models/sandbox-image/generate", form(n="2"), **HX)
    assert response.status_code == 200
    body = response.content.decode()
    generation = Generation.objects.get()
    assert generation.price == 2_000 and personal_wallet(owner).held == 2_000
    assert 'hx-trigger="every 1500ms"' in body and "Queued" in body
    # While pending, the history partial keeps polling.
    assert logged_in.get("/history/?model=sandbox-image", **HX).status_code == 200
    from apps.generations.services import generation_run

    generation_run(generation_id=generation.pk)
    final = logged_in.get("/history/?model=sandbox-image", **HX)
    assert final.status_code == 286  # htmx stops polling, and swaps the final state in
    assert "Succeeded" in final.content.decode() and "every 1500ms" not in final.content.decode()


def test_double_submit_of_one_form_creates_one_generation(logged_in, no_enqueue):
    data = form()
    logged_in.post("/models/sandbox-image/generate", data, **HX)
    response = logged_in.post("/models/sandbox-image/generate", data, **HX)
    assert "already submitted" in response.content.decode()
    assert Generation.objects.count() == 1 and Hold.objects.count() == 1


@pytest.mark.parametrize(
    "values, message",
    [
        ({"prompt": ""}, "Prompt is required."),
        ({"prompt": "y" * 2001}, "Prompt must be at most 2000 characters"),
        ({"size": "123x456"}, "Size must be one of"),
        ({"n": "0"}, "Images must be at least 1."),
        ({"seed": "-5"}, "Seed must be at least 0."),
    ],
)
def test_bad_input_shows_a_clear_message_and_creates_nothing(logged_in, no_enqueue, values, message):
    response = logged_in.post("/models/sandbox-image/generate", form(**values), **HX)
    assert message in response.content.decode()
    assert Generation.objects.count() == 0 and Hold.objects.count() == 0
    # Without HTMX the page re-renders with a 400 and keeps what was typed.
    response = logged_in.post("/models/sandbox-image/generate", form(**values))
    assert response.status_code == 400 and message in response.content.decode()


def test_anonymous_users_must_log_in_to_generate(client, catalog):
    response = client.post("/models/sandbox-image/generate", form())
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert Generation.objects.count() == 0


def test_outsider_gets_404_for_someone_elses_generation(logged_in, owner, outsider, client, no_enqueue):
    logged_in.post("/models/sandbox-image/generate", form(), **HX)
    generation = Generation.objects.get()
    assert logged_in.get(f"/generations/{generation.pk}/").status_code == 200
    client.force_login(outsider)
    assert client.get(f"/generations/{generation.pk}/").status_code == 404
    assert client.post(f"/generations/{generation.pk}/cancel").status_code == 404
    assert "lighthouse" not in client.get("/history/").content.decode()


def test_history_poll_refreshes_the_balance_and_cards_link_to_model_and_files(logged_in, owner, no_enqueue):
    logged_in.post("/models/sandbox-image/generate", form(), **HX)
    generation = Generation.objects.get()
    from apps.generations.services import generation_run

    generation_run(generation_id=generation.pk)
    body = logged_in.get("/history/", **HX).content.decode()
    assert 'id="balance" class="balance" hx-swap-oob="true"' in body  # the capture shows without a reload
    assert 'href="/models/sandbox-image/"' in body and " download>Download</a>" in body


def test_generation_page_polls_while_pending_and_offers_run_again(logged_in, owner, no_enqueue):
    logged_in.post("/models/sandbox-image/generate", form(size="512x512", seed="7"), **HX)
    generation = Generation.objects.get()
    pending = logged_in.get(f"/generations/{generation.pk}/", **HX)
    assert pending.status_code == 200 and 'hx-trigger="every 1500ms"' in pending.content.decode()
    from apps.generations.services import generation_run

    generation_run(generation_id=generation.pk)
    final = logged_in.get(f"/generations/{generation.pk}/", **HX)
    assert final.status_code == 286 and "every 1500ms" not in final.content.decode()
    page = logged_in.get(f"/generations/{generation.pk}/").content.decode()
    assert "512x512" in page and f"?from={generation.pk}" in page  # settings shown; run again link
    again = logged_in.get(f"/models/sandbox-image/?from={generation.pk}").content.decode()
    assert "a lighthouse in fog</textarea>" in again and 'value="7"' in again
    assert re.search(r'<option value="512x512"\s+selected', again)


def test_run_again_ignores_someone_elses_generation(logged_in, owner, outsider, client, no_enqueue):
    logged_in.post("/models/sandbox-image/generate", form(prompt="secret plan"), **HX)
    generation = Generation.objects.get()
    client.force_login(outsider)
    page = client.get(f"/models/sandbox-image/?from={generation.pk}")
    assert page.status_code == 200 and "secret plan" not in page.content.decode()


def test_more_settings_stay_open_when_an_advanced_value_was_changed(logged_in, no_enqueue, catalog):
    closed = logged_in.get("/models/sandbox-text/").content.decode()
    assert '<details class="advanced-fields" >' in closed
    response = logged_in.post("/models/sandbox-text/generate",
                              {"prompt": "hi", "max_tokens": "64", "temperature": "0.5",
                               "submit_token": uuid.uuid4().hex}, **HX)
    assert '<details class="advanced-fields" open>' in response.content.decode()

"""The creator pages: gallery, a studio per model, live price with the balance check, submit,
bad input, outsiders."""
import re

import pytest

from apps.generations.models import Generation
from apps.wallet.models import Hold, MemberCap, Wallet
from apps.wallet.services import wallet_adjust
from tests.conftest import personal_wallet

from .conftest import HX, form, make_job

pytestmark = pytest.mark.django_db


def test_gallery_lists_the_sandbox_model_labelled_local_with_a_preview(client, catalog):
    page = client.get("/").content.decode()
    assert "Sandbox Image" in page and "Local sandbox" in page and "from <strong>1</strong> credits" in page
    assert "img/modality-image" in page  # no sample, no result yet: the modality illustration
    filtered = client.get("/?modality=video", **HX).content.decode()
    assert "Sandbox Image" not in filtered


def test_gallery_previews_the_workspace_latest_output_and_sorts(logged_in, owner, no_enqueue):
    job = make_job(owner)
    page = logged_in.get("/").content.decode()
    assert job.outputs.get().thumbnail.name in page and "Your latest Sandbox Image result" in page
    names = lambda html: re.findall(r'<h2 class="card-title">([^<]+)</h2>', html)  # noqa: E731
    by_price = names(logged_in.get("/?sort=price", **HX).content.decode())
    assert by_price != names(logged_in.get("/?sort=featured", **HX).content.decode())
    popular = names(logged_in.get("/?sort=popular", **HX).content.decode())
    assert popular[0] == "Sandbox Image"  # the only model with jobs
    compact = logged_in.get("/?layout=compact", **HX).content.decode()
    assert 'class="cards cards-compact"' in compact


def test_model_page_is_the_form_beside_the_feed(client, catalog):
    page = client.get("/models/sandbox-image/").content.decode()
    assert 'name="prompt"' in page and 'name="size"' in page and 'name="n"' in page
    assert re.search(r'data-testid="price">1</strong>', page)
    assert 'class="studio-controls"' in page and 'class="studio-feed"' in page
    assert client.get("/models/nope/").status_code == 404


def test_live_price_follows_the_fields(client, catalog):
    response = client.post("/models/sandbox-image/price", {"prompt": "x", "size": "1536x1024", "n": "3"}, **HX)
    assert 'data-testid="price">4.5</strong>' in response.content.decode()
    response = client.post("/models/sandbox-image/price", {"prompt": "x", "n": "40"}, **HX)
    assert "at most 4" in response.content.decode()
    # No prompt yet: the price is still shown (the prompt does not change it); submit says it is required.
    response = client.post("/models/sandbox-image/price", {"n": "2"}, **HX)
    assert 'data-testid="price">2</strong>' in response.content.decode()


def test_the_button_says_when_the_price_is_over_the_balance(logged_in, owner):
    wallet_adjust(wallet=personal_wallet(owner), amount=-99_000, reason="spent elsewhere", actor=None)
    body = logged_in.post("/models/sandbox-image/price", {"prompt": "x", "n": "2"}, **HX).content.decode()
    assert 'data-testid="over-balance"' in body and "more than the 1 credits available" in body
    assert "Not enough credits</button>" in body and "disabled" in body and 'href="/wallet/"' in body
    fits = logged_in.post("/models/sandbox-image/price", {"prompt": "x", "n": "1"}, **HX).content.decode()
    assert "over-balance" not in fits and ">Generate</button>" in fits


def test_the_button_says_when_the_price_is_over_the_member_cap(client, team, teammate, catalog):
    MemberCap.objects.create(wallet=Wallet.objects.get(workspace=team), member=teammate, monthly_cap=1_500)
    teammate.current_workspace = team
    teammate.save()
    client.force_login(teammate)
    body = client.post("/models/sandbox-image/price", {"prompt": "x", "n": "2"}, **HX).content.decode()
    assert 'data-testid="over-cap"' in body and "1.5 credits left under your monthly cap" in body


def test_submit_holds_the_shown_price_and_wakes_the_feed(logged_in, owner, no_enqueue):
    response = logged_in.post("/models/sandbox-image/generate", form(n="2"), **HX)
    assert response.status_code == 200 and response["HX-Trigger"] == "history-changed"
    generation = Generation.objects.get()
    assert generation.price == 2_000 and personal_wallet(owner).held == 2_000
    body = response.content.decode()
    assert "Queued:" not in body  # no banner that outlives the job: the card shows its state
    assert 'id="balance" class="balance" hx-swap-oob="true"' in body


def test_submit_without_javascript_redirects_to_the_studio_with_the_job_in_the_feed(logged_in, owner, no_enqueue):
    response = logged_in.post("/models/sandbox-image/generate", form())
    assert response.status_code == 302 and response["Location"] == "/models/sandbox-image/"
    page = logged_in.get("/models/sandbox-image/").content.decode()
    generation = Generation.objects.get()
    assert f'id="gen-{generation.pk}"' in page and "Waiting for a worker" in page
    assert "reload the page to see their results" in page  # the no-JavaScript hint


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
        ({"n": "two"}, "Images must be a whole number."),
        ({"seed": "-5"}, "Seed must be at least 0."),
    ],
)
def test_bad_input_shows_a_clear_message_and_creates_nothing(logged_in, no_enqueue, values, message):
    response = logged_in.post("/models/sandbox-image/generate", form(**values), **HX)
    body = response.content.decode()
    assert message in body and 'aria-invalid="true"' in body
    assert Generation.objects.count() == 0 and Hold.objects.count() == 0
    # Without HTMX the page re-renders with a 400 and keeps what was typed.
    response = logged_in.post("/models/sandbox-image/generate", form(**values))
    assert response.status_code == 400 and message in response.content.decode()


def test_insufficient_credits_says_so_without_internal_codes(logged_in, owner, no_enqueue):
    wallet = personal_wallet(owner)
    wallet_adjust(wallet=wallet, amount=-(wallet.balance - 500), reason="spent", actor=None)
    body = logged_in.post("/models/sandbox-image/generate", form(), **HX).content.decode()
    assert "Not enough credits for this generation." in body and "insufficient_credits" not in body
    assert Wallet.objects.get(pk=wallet.pk).held == 0


def test_anonymous_users_must_log_in_to_generate(client, catalog):
    response = client.post("/models/sandbox-image/generate", form())
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert Generation.objects.count() == 0


def test_run_again_fills_the_form_with_the_job_settings(logged_in, owner, no_enqueue):
    generation = make_job(owner, size="512x512", seed=7, prompt="a lighthouse in fog")
    page = logged_in.get(f"/models/sandbox-image/?from={generation.pk}").content.decode()
    assert "a lighthouse in fog</textarea>" in page and 'value="7"' in page
    assert re.search(r'<option value="512x512"\s+selected', page)
    assert '<details class="advanced-fields" open>' in page  # the seed differs from its default


def test_run_again_ignores_someone_elses_generation(logged_in, owner, outsider, client, no_enqueue):
    generation = make_job(owner, prompt="secret plan")
    client.force_login(outsider)
    page = client.get(f"/models/sandbox-image/?from={generation.pk}")
    assert page.status_code == 200 and "secret plan" not in page.content.decode()


def test_more_settings_stay_closed_by_default_and_open_when_changed(logged_in, no_enqueue, catalog):
    closed = logged_in.get("/models/sandbox-text/").content.decode()
    assert '<details class="advanced-fields" >' in closed
    response = logged_in.post("/models/sandbox-text/generate",
                              {"prompt": "hi", "max_tokens": "64", "temperature": "0.5"}, **HX)
    assert '<details class="advanced-fields" open>' in response.content.decode()


def test_pricing_page_lists_every_enabled_model_publicly(client, catalog):
    page = client.get("/pricing/").content.decode()
    assert "Sandbox Image" in page and "GPT Image 2" in page and "GPT Image 1" not in page and "from 1 credits" in page


def test_styled_404_page(client, catalog, settings):
    settings.DEBUG = False
    response = client.get("/generations/00000000-0000-0000-0000-000000000000/")
    assert response.status_code == 302  # login first
    response = client.get("/models/nope/")
    assert response.status_code == 404 and "We could not find that page" in response.content.decode()

"""Honest routing and failover by scope, over real HTTP to the fake OpenAI API (GPT Image 2).

A configured real channel that fails never turns into a sandbox result; the sandbox serves a
model only while no real channel is configured for it, at SANDBOX_PRICE_FACTOR times its price,
and every page that shows the job says so. Errors that belong to the route or the channel fail
over; errors that belong to the request fail the job at once."""
from decimal import Decimal

import pytest
from django.core.cache import cache

from apps.catalog.data import image
from apps.catalog.models import AIModel, Channel
from apps.catalog.services import catalog_sync
from apps.generations.models import Generation
from apps.generations.services import generation_quote, generation_run, generation_submit
from apps.wallet.audit import wallet_audit
from tests.conftest import personal_wallet
from tests.fakes.fixtures import fake_upstream  # noqa: F401
from tests.support.servers import free_port

pytestmark = [pytest.mark.pg, pytest.mark.django_db]

PRICE = 7_000  # GPT Image 2 at the defaults (medium, 1:1 at 1K, n=1), millicredits


@pytest.fixture(autouse=True)
def fresh_circuits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def quiet(monkeypatch, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    monkeypatch.setattr("apps.generations.services._enqueue_run", lambda gid, countdown=None: None)
    monkeypatch.setattr("apps.generations.services._enqueue_poll", lambda gid, countdown: None)


@pytest.fixture
def gpt_image(db):
    catalog_sync(entries=[entry for entry in image.MODELS if entry["slug"] == "gpt-image-2"])
    return AIModel.objects.get(slug="gpt-image-2")


def openai_channel(name, url, priority=10, key="sk-live-0001"):
    channel = Channel(name=name, adapter="openai", priority=priority, base_url=url, options={"timeout": 5})
    channel.api_key = key
    channel.save()
    return channel


def submit(user, model, **params):
    return generation_submit(user=user, workspace=user.current_workspace, model=model,
                             raw_params={"prompt": "a lighthouse", **params})[0]


def run_rounds(generation, rounds=5):
    for _ in range(rounds):
        Generation.objects.filter(pk=generation.pk).update(next_check_at=generation.created_at)
        generation_run(generation_id=generation.pk)
    generation.refresh_from_db()
    return generation


# ---- a configured channel that is down -----------------------------------------------------------
def test_a_configured_channel_that_is_down_fails_the_job_and_never_serves_the_sandbox(owner, gpt_image, quiet):
    openai_channel("OpenAI", f"http://127.0.0.1:{free_port()}/v1")  # nothing listens there
    generation = run_rounds(submit(owner, gpt_image))
    assert generation.status == "failed" and generation.error_code == "upstream_unavailable"
    assert generation.adapter != "sandbox" and generation.outputs.count() == 0
    assert set(generation.attempts.values_list("adapter", flat=True)) == {"openai"}
    wallet = personal_wallet(owner)
    assert wallet.held == 0 and wallet.balance == 100_000
    assert wallet_audit() == []


def test_a_channel_with_an_open_circuit_still_keeps_the_sandbox_out(owner, gpt_image, quiet):
    from apps.providers import health

    openai_channel("OpenAI", f"http://127.0.0.1:{free_port()}/v1")
    for _ in range(health.FAILURE_THRESHOLD):
        health.channel_record_failure("OpenAI")
    generation = run_rounds(submit(owner, gpt_image), rounds=1)
    assert set(generation.attempts.values_list("adapter", flat=True)) == {"openai"}


# ---- failover by scope ---------------------------------------------------------------------------
@pytest.mark.parametrize("fault", [
    {"status": 404, "code": "model_not_found", "message": "The model `gpt-image-2` does not exist."},
    {"status": 400, "code": "unsupported_parameter", "message": "Unsupported parameter: 'moderation'."},
    {"status": 401, "code": "invalid_api_key", "message": "Incorrect API key provided."},
])
def test_a_route_or_channel_error_fails_over_to_the_next_real_channel(owner, gpt_image, quiet, fake_upstream,
                                                                      fault):
    fake_upstream.faults("openai.images", count=1, **fault)
    openai_channel("primary", fake_upstream.url + "/v1", priority=10)
    openai_channel("backup", fake_upstream.url + "/v1", priority=0)
    generation = run_rounds(submit(owner, gpt_image), rounds=1)
    assert generation.status == "succeeded", generation.error_message
    assert generation.channel_name == "backup" and generation.outputs.count() == 1
    assert list(generation.attempts.values_list("channel_name", "outcome")) == [
        ("primary", "permanent"), ("backup", "ok")]
    assert generation.charged == PRICE and wallet_audit() == []


def test_a_content_filter_error_fails_the_job_without_trying_another_channel(owner, gpt_image, quiet,
                                                                            fake_upstream):
    openai_channel("primary", fake_upstream.url + "/v1", priority=10)
    openai_channel("backup", fake_upstream.url + "/v1", priority=0)
    generation = run_rounds(submit(owner, gpt_image, prompt="something forbidden"), rounds=1)
    assert generation.status == "failed" and generation.error_code == "content_filtered"
    assert list(generation.attempts.values_list("channel_name", flat=True)) == ["primary"]
    assert personal_wallet(owner).held == 0 and wallet_audit() == []


def test_when_every_route_refuses_the_job_it_fails_at_once_without_retry_rounds(owner, gpt_image, quiet,
                                                                               fake_upstream):
    fake_upstream.faults("openai.images", status=404, code="model_not_found", message="no such model")
    openai_channel("primary", fake_upstream.url + "/v1", priority=10)
    openai_channel("backup", fake_upstream.url + "/v1", priority=0)
    generation = submit(owner, gpt_image)
    generation_run(generation_id=generation.pk)
    generation.refresh_from_db()
    assert generation.status == "failed" and generation.error_code == "upstream_not_found"
    assert generation.submit_rounds == 0 and generation.attempts.count() == 2
    assert wallet_audit() == []


# ---- the sandbox, labelled and priced -----------------------------------------------------------
def test_the_sandbox_serves_a_model_without_channels_at_the_models_price_and_says_so(owner, gpt_image, quiet,
                                                                                    client):
    generation = run_rounds(submit(owner, gpt_image), rounds=1)
    assert generation.status == "succeeded" and generation.adapter == "sandbox"
    assert generation.price == PRICE and generation.charged == PRICE
    client.force_login(owner)
    card = client.get("/history/").content.decode()
    assert 'data-testid="sandbox-label"' in card and "not by OpenAI" in card
    detail = client.get(f"/generations/{generation.pk}/").content.decode()
    assert 'data-testid="sandbox-label"' in detail and "not OpenAI output" in detail


def test_a_job_a_real_channel_served_carries_no_sandbox_label(owner, gpt_image, quiet, fake_upstream, client):
    openai_channel("OpenAI", fake_upstream.url + "/v1")
    generation = run_rounds(submit(owner, gpt_image), rounds=1)
    assert generation.status == "succeeded" and generation.adapter == "openai"
    client.force_login(owner)
    assert 'data-testid="sandbox-label"' not in client.get("/history/").content.decode()
    assert 'data-testid="sandbox-label"' not in client.get(f"/generations/{generation.pk}/").content.decode()


@pytest.mark.parametrize("factor, held, charged", [("0.5", PRICE // 2, PRICE // 2), ("0", 1, 0)])
def test_the_sandbox_price_factor_scales_quote_hold_and_charge(owner, gpt_image, quiet, settings, factor, held,
                                                               charged):
    settings.SANDBOX_PRICE_FACTOR = Decimal(factor)
    quoted = generation_quote(model=gpt_image, raw_params={"prompt": "a red fox"})
    assert quoted.sandbox and quoted.price == held
    generation = run_rounds(submit(owner, gpt_image), rounds=1)
    assert generation.status == "succeeded" and generation.adapter == "sandbox"
    assert (generation.price, generation.charged) == (held, charged)
    assert personal_wallet(owner).balance == 100_000 - charged and wallet_audit() == []


def test_a_real_channel_quotes_the_full_price_whatever_the_sandbox_factor(gpt_image, settings, fake_upstream):
    settings.SANDBOX_PRICE_FACTOR = Decimal("0")
    openai_channel("OpenAI", fake_upstream.url + "/v1")
    quoted = generation_quote(model=gpt_image, raw_params={"prompt": "a red fox"})
    assert not quoted.sandbox and quoted.price == PRICE


def test_a_job_priced_for_the_sandbox_does_not_run_on_a_channel_configured_since(owner, gpt_image, quiet, settings,
                                                                                fake_upstream):
    settings.SANDBOX_PRICE_FACTOR = Decimal("0.25")
    generation = submit(owner, gpt_image)
    assert generation.price == PRICE // 4
    openai_channel("OpenAI", fake_upstream.url + "/v1")
    generation = run_rounds(generation, rounds=1)
    assert generation.status == "failed" and generation.error_code == "price_changed"
    assert fake_upstream.requests("openai") == []
    assert personal_wallet(owner).held == 0 and wallet_audit() == []


def test_the_model_page_shows_the_sandbox_price_before_the_click(client, gpt_image, settings):
    settings.SANDBOX_PRICE_FACTOR = Decimal("0.5")
    page = client.get("/models/gpt-image-2/").content.decode()
    assert "A sandbox job costs 50% of the model&#x27;s price." in page or "50% of the model's price" in page
    assert 'data-testid="price">3.5</strong>' in page  # 7 credits at half price
    settings.SANDBOX_PRICE_FACTOR = Decimal("0")
    assert "the sandbox is free on this server" in client.get("/models/gpt-image-2/").content.decode()

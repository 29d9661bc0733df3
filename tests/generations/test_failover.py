"""Failover between channels over real HTTP (fake Replicate API), and what it costs: once."""
import pytest
from django.core.cache import cache

from apps.catalog.models import AIModel, Channel
from apps.generations.models import Generation
from apps.generations.services import generation_poll, generation_run, generation_submit
from apps.wallet.audit import wallet_audit
from tests.conftest import personal_wallet
from tests.fakes.fixtures import fake_upstream  # noqa: F401
from tests.support.servers import free_port

pytestmark = [pytest.mark.pg, pytest.mark.django_db]


@pytest.fixture(autouse=True)
def fresh_circuits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def no_enqueue(monkeypatch):
    monkeypatch.setattr("apps.generations.services._enqueue_run", lambda gid, countdown=None: None)
    monkeypatch.setattr("apps.generations.services._enqueue_poll", lambda gid, countdown: None)


@pytest.fixture
def flux(db):
    model = AIModel.objects.create(
        slug="flux-test", name="FLUX test", vendor="BFL", modality="image",
        schema={"fields": [{"name": "prompt", "type": "text", "required": True}]},
        pricing={"unit": "image", "credits": "3"},
    )
    model.routes.create(adapter="replicate", upstream_model="black-forest-labs/flux-schnell")
    return model


def channels(fake, primary_url=None, primary_timeout=2):
    primary = Channel.objects.create(name="primary", adapter="replicate", priority=10,
                                     base_url=primary_url or fake.url + "/v1", options={"timeout": primary_timeout})
    primary.api_key = "r8_primary_1111"
    primary.save()
    backup = Channel.objects.create(name="backup", adapter="replicate", priority=0, base_url=fake.url + "/v1",
                                    options={"timeout": 5})
    backup.api_key = "r8_backup_2222"
    backup.save()


def run_to_end(generation):
    generation_run(generation_id=generation.pk)
    for _ in range(20):
        generation.refresh_from_db()
        if not generation.is_pending:
            return generation
        Generation.objects.filter(pk=generation.pk).update(next_check_at=generation.created_at)
        generation_poll(generation_id=generation.pk)
    raise AssertionError("never finished")


def submit(user, model):
    return generation_submit(user=user, workspace=user.current_workspace, model=model,
                             raw_params={"prompt": "a lighthouse"})[0]


@pytest.mark.parametrize("fault", [
    {"status": 500},
    {"status": 503},
    {"status": 429, "retry_after": 7},
    {"timeout": True},
    {"malformed": True},
])
def test_transient_primary_failure_fails_over_and_charges_once(owner, flux, fake_upstream, no_enqueue, fault):
    fake_upstream.config(instant=True, timeout_seconds=3)
    fake_upstream.faults("replicate.create_model", count=1, **fault)
    channels(fake_upstream, primary_timeout=0.5)
    generation = run_to_end(submit(owner, flux))
    assert generation.status == "succeeded", generation.error_message
    assert generation.channel_name == "backup"
    attempts = list(generation.attempts.values_list("channel_name", "phase", "outcome"))
    assert attempts[0] == ("primary", "submit", "transient")
    assert ("backup", "submit", "pending") in attempts
    assert personal_wallet(owner).balance == 100_000 - 3_000 and generation.charged == 3_000
    assert wallet_audit() == []


def test_refused_connection_fails_over(owner, flux, fake_upstream, no_enqueue):
    fake_upstream.config(instant=True)
    channels(fake_upstream, primary_url=f"http://127.0.0.1:{free_port()}/v1")
    generation = run_to_end(submit(owner, flux))
    assert generation.status == "succeeded" and generation.channel_name == "backup"
    first = generation.attempts.first()
    assert first.channel_name == "primary" and first.error_code == "upstream_unavailable"


def test_permanent_error_does_not_fail_over(owner, flux, fake_upstream, no_enqueue):
    fake_upstream.faults("replicate.create_model", status=422, message="input.prompt is too long", count=1)
    channels(fake_upstream)
    generation = run_to_end(submit(owner, flux))
    assert generation.status == "failed" and generation.error_code == "invalid_input"
    assert list(generation.attempts.values_list("channel_name", flat=True)) == ["primary"]
    wallet = personal_wallet(owner)
    assert wallet.balance == 100_000 and wallet.held == 0
    assert wallet_audit() == []


def test_every_channel_down_retries_then_fails_and_releases(owner, flux, fake_upstream, no_enqueue):
    fake_upstream.faults("replicate.create_model", status=502)
    channels(fake_upstream)
    generation = submit(owner, flux)
    for _ in range(5):
        Generation.objects.filter(pk=generation.pk).update(next_check_at=generation.created_at)
        generation_run(generation_id=generation.pk)
    generation.refresh_from_db()
    assert generation.status == "failed" and generation.error_code == "upstream_unavailable"
    assert generation.attempts.count() == 6  # 3 rounds x 2 channels, then it gives up
    assert personal_wallet(owner).held == 0
    assert wallet_audit() == []


def test_failed_late_upstream_job_releases_the_hold(owner, flux, fake_upstream, no_enqueue):
    fake_upstream.config(instant=True)
    fake_upstream.faults("replicate", fail_late=True)
    channels(fake_upstream)
    generation = run_to_end(submit(owner, flux))
    assert generation.status == "failed" and generation.error_code
    assert personal_wallet(owner).held == 0 and personal_wallet(owner).balance == 100_000


def test_channel_with_unknown_adapter_fails_over_instead_of_crashing(owner, flux, fake_upstream, no_enqueue):
    fake_upstream.config(instant=True)
    flux.routes.create(adapter="retired-adapter", upstream_model="x")
    Channel.objects.create(name="stale", adapter="retired-adapter", priority=50)
    channels(fake_upstream)
    generation = run_to_end(submit(owner, flux))
    assert generation.status == "succeeded"
    first = generation.attempts.first()
    assert (first.channel_name, first.error_code) == ("stale", "channel_misconfigured")


def test_channel_at_max_concurrent_is_skipped_and_a_job_waits_when_all_are_full(owner, flux, fake_upstream, no_enqueue):
    fake_upstream.config(job_seconds=60)  # jobs stay in flight
    channels(fake_upstream)
    Channel.objects.filter(name="primary").update(max_concurrent=1)
    Channel.objects.filter(name="backup").update(max_concurrent=1)
    from apps.catalog.cache import forget_catalog_caches

    forget_catalog_caches()
    first, second, third = (submit(owner, flux) for _ in range(3))
    for generation in (first, second, third):
        generation_run(generation_id=generation.pk)
    first.refresh_from_db()
    second.refresh_from_db()
    third.refresh_from_db()
    assert (first.channel_name, second.channel_name) == ("primary", "backup")
    # No slot left: the third job waits, running, with nothing submitted and no failover round spent.
    assert third.status == "running" and third.channel_name == "" and third.submit_rounds == 0
    assert third.attempts.count() == 0
    assert len(fake_upstream.requests("replicate.create_model")) == 2

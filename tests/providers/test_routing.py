"""Router order, weights, route refusals, the circuit breaker and poll countdowns."""
import random
from collections import Counter

import pytest
from django.conf import settings
from django.core.cache import cache

from apps.catalog.models import AIModel, Channel
from apps.providers import health
from apps.providers.router import route_choices, unroutable_reason

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def clean_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def model():
    model = AIModel.objects.create(slug="m", name="M", vendor="v", modality="image",
                                   schema={"fields": [{"name": "prompt", "type": "text"}]},
                                   pricing={"unit": "image", "credits": "1"})
    model.routes.create(adapter="alpha", upstream_model="alpha-1")
    model.routes.create(adapter="beta", upstream_model="beta-1", unsupported=["seed"],
                        rules=[{"if": {"size": "4k", "ratio": "1:1"}, "forbid": True, "message": "4K is not available with 1:1 on beta."}])
    return model


def names(choices):
    return [c.channel.name for c in choices]


def test_priority_first_then_weighted_within_priority(model):
    Channel.objects.create(name="backup", adapter="alpha", priority=0)
    Channel.objects.create(name="heavy", adapter="beta", priority=10, weight=3)
    Channel.objects.create(name="light", adapter="alpha", priority=10, weight=1)
    Channel.objects.create(name="off", adapter="alpha", priority=99, enabled=False)
    rng = random.Random(1)
    firsts = Counter(names(route_choices(model=model, params={}, rng=rng))[0] for _ in range(2000))
    assert set(firsts) == {"heavy", "light"}
    assert 0.70 < firsts["heavy"] / 2000 < 0.80  # weight 3:1
    order = names(route_choices(model=model, params={}, rng=rng))
    assert order[-1] == "backup" and "off" not in order


def test_channel_model_map_renames_upstream_model(model):
    Channel.objects.create(name="vllm", adapter="alpha", options={"model_map": {"m": "my-finetune"}})
    assert route_choices(model=model, params={})[0].upstream_model == "my-finetune"


def test_routes_that_refuse_params_are_skipped_and_explained(model):
    Channel.objects.create(name="a", adapter="alpha")
    Channel.objects.create(name="b", adapter="beta", priority=5)
    assert names(route_choices(model=model, params={"seed": 3})) == ["a"]
    assert names(route_choices(model=model, params={"size": "4k", "ratio": "1:1"})) == ["a"]
    model.routes.filter(adapter="alpha").delete()
    assert unroutable_reason(model=model, params={"size": "4k", "ratio": "1:1"}) == "4K is not available with 1:1 on beta."
    assert "seed" in unroutable_reason(model=model, params={"seed": 1})
    assert unroutable_reason(model=model, params={}) is None


def test_circuit_opens_after_failures_and_half_opens_for_one_probe(model, monkeypatch):
    Channel.objects.create(name="flaky", adapter="alpha", priority=10)
    Channel.objects.create(name="steady", adapter="beta")
    clock = [1000.0]
    monkeypatch.setattr(health.time, "time", lambda: clock[0])
    for _ in range(health.FAILURE_THRESHOLD):
        health.channel_record_failure("flaky")
    assert not health.channel_is_healthy("flaky")
    assert names(route_choices(model=model, params={})) == ["steady"]
    clock[0] += health.OPEN_SECONDS + 1
    assert health.channel_is_healthy("flaky")  # the probe
    assert not health.channel_is_healthy("flaky")  # only one probe at a time
    health.channel_record_failure("flaky")  # probe failed: open again
    clock[0] += 1
    assert not health.channel_is_healthy("flaky")
    clock[0] += health.OPEN_SECONDS + 1
    assert health.channel_is_healthy("flaky")
    health.channel_record_success("flaky")
    assert health.channel_is_healthy("flaky") and health.channel_is_healthy("flaky")


def test_all_circuits_open_still_tries_channels(model):
    Channel.objects.create(name="only", adapter="alpha")
    for _ in range(health.FAILURE_THRESHOLD):
        health.channel_record_failure("only")
    assert names(route_choices(model=model, params={})) == ["only"]


def test_countdowns_stay_well_under_the_visibility_timeout(owner, monkeypatch):
    """A delayed message must never outlive the broker's visibility timeout, or Redis would
    redeliver it while it is still waiting: every countdown we schedule is clamped."""
    from apps.generations import services
    from apps.providers.base import ProviderResult

    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    assert services.MAX_POLL_DELAY * 10 <= visibility
    assert services.LEASE_SECONDS * 10 <= visibility

    countdowns = []
    monkeypatch.setattr(services, "_enqueue_poll", lambda gid, countdown: countdowns.append(countdown))
    monkeypatch.setattr(services, "_enqueue_run", lambda gid, countdown=None: countdowns.append(countdown or 0))
    model = AIModel.objects.create(slug="slow", name="Slow", vendor="v", modality="video",
                                   schema={"fields": [{"name": "prompt", "type": "text"}]},
                                   pricing={"unit": "request", "credits": "1"}, limits={"deadline_seconds": 86400})
    model.routes.create(adapter="sandbox", upstream_model="image")
    Channel.objects.create(name="Sandbox", adapter="sandbox")
    monkeypatch.setattr("apps.providers.adapters.sandbox.SandboxAdapter.submit",
                        lambda self, job: ProviderResult(status="pending", upstream_id="u1", poll_after=100_000))
    monkeypatch.setattr("apps.providers.adapters.sandbox.SandboxAdapter.poll",
                        lambda self, job, uid: ProviderResult(status="pending", poll_after=100_000))
    generation, _ = services.generation_submit(user=owner, workspace=owner.current_workspace, model=model,
                                               raw_params={"prompt": "x"})
    services.generation_run(generation_id=generation.pk)
    from apps.generations.models import Generation

    for _ in range(3):
        Generation.objects.filter(pk=generation.pk).update(next_check_at=generation.created_at)
        services.generation_poll(generation_id=generation.pk)
    polls = [c for c in countdowns if c]
    assert polls and max(polls) <= services.MAX_POLL_DELAY < visibility


def test_a_saved_channel_reaches_routing_at_once_and_an_unsignalled_edit_within_the_ttl(model, monkeypatch):
    from apps.catalog import cache as catalog_cache

    clock = [100.0]
    monkeypatch.setattr(catalog_cache.time, "monotonic", lambda: clock[0])
    first = Channel.objects.create(name="first", adapter="alpha", priority=10)
    Channel.objects.create(name="second", adapter="beta")
    assert names(route_choices(model=model, params={})) == ["first", "second"]
    first.enabled = False
    first.save()  # post_save: this process forgets its cached channels
    assert names(route_choices(model=model, params={})) == ["second"]
    # A bulk UPDATE sends no signal (like an edit made by another process): cached until the TTL.
    Channel.objects.filter(name="first").update(enabled=True)
    assert names(route_choices(model=model, params={})) == ["second"]
    clock[0] += catalog_cache.TTL + 0.1
    assert names(route_choices(model=model, params={})) == ["first", "second"]


def test_a_success_clears_failures_at_most_once_a_second_unless_this_process_saw_a_failure(monkeypatch):
    clock = [500.0]
    monkeypatch.setattr(health.time, "monotonic", lambda: clock[0])
    failures = health._key("busy", "failures")
    health.channel_record_success("busy")
    cache.set(failures, 3)  # counted by another worker
    health.channel_record_success("busy")  # within CLEAR_INTERVAL: no cache write
    assert cache.get(failures) == 3
    clock[0] += health.CLEAR_INTERVAL
    health.channel_record_success("busy")
    assert cache.get(failures) is None
    health.channel_record_failure("busy")  # seen here: the next success clears at once
    health.channel_record_success("busy")
    assert cache.get(failures) is None


def test_channels_healthy_answers_for_many_channels_in_one_cache_read(monkeypatch):
    for _ in range(health.FAILURE_THRESHOLD):
        health.channel_record_failure("down")
    reads = []
    real_get_many = cache.get_many
    monkeypatch.setattr(cache, "get_many", lambda keys: reads.append(keys) or real_get_many(keys))
    assert health.channels_healthy(["up", "down", "other"]) == {"up", "other"}
    assert len(reads) == 1


def test_a_channel_limited_to_some_models_serves_only_those(model):
    Channel.objects.create(name="sdxl-box", adapter="alpha", priority=10, options={"models": ["other-model"]})
    Channel.objects.create(name="cloud", adapter="beta")
    assert names(route_choices(model=model, params={})) == ["cloud"]
    Channel.objects.filter(name="sdxl-box").update(options={"models": ["m"]})
    from apps.catalog.cache import forget_catalog_caches

    forget_catalog_caches()
    assert names(route_choices(model=model, params={})) == ["sdxl-box", "cloud"]


def test_a_limited_channel_does_not_keep_the_sandbox_out_of_models_it_does_not_serve(model):
    from apps.providers.router import served_by_sandbox

    model.routes.create(adapter="sandbox", upstream_model="image")
    Channel.objects.create(name="Sandbox", adapter="sandbox", priority=-100)
    Channel.objects.create(name="sdxl-box", adapter="alpha", options={"models": ["other-model"]})
    assert served_by_sandbox(model=model)
    assert names(route_choices(model=model, params={})) == ["Sandbox"]

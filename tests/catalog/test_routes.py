"""Route limits in the catalog data steer the router: a channel that cannot take a request is
skipped; the sandbox serves a model only while no real channel is configured for it."""
import pytest

from apps.catalog.models import AIModel, Channel
from apps.catalog.schema import validate_params
from apps.providers.router import route_choices, unroutable_reason


def adapters(model, raw):
    params = validate_params(model.schema, raw)
    return [choice.channel.adapter for choice in route_choices(model=model, params=params)]


def test_4k_at_1_1_skips_the_fal_channel(catalog):
    Channel.objects.create(name="fal", adapter="fal", priority=10)
    model = AIModel.objects.get(slug="nano-banana-pro")
    assert adapters(model, {"prompt": "poster", "resolution": "2K", "aspect_ratio": "1:1"}) == ["fal"]
    # The only configured channel refuses 4K at 1:1: refused before any hold, never a sandbox result.
    assert adapters(model, {"prompt": "poster", "resolution": "4K", "aspect_ratio": "1:1"}) == []
    assert unroutable_reason(model=model, params={"resolution": "4K", "aspect_ratio": "1:1"}) == (
        "4K is not available at 1:1 on the fal channel.")
    assert adapters(model, {"prompt": "poster", "resolution": "4K", "aspect_ratio": "16:9"}) == ["fal"]


def test_the_sandbox_serves_only_models_without_a_real_channel(catalog):
    model = AIModel.objects.get(slug="nano-banana-pro")
    assert adapters(model, {"prompt": "poster"}) == ["sandbox"]
    Channel.objects.create(name="gemini", adapter="gemini", priority=10)
    assert adapters(model, {"prompt": "poster"}) == ["gemini"]
    # An open circuit still counts as configured: the sandbox does not stand in for a channel that is down.
    from apps.providers import health

    for _ in range(health.FAILURE_THRESHOLD):
        health.channel_record_failure("gemini")
    assert adapters(model, {"prompt": "poster"}) == ["gemini"]
    Channel.objects.filter(name="gemini").update(enabled=False)
    from apps.catalog.cache import forget_catalog_caches

    forget_catalog_caches()
    assert adapters(model, {"prompt": "poster"}) == ["sandbox"]


def test_seed_unsupported_on_one_channel(catalog):
    Channel.objects.create(name="fal", adapter="fal", priority=10)
    Channel.objects.create(name="Ark", adapter="ark", priority=5)
    model = AIModel.objects.get(slug="seedance-2")
    assert adapters(model, {"prompt": "a train"}) == ["fal", "ark"]
    assert adapters(model, {"prompt": "a train", "seed": 42}) == ["ark"]


def test_channel_model_map_renames_the_upstream_model(catalog):
    Channel.objects.create(name="Ollama", adapter="openai_compat", priority=10,
                           options={"model_map": {"llama-3.3-70b": "llama3.3:70b"}})
    model = AIModel.objects.get(slug="llama-3.3-70b")
    choices = route_choices(model=model, params=validate_params(model.schema, {"prompt": "hi"}))
    assert [(c.channel.adapter, c.upstream_model) for c in choices] == [("openai_compat", "llama3.3:70b")]


def test_a_retired_model_is_routed_nowhere_not_even_the_sandbox(catalog):
    """Sora 2 was shut down with OpenAI's Videos API (2026-09-24): kept for history, never routed,
    whatever channels are configured (the old code still sent it to openai_video or the sandbox)."""
    model = AIModel.objects.get(slug="sora-2")
    assert model.retired_at is not None
    assert adapters(model, {"prompt": "a train at dusk"}) == []
    Channel.objects.create(name="OpenAI video", adapter="openai_video", priority=10)
    Channel.objects.create(name="Replicate", adapter="replicate", priority=5)
    assert adapters(model, {"prompt": "a train at dusk"}) == []
    assert "retired" in unroutable_reason(model=model, params={"prompt": "a train at dusk"})


def test_gpt_image_png_with_compression_below_100_is_refused_by_the_validator(catalog):
    """OpenAI answers 400 to output_compression below 100 with png (the default format): the form
    says so before any hold instead of the job failing upstream."""
    from apps.catalog.schema import ValidationFailed

    model = AIModel.objects.get(slug="gpt-image-2")
    with pytest.raises(ValidationFailed) as caught:
        validate_params(model.schema, {"prompt": "a red fox", "output_compression": 80})
    assert "output_compression" in str(caught.value.errors)
    validate_params(model.schema, {"prompt": "a red fox", "output_compression": 80, "output_format": "webp"})
    validate_params(model.schema, {"prompt": "a red fox", "output_compression": 100})

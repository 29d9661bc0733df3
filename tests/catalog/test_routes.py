"""Route limits in the catalog data steer the router: a channel that cannot take a request is
skipped, and the sandbox (priority -100) is the fallback when nothing else is configured."""
from apps.catalog.models import AIModel, Channel
from apps.catalog.schema import validate_params
from apps.providers.router import route_choices


def adapters(model, raw):
    params = validate_params(model.schema, raw)
    return [choice.channel.adapter for choice in route_choices(model=model, params=params)]


def test_4k_at_1_1_skips_the_fal_channel(catalog):
    Channel.objects.create(name="fal", adapter="fal", priority=10)
    model = AIModel.objects.get(slug="nano-banana-pro")
    assert adapters(model, {"prompt": "poster", "resolution": "2K", "aspect_ratio": "1:1"}) == ["fal", "sandbox"]
    assert adapters(model, {"prompt": "poster", "resolution": "4K", "aspect_ratio": "1:1"}) == ["sandbox"]
    assert adapters(model, {"prompt": "poster", "resolution": "4K", "aspect_ratio": "16:9"}) == ["fal", "sandbox"]


def test_seed_unsupported_on_one_channel(catalog):
    Channel.objects.create(name="fal", adapter="fal", priority=10)
    Channel.objects.create(name="Ark", adapter="ark", priority=5)
    model = AIModel.objects.get(slug="seedance-2")
    assert adapters(model, {"prompt": "a train"}) == ["fal", "ark", "sandbox"]
    assert adapters(model, {"prompt": "a train", "seed": 42}) == ["ark", "sandbox"]


def test_channel_model_map_renames_the_upstream_model(catalog):
    Channel.objects.create(name="Ollama", adapter="openai_compat", priority=10,
                           options={"model_map": {"llama-3.3-70b": "llama3.3:70b"}})
    model = AIModel.objects.get(slug="llama-3.3-70b")
    choices = route_choices(model=model, params=validate_params(model.schema, {"prompt": "hi"}))
    assert [(c.channel.adapter, c.upstream_model) for c in choices] == [("openai_compat", "llama3.3:70b"),
                                                                         ("sandbox", "text")]

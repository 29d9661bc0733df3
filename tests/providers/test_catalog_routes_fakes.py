"""Every live catalog model, on every real route it has, sends a request its provider's strict
fake accepts: the catalog's default parameters (plus a prompt) go through the route's adapter
exactly as a job would, so a field name, value or model id the provider would refuse fails here."""
from __future__ import annotations


from apps.catalog.data import all_models
from apps.catalog.schema import condition_matches, validate_params
from apps.providers.base import ChannelConfig, InvalidInput, Job, NotFound, RouteUnsupported
from apps.providers.registry import get_adapter

# Where each adapter's fake lives on the loopback server.
BASE_PATHS = {"openai": "/v1", "openai_compat": "/v1", "openai_video": "/v1", "replicate": "/v1", "fal": "/fal",
              "gemini": "/v1beta", "veo": "/v1beta", "ark": "/api/v3", "xai": "/xai", "elevenlabs": "",
              "pollinations": "", "comfyui": "", "a1111": ""}
# Inputs a model cannot run without, by field name, for models whose form requires them.
SAMPLES = {"messages": [{"role": "user", "content": "Say hello."}], "input": "Hello there, this is a test.",
           "lyrics": "[verse]\nLa la la under the moon\n"}


def cases():
    for entry in all_models():
        if entry.get("retired_at"):
            continue
        for route in entry["routes"]:
            if route["adapter"] != "sandbox":
                yield entry, route


def params_for(entry: dict) -> dict:
    raw = {}
    for spec in entry["schema"]["fields"]:
        if spec["name"] == "prompt":
            raw["prompt"] = "a red fox on a snowy hill at dawn"
        elif spec.get("required") and spec["name"] in SAMPLES:
            raw[spec["name"]] = SAMPLES[spec["name"]]
    return validate_params(entry["schema"], raw)


def check(fake_upstream, entry: dict, route: dict) -> str | None:
    """None when the route's fake accepts the model's default request (or the case does not apply)."""
    if any(spec.get("required") and spec["type"] in ("url", "url_list") for spec in entry["schema"]["fields"]):
        return None  # needs an input file: the adapter's own tests cover it
    params = params_for(entry)
    if any(condition_matches(rule.get("if", {}), params) for rule in route.get("rules", [])):
        return None  # the router does not send these defaults to this route
    channel = ChannelConfig(name=f"{route['adapter']}-sweep", adapter=route["adapter"],
                            base_url=fake_upstream.url + BASE_PATHS[route["adapter"]], api_key="sweep-key-1234",
                            options={"timeout": 3})
    job = Job(id="sweep", modality=entry["modality"], upstream_model=route["model"], params=params, channel=channel)
    try:
        result = get_adapter(channel).submit(job)
    except (RouteUnsupported, InvalidInput, NotFound) as exc:
        return f"{entry['slug']} on {route['adapter']} ({route['model']}): {exc.message}"
    if result.status not in ("pending", "succeeded"):
        return f"{entry['slug']} on {route['adapter']}: {result.status}"
    ignored = ignored_inputs(fake_upstream, route)
    if ignored:
        return f"{entry['slug']} on {route['adapter']}: {sorted(ignored)} are not inputs of {route['model']}"
    return None


def ignored_inputs(fake_upstream, route: dict) -> set[str]:
    """Inputs a Replicate or fal model's schema does not have: both services drop them silently,
    so a user's setting would be lost without an error."""
    from tests.fakes import fal, replicate

    if route["adapter"] == "replicate":
        name = route["model"].partition(":")[0]
        schema = replicate.SCHEMAS.get(name)
        sent = fake_upstream.requests("replicate")[-1]["json"].get("input", {})
        return set(sent) - set(schema["fields"]) if schema else set()
    if route["adapter"] == "fal":
        schema = fal.SCHEMAS.get(route["model"])
        sent = fake_upstream.requests("fal.submit")[-1]["json"]
        return {k for k in sent if k not in schema or schema[k][0] == "absent"} if schema else set()
    return set()


def test_every_live_model_default_request_passes_its_providers_fake(fake_upstream):
    """One test over all (model, route) pairs: a fixture round per pair would cost a minute."""
    pairs = list(cases())
    assert len(pairs) > 150
    problems = [problem for entry, route in pairs if (problem := check(fake_upstream, entry, route))]
    assert problems == []

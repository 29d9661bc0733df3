import json
import time
from collections import Counter
from decimal import Decimal

import pytest
from django.core.management import call_command

from apps.catalog.data import all_models
from apps.catalog.models import AIModel, Channel, ModelRoute, Modality
from apps.catalog.pricing import quote
from apps.catalog.schema import validate_params
from apps.catalog.services import catalog_check_entry, catalog_sample_params, catalog_sync, model_find

ENTRIES = all_models()
REAL_ADAPTERS = {"openai", "openai_video", "replicate", "fal", "gemini", "veo", "ark", "elevenlabs", "pollinations",
                 "comfyui", "a1111", "openai_compat", "xai"}


def test_catalog_has_fifty_real_models_in_every_modality():
    real = [e for e in ENTRIES if not e.get("is_local")]
    assert len(real) >= 50
    counts = Counter(e["modality"] for e in real)
    assert set(counts) == set(Modality.values)
    assert all(counts[m] >= 5 for m in Modality.values), counts
    assert len({e["slug"] for e in ENTRIES}) == len(ENTRIES)


def test_names_and_aliases_are_unique():
    names = [e["slug"] for e in ENTRIES] + [a for e in ENTRIES for a in e.get("aliases", [])]
    assert [n for n, c in Counter(names).items() if c > 1] == []


@pytest.mark.parametrize("entry", ENTRIES, ids=[e["slug"] for e in ENTRIES])
def test_entry_is_well_formed_and_its_defaults_price_exactly(entry):
    assert catalog_check_entry(entry) == []
    params = validate_params(entry["schema"], catalog_sample_params(entry["schema"]))
    price = quote(entry["pricing"], params)
    assert isinstance(price, int) and price > 0
    # The same request always costs the same (what is shown is what is held).
    assert quote(entry["pricing"], dict(params)) == price
    # Every default survives validation unchanged.
    for spec in entry["schema"]["fields"]:
        if spec.get("default") is not None:
            assert params[spec["name"]] == spec["default"], spec["name"]


@pytest.mark.parametrize("entry", [e for e in ENTRIES if not e.get("is_local")],
                         ids=[e["slug"] for e in ENTRIES if not e.get("is_local")])
def test_real_model_routes_to_real_adapters_and_the_sandbox(entry):
    adapters = [r["adapter"] for r in entry["routes"]]
    assert set(adapters) - {"sandbox"} <= REAL_ADAPTERS
    assert set(adapters) & REAL_ADAPTERS, "at least one real upstream"
    sandbox = [r for r in entry["routes"] if r["adapter"] == "sandbox"]
    assert sandbox == [{"adapter": "sandbox", "model": entry["modality"]}]
    for route in entry["routes"]:
        assert route["model"].strip()


def test_sync_on_empty_db_then_again_changes_nothing(db):
    started = time.monotonic()
    first = catalog_sync(entries=ENTRIES)
    elapsed = time.monotonic() - started
    assert first.created == len(ENTRIES) and first.updated == 0
    assert set(AIModel.objects.values_list("modality", flat=True)) == set(Modality.values)
    assert AIModel.objects.filter(is_local=False).count() >= 50
    routes = ModelRoute.objects.count()
    snapshot = list(AIModel.objects.order_by("slug").values())
    route_snapshot = list(ModelRoute.objects.order_by("id").values())

    second = catalog_sync(entries=ENTRIES)
    assert (second.created, second.updated, second.unchanged) == (0, 0, len(ENTRIES))
    assert list(AIModel.objects.order_by("slug").values()) == snapshot
    assert list(ModelRoute.objects.order_by("id").values()) == route_snapshot
    assert ModelRoute.objects.count() == routes
    assert Channel.objects.filter(adapter="sandbox").count() == 1
    assert elapsed < 10


def test_management_command_reports_counts(db, capsys):
    call_command("sync_catalog")
    assert f"{len(ENTRIES)} created" in capsys.readouterr().out
    call_command("sync_catalog")
    assert f"0 created, 0 updated, {len(ENTRIES)} unchanged" in capsys.readouterr().out


def test_admin_overrides_survive_a_sync_that_changes_the_entry(db):
    catalog_sync(entries=ENTRIES)
    AIModel.objects.filter(slug="flux-schnell").update(enabled=False, price_override={"unit": "image", "credits": "9"})
    changed = [dict(e, description="New text.") if e["slug"] == "flux-schnell" else e for e in ENTRIES]
    result = catalog_sync(entries=changed)
    assert result.updated == 1
    model = AIModel.objects.get(slug="flux-schnell")
    assert model.description == "New text."
    assert model.enabled is False
    assert model.effective_pricing == {"unit": "image", "credits": "9"}
    assert quote(model.effective_pricing, {"n": 1}) == 9000


def test_route_changes_are_applied_and_removed_routes_deleted(db):
    catalog_sync(entries=ENTRIES)
    entry = next(e for e in ENTRIES if e["slug"] == "nano-banana")
    edited = dict(entry, routes=[{"adapter": "gemini", "model": "gemini-2.5-flash-image-v2"},
                                 {"adapter": "sandbox", "model": "image"}])
    catalog_sync(entries=[edited if e is entry else e for e in ENTRIES])
    routes = dict(AIModel.objects.get(slug="nano-banana").routes.values_list("adapter", "upstream_model"))
    assert routes == {"gemini": "gemini-2.5-flash-image-v2", "sandbox": "image"}


def test_invalid_entry_stops_the_sync_before_writing(db):
    broken = dict(ENTRIES[-1], slug="broken", schema={"fields": [{"name": "x", "type": "colour"}]})
    with pytest.raises(ValueError, match="broken: x: unknown type 'colour'"):
        catalog_sync(entries=[*ENTRIES, broken])
    assert AIModel.objects.count() == 0


def test_model_find_by_slug_and_alias(db):
    catalog_sync(entries=ENTRIES)
    assert model_find(slug_or_alias="gemini-3.1-flash-image").slug == "nano-banana-2"
    assert model_find(slug_or_alias="veo-3").slug == "veo-3"
    # A retired model's alias no longer resolves (the model is kept for its history).
    assert model_find(slug_or_alias="gemini-2.5-flash-image") is None
    assert model_find(slug_or_alias="gemini-2.5-flash-image", include_retired=True).slug == "nano-banana"
    assert model_find(slug_or_alias="no-such-model") is None


def test_route_rules_from_data_reach_the_database(db):
    catalog_sync(entries=ENTRIES)
    fal = ModelRoute.objects.get(model__slug="nano-banana-pro", adapter="fal")
    assert fal.rules[0]["if"] == {"resolution": "4K", "aspect_ratio": "1:1"}
    assert ModelRoute.objects.get(model__slug="seedance-2", adapter="fal").unsupported == ["seed"]


def test_prices_follow_the_documented_credit_scale():
    """1 credit ~ 1 US cent at list price: a few anchors so a typo in the data shows up."""
    by_slug = {e["slug"]: e for e in ENTRIES}
    assert quote(by_slug["gpt-image-1"]["pricing"], {"n": 1, "quality": "medium", "size": "1024x1024"}) == 4000
    assert quote(by_slug["veo-3"]["pricing"], {"duration": 8, "generate_audio": True}) == 320_000
    assert quote(by_slug["tts-1"]["pricing"], {"input": "x" * 1000}) == 1500
    assert Decimal(by_slug["gpt-4o"]["pricing"]["output"]) == Decimal("1")


def test_admin_price_override_is_checked_and_survives_sync(admin_client, db):
    catalog_sync(entries=ENTRIES)
    model = AIModel.objects.get(slug="flux-schnell")
    url = f"/admin/catalog/aimodel/{model.pk}/change/"
    form = admin_client.get(url).context["adminform"].form
    data = {name: form[name].value() for name in form.fields}
    data = {k: ("" if v is None else v) for k, v in data.items()}
    for name in ("capabilities", "schema", "pricing", "limits", "aliases"):
        data[name] = json.dumps(getattr(model, name))
    data.update({"routes-TOTAL_FORMS": "0", "routes-INITIAL_FORMS": "0", "routes-MIN_NUM_FORMS": "0",
                 "routes-MAX_NUM_FORMS": "1000"})
    data["enabled"] = ""
    data["price_override"] = '{"unit": "image", "credits": "abc"}'
    refused = admin_client.post(url, data)
    assert refused.status_code == 200
    assert "cannot price the model" in refused.content.decode()
    data["price_override"] = '{"unit": "image", "credits": "0.5", "count": "n"}'
    saved = admin_client.post(url, data)
    assert saved.status_code == 302, saved.content.decode()[:2000]
    catalog_sync(entries=ENTRIES)
    model.refresh_from_db()
    assert model.enabled is False and model.price_override["credits"] == "0.5"

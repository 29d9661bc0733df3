from apps.catalog.models import AIModel, Channel


def test_v1_models_is_an_openai_list(client, catalog):
    response = client.get("/v1/models")
    assert response.status_code == 200
    body = response.json()
    assert body["object"] == "list"
    ids = [m["id"] for m in body["data"]]
    assert len(ids) == AIModel.objects.offered().count() >= 50  # retired models are kept, not listed
    first = body["data"][0]
    assert set(first) >= {"id", "object", "created", "owned_by"} and first["object"] == "model"
    assert isinstance(first["created"], int) and first["created"] > 0


def test_v1_models_hides_disabled_and_filters_by_modality(client, catalog):
    AIModel.objects.filter(slug="flux-dev").update(enabled=False)
    ids = [m["id"] for m in client.get("/v1/models").json()["data"]]
    assert "flux-dev" not in ids and "flux-schnell" in ids
    videos = client.get("/v1/models?modality=video").json()["data"]
    assert videos and {m["modality"] for m in videos} == {"video"}
    error = client.get("/v1/models?modality=smell").json()["error"]
    assert error["code"] == "invalid_request" and "modality" in error["fields"]


def test_model_detail_has_schema_pricing_capabilities(client, catalog):
    body = client.get("/v1/models/veo-3").json()
    assert body["id"] == "veo-3" and body["owned_by"] == "Google"
    assert "text-to-video" in body["capabilities"] and body["output_modalities"] == ["video"]
    names = [f["name"] for f in body["schema"]["fields"]]
    assert {"prompt", "duration", "aspect_ratio", "resolution", "generate_audio"} <= set(names)
    assert body["pricing"] == {"currency": "credits", "unit": "per second", "from": "320", "rates": {"second": "20"},
                               "rule": AIModel.objects.get(slug="veo-3").pricing}
    assert "veo" in body["routes"] and "sandbox" in body["routes"]
    assert body["served_by_sandbox"] is True


def test_model_detail_by_alias_and_sandbox_flag_follows_channels(client, catalog):
    assert client.get("/v1/models/gemini-3.1-flash-image").json()["id"] == "nano-banana-2"
    Channel.objects.create(name="Gemini", adapter="gemini", priority=10)
    assert client.get("/v1/models/nano-banana-2").json()["served_by_sandbox"] is False
    channel = Channel.objects.get(name="Gemini")
    channel.enabled = False
    channel.save()  # as the admin does; a bare queryset update reaches the caches within their TTL
    assert client.get("/v1/models/nano-banana-2").json()["served_by_sandbox"] is True


def test_unknown_model_is_404_invalid_model(client, catalog):
    response = client.get("/v1/models/no-such-model")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "invalid_model"


def test_image_models_in_pollinations_format(client, catalog):
    body = client.get("/image/models").json()
    assert isinstance(body, list)
    by_name = {m["name"]: m for m in body}
    assert {"gpt-image-2", "flux-schnell", "veo-3"} <= set(by_name)
    gpt = by_name["gpt-image-2"]
    assert set(gpt) >= {"name", "aliases", "pricing", "description", "input_modalities", "output_modalities"}
    assert gpt["pricing"] == {"image": "7", "currency": "credits"}
    assert gpt["input_modalities"] == ["text", "image"] and gpt["output_modalities"] == ["image"]
    assert "gptimage" in gpt["aliases"]
    assert by_name["veo-3"]["output_modalities"] == ["video"]


def test_text_models_in_pollinations_format(client, catalog):
    by_name = {m["name"]: m for m in client.get("/text/models").json()}
    gpt = by_name["gpt-4o"]
    assert gpt["pricing"] == {"input": "0.25", "output": "1", "currency": "credits"}
    assert gpt["context_window"] == 128_000
    assert "image" in gpt["input_modalities"] and gpt["output_modalities"] == ["text"]
    assert by_name["deepseek-r1"]["reasoning"] is True
    tts = by_name["tts-1"]
    assert tts["output_modalities"] == ["audio"] and "alloy" in tts["voices"]
    assert "flux-schnell" not in by_name


def test_quote_is_exactly_what_a_submit_holds(client, member, auth):
    import json

    body = {"model": "veo-3-fast", "params": {"prompt": "rain on a window", "duration": 4, "generate_audio": False}}
    quoted = client.post("/v1/quote", json.dumps(body), content_type="application/json")
    assert quoted.status_code == 200
    assert quoted.json()["price"] == "40" and quoted.json()["params"]["resolution"] == "720p"
    submitted = client.post("/v1/generations", json.dumps(body), content_type="application/json", **auth)
    assert submitted.json()["price"] == quoted.json()["price"]
    bad = client.post("/v1/quote", json.dumps({"model": "veo-3-fast", "params": {"prompt": "x", "duration": 5}}),
                      content_type="application/json")
    assert bad.status_code == 400 and set(bad.json()["error"]["fields"]) == {"duration"}

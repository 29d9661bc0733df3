"""The sandbox adapter's contract: synchronous image/speech/text, asynchronous video/music."""
import base64
import io

import av
import numpy as np
import pytest
from PIL import Image

from apps.catalog.data.sandbox import MODELS
from apps.catalog.pricing import quote
from apps.catalog.schema import ValidationFailed, check_schema, validate_params
from apps.providers.adapters import sandbox as sandbox_module
from apps.providers.adapters.sandbox import SandboxAdapter
from apps.providers.base import ChannelConfig, InvalidInput, Job, NotFound

ADAPTER = SandboxAdapter(ChannelConfig(name="sandbox", adapter="sandbox"))
VIDEO = {"prompt": "a paper boat on a river", "duration": 1, "resolution": "480p", "aspect_ratio": "1:1"}


def job(engine: str, job_id: str = "gen-1", **params) -> Job:
    return Job(id=job_id, modality=engine, upstream_model=engine, params=params, channel=ADAPTER.channel)


@pytest.fixture
def clock(monkeypatch):
    """Time for the adapter, moved by hand."""
    now = {"t": 1_800_000_000.0}
    monkeypatch.setattr(sandbox_module.time, "time", lambda: now["t"])
    return now


def test_video_is_pending_then_renders_on_the_first_poll_after_ready(clock):
    submitted = ADAPTER.submit(job("video", **VIDEO))
    assert submitted.status == "pending" and submitted.outputs == []
    assert submitted.upstream_id.startswith("sbx.video.") and 0.5 <= submitted.poll_after <= 2
    clock["t"] += submitted.poll_after / 2
    early = ADAPTER.poll(job("video", **VIDEO), submitted.upstream_id)
    assert early.status == "pending" and 0 < early.poll_after <= submitted.poll_after / 2 + 0.2
    assert 40 <= early.progress <= 60
    clock["t"] += submitted.poll_after / 2
    done = ADAPTER.poll(job("video", **VIDEO), submitted.upstream_id)
    assert done.status == "succeeded"
    output = done.outputs[0]
    assert output.mime == "video/mp4" and (output.width, output.height, output.duration) == (480, 480, 1.0)
    assert av.open(io.BytesIO(output.data)).streams.video[0].codec_context.name == "h264"
    # A second poll (a retried task, a restarted worker) renders the very same file.
    assert ADAPTER.poll(job("video", **VIDEO), submitted.upstream_id).outputs[0].data == output.data


def test_music_is_asynchronous_and_comes_with_its_cover(clock):
    params = {"prompt": "dreamy synthwave drive", "duration": 10}
    submitted = ADAPTER.submit(job("music", **params))
    assert submitted.status == "pending"
    clock["t"] += 5
    done = ADAPTER.poll(job("music", **params), submitted.upstream_id)
    song, cover = done.outputs
    assert song.mime == "audio/mpeg" and song.role == "main" and song.duration == 10.0
    assert song.meta["title"] and song.meta["key"] and song.meta["tempo_bpm"] > 0 and song.meta["lyrics"]
    assert cover.role == "cover" and Image.open(io.BytesIO(cover.data)).format == "PNG"


@pytest.mark.parametrize("upstream_id", ["garbage", "sbx.image.1.abc", "sbx.video.notanumber.abc", ""])
def test_unknown_task_ids_are_not_found(upstream_id):
    with pytest.raises(NotFound):
        ADAPTER.poll(job("video", **VIDEO), upstream_id)


def test_a_task_id_belongs_to_its_job_and_params(clock):
    upstream_id = ADAPTER.submit(job("video", **VIDEO)).upstream_id
    clock["t"] += 5
    with pytest.raises(NotFound):
        ADAPTER.poll(job("video", job_id="gen-2", **VIDEO), upstream_id)
    with pytest.raises(NotFound):
        ADAPTER.poll(job("video", **{**VIDEO, "prompt": "something else"}), upstream_id)


def test_video_params_are_checked_at_submit():
    with pytest.raises(InvalidInput, match="Frame rate"):
        ADAPTER.submit(job("video", **{**VIDEO, "fps": 500}))


def test_image_stays_synchronous_and_understands_other_models_sizes():
    result = ADAPTER.submit(job("image", prompt="a lighthouse", size="512x512", n=2))
    assert result.status == "succeeded" and len(result.outputs) == 2
    assert result.outputs[0].data != result.outputs[1].data
    wide = ADAPTER.submit(job("image", prompt="a lighthouse", aspect_ratio="16:9", resolution="1K")).outputs[0]
    assert (wide.width, wide.height) == (1024, 576)
    assert Image.open(io.BytesIO(wide.data)).size == (1024, 576)
    auto = ADAPTER.submit(job("image", prompt="a lighthouse", size="auto")).outputs[0]
    assert (auto.width, auto.height) == (1024, 1024)


def test_unknown_engine_is_invalid_input():
    with pytest.raises(InvalidInput):
        ADAPTER.submit(job("hologram", prompt="x"))


# ---- catalog entries --------------------------------------------------------------------------
ENTRIES = {entry["slug"]: entry for entry in MODELS}


def test_every_modality_has_a_local_sandbox_model_with_a_valid_schema():
    assert {entry["modality"] for entry in MODELS} == {"image", "video", "music", "speech", "text"}
    for entry in MODELS:
        assert entry["is_local"] is True and "sandbox" in entry["description"].lower()
        assert check_schema(entry["schema"]) == [], entry["slug"]
        assert entry["routes"] == [{"adapter": "sandbox", "model": entry["modality"]}]


def test_video_pricing_is_per_second_with_resolution_multipliers():
    entry = ENTRIES["sandbox-video"]

    def price(**raw):
        return quote(entry["pricing"], validate_params(entry["schema"], {"prompt": "x", **raw}))

    assert price(duration=4) == 2_000
    assert price(duration=4, resolution="1080p") == 4_000 and price(duration=4, resolution="480p") == 1_000
    with pytest.raises(ValidationFailed) as failure:
        validate_params(entry["schema"], {"prompt": "x", "end_image_url": "https://example.com/a.png"})
    assert "image_url" in failure.value.errors


def test_music_speech_and_text_pricing():
    music, speech, text = ENTRIES["sandbox-music"], ENTRIES["sandbox-speech"], ENTRIES["sandbox-text"]
    assert quote(music["pricing"], validate_params(music["schema"], {"prompt": "x", "duration": 120})) == 5_000
    assert quote(speech["pricing"], validate_params(speech["schema"], {"input": "a" * 2000})) == 2_000
    clean = validate_params(text["schema"], {"prompt": "Hello there", "max_tokens": 100})
    assert clean["max_tokens"] == 100 and quote(text["pricing"], clean) > 0
    with pytest.raises(ValidationFailed):
        validate_params(music["schema"], {"prompt": "x", "instrumental": True, "lyrics": "la la"})


def test_sandbox_text_takes_a_prompt_or_messages_but_not_both():
    schema = ENTRIES["sandbox-text"]["schema"]
    chat = [{"role": "user", "content": "What is a haiku?"}]
    clean = validate_params(schema, {"messages": chat, "max_tokens": 30})
    result = ADAPTER.submit(job("text", **clean))
    assert "haiku" in result.text and result.usage["output_tokens"] <= 30
    with pytest.raises(ValidationFailed):
        validate_params(schema, {"messages": chat, "prompt": "And a sonnet?"})
    with pytest.raises(ValidationFailed):
        validate_params(schema, {"max_tokens": 30})


def test_image_edits_start_from_the_source_image():
    source = Image.new("RGB", (600, 400), (250, 250, 250))
    source.paste((10, 10, 10), (0, 0, 300, 400))  # left half black, right half white
    buffer = io.BytesIO()
    source.save(buffer, format="PNG")
    uri = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    edited = ADAPTER.submit(job("image", prompt="a blue ocean", input_image=uri, aspect_ratio="3:2")).outputs[0]
    pixels = np.asarray(Image.open(io.BytesIO(edited.data)).convert("L"), dtype=float)
    assert (edited.width, edited.height) == (1024, 683)
    assert pixels[:, :400].mean() + 80 < pixels[:, -400:].mean()  # the source's halves show through
    plain = ADAPTER.submit(job("image", prompt="a blue ocean", aspect_ratio="3:2")).outputs[0]
    assert plain.data != edited.data
    with pytest.raises(InvalidInput, match="Source image"):
        ADAPTER.submit(job("image", prompt="x", image_url="data:image/png;base64,AAAA"))


def test_match_input_image_takes_the_source_aspect_ratio():
    buffer = io.BytesIO()
    Image.new("RGB", (300, 600), (200, 30, 30)).save(buffer, format="PNG")
    uri = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    result = ADAPTER.submit(job("image", prompt="x", input_image=uri, aspect_ratio="match_input_image", n=2))
    assert [(o.width, o.height) for o in result.outputs] == [(512, 1024), (512, 1024)]

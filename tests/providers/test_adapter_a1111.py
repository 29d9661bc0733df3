"""The a1111 adapter against the fake AUTOMATIC1111 API over real HTTP."""
from __future__ import annotations

import base64
import io

import pytest
from PIL import Image

from apps.providers.base import (
    AuthError, ChannelConfig, InvalidInput, Job, NotFound, RateLimited, TransientError, UpstreamTimeout,
)
from apps.providers.registry import get_adapter
from tests.fakes import media
from tests.fakes.core import state


def run(fake, model="sd_xl_base_1.0.safetensors", key="", options=None, **params):
    params.setdefault("prompt", "an owl in a library")
    channel = ChannelConfig(name="a1111", adapter="a1111", base_url=fake.url, api_key=key, options=options or {})
    return get_adapter(channel).submit(Job(id="g", modality="image", upstream_model=model, params=params,
                                           channel=channel))


def test_txt2img_request_and_images(fake_upstream):
    result = run(fake_upstream, size="768x512", seed=99, negative_prompt="blur", cfg_scale=6, options={"steps": 25})
    [output] = result.outputs
    assert output.mime == "image/png" and (output.width, output.height) == (768, 512)
    assert Image.open(io.BytesIO(output.data)).size == (48, 32)
    assert output.meta == {"seed": 99}
    sent = fake_upstream.requests("a1111.txt2img")[-1]["json"]
    assert sent == {"prompt": "an owl in a library", "negative_prompt": "blur", "seed": 99, "steps": 25,
                    "cfg_scale": 6.0, "sampler_name": "Euler a", "width": 768, "height": 512, "batch_size": 1,
                    "n_iter": 1, "send_images": True, "save_images": False,
                    "override_settings": {"sd_model_checkpoint": "sd_xl_base_1.0.safetensors"},
                    "override_settings_restore_afterwards": True}


def test_batch_skips_the_grid(fake_upstream):
    result = run(fake_upstream, n=3)
    assert len(result.outputs) == 3  # the fake sends 4: grid first
    assert [o.meta["seed"] for o in result.outputs] == [1234, 1235, 1236]
    assert all(Image.open(io.BytesIO(o.data)).size == (32, 32) for o in result.outputs)


def test_empty_model_keeps_the_loaded_checkpoint(fake_upstream):
    run(fake_upstream, model="")
    assert "override_settings" not in fake_upstream.requests("a1111.txt2img")[-1]["json"]


def test_img2img_sends_the_source_base64(fake_upstream):
    source = media.png(24, 24, "source")
    result = run(fake_upstream, image_url=state.file_url(source, "image/png"), strength=0.4)
    assert len(result.outputs) == 1
    sent = fake_upstream.requests("a1111.img2img")[-1]["json"]
    assert base64.b64decode(sent["init_images"][0]) == source
    assert sent["denoising_strength"] == 0.4


def test_img2img_with_a_non_image_source_is_invalid(fake_upstream):
    with pytest.raises(InvalidInput) as caught:
        run(fake_upstream, image_url=state.file_url(b"<html>nope</html>", "image/png"))
    assert caught.value.code == "invalid_source_url"
    assert fake_upstream.requests("a1111.img2img") == []


def test_validation_error_message(fake_upstream):
    with pytest.raises(InvalidInput) as caught:
        run(fake_upstream, steps=500)
    assert "body.steps: ensure this value is less than or equal to 150" in caught.value.message


def test_unknown_sampler_is_not_found(fake_upstream):
    with pytest.raises(NotFound):
        run(fake_upstream, sampler="Nonexistent")


def test_basic_auth(fake_upstream):
    run(fake_upstream, key="artist:s3cret")
    assert fake_upstream.requests("a1111.txt2img")[-1]["auth"]["authorization"].startswith("Basic ...")
    with pytest.raises(AuthError):
        run(fake_upstream, key="bad-user:pw")


@pytest.mark.parametrize("fault, error", [
    ({"status": 500, "message": "CUDA out of memory"}, TransientError),
    ({"status": 429, "retry_after": 5}, RateLimited),
])
def test_fault_mapping(fake_upstream, fault, error):
    fake_upstream.faults("a1111", **fault)
    with pytest.raises(error) as caught:
        run(fake_upstream)
    if "message" in fault:
        assert "CUDA out of memory" in caught.value.message


def test_malformed_answer_is_transient(fake_upstream):
    fake_upstream.faults("a1111.txt2img", malformed=True)
    with pytest.raises(TransientError) as caught:
        run(fake_upstream)
    assert caught.value.code == "upstream_bad_response"


def test_timeout(fake_upstream):
    fake_upstream.faults("a1111", timeout=True)
    with pytest.raises(UpstreamTimeout):
        run(fake_upstream, options={"timeout": 0.3})


def test_catalog_parameter_names_are_translated(fake_upstream):
    """The SDXL catalog entry speaks diffusers: num_inference_steps, guidance_scale, scheduler, prompt_strength."""
    source = state.file_url(media.png(24, 24, "s"), "image/png")
    run(fake_upstream, num_inference_steps=30, guidance_scale=8.5, scheduler="KarrasDPM", image_url=source,
        prompt_strength=0.3, aspect_ratio="16:9")
    sent = fake_upstream.requests("a1111.img2img")[-1]["json"]
    assert (sent["steps"], sent["cfg_scale"], sent["sampler_name"]) == (30, 8.5, "DPM++ 2M Karras")
    assert sent["denoising_strength"] == 0.3
    assert (sent["width"], sent["height"]) == (1344, 768)

"""The comfyui adapter against the fake ComfyUI server over real HTTP."""
from __future__ import annotations

import io
import time

import pytest
from PIL import Image

from apps.providers.base import (
    AuthError, ChannelConfig, InvalidInput, Job, NotFound, PermanentError, RateLimited, TransientError,
    UpstreamTimeout,
)
from apps.providers.registry import get_adapter

CHECKPOINT = "sd_xl_base_1.0.safetensors"


def comfy(fake, key="", **options):
    channel = ChannelConfig(name="gpu-box", adapter="comfyui", base_url=fake.url, api_key=key, options=options)
    return get_adapter(channel), channel


def job(channel, model=CHECKPOINT, **params):
    params.setdefault("prompt", "a castle at dusk")
    return Job(id="gen-42", modality="image", upstream_model=model, params=params, channel=channel)


def wait(adapter, the_job, prompt_id, limit=5.0):
    deadline = time.monotonic() + limit
    while True:
        result = adapter.poll(the_job, prompt_id)
        if result.status != "pending" or time.monotonic() > deadline:
            return result
        time.sleep(0.05)


def test_txt2img_graph_pending_then_images(fake_upstream):
    fake_upstream.config(job_seconds=0.2)
    adapter, channel = comfy(fake_upstream, steps=12)
    the_job = job(channel, negative_prompt="fog", size="768x512", n=2, seed=5, cfg_scale=5.5)
    submitted = adapter.submit(the_job)
    assert submitted.status == "pending" and submitted.upstream_id
    assert adapter.poll(the_job, submitted.upstream_id).status == "pending"
    done = wait(adapter, the_job, submitted.upstream_id)
    assert done.status == "succeeded" and len(done.outputs) == 2
    assert Image.open(io.BytesIO(done.outputs[0].data)).size == (48, 32)
    graph = fake_upstream.requests("comfyui.prompt")[-1]["json"]["prompt"]
    assert {n["class_type"] for n in graph.values()} == {
        "CheckpointLoaderSimple", "CLIPTextEncode", "EmptyLatentImage", "KSampler", "VAEDecode", "SaveImage"}
    assert graph["4"]["inputs"]["ckpt_name"] == CHECKPOINT
    assert graph["5"]["inputs"] == {"width": 768, "height": 512, "batch_size": 2}
    sampler = graph["3"]["inputs"]
    assert (sampler["seed"], sampler["steps"], sampler["cfg"]) == (5, 12, 5.5)
    assert graph["7"]["inputs"]["text"] == "fog"
    views = fake_upstream.requests("comfyui.view")
    assert [v["query"]["type"] for v in views] == [["output"], ["output"]]


def test_seed_defaults_to_one_derived_from_the_job(fake_upstream):
    adapter, channel = comfy(fake_upstream)
    adapter.submit(job(channel))
    adapter.submit(job(channel))
    first, second = (r["json"]["prompt"]["3"]["inputs"]["seed"] for r in fake_upstream.requests("comfyui.prompt"))
    assert first == second


def test_unknown_checkpoint_is_invalid_input_with_node_details(fake_upstream):
    adapter, channel = comfy(fake_upstream)
    with pytest.raises(InvalidInput) as caught:
        adapter.submit(job(channel, model="nope.safetensors"))
    assert "Prompt outputs failed validation" in caught.value.message
    assert "CheckpointLoaderSimple" in caught.value.message and "nope.safetensors" in caught.value.message


def test_bad_dimensions_are_invalid(fake_upstream):
    adapter, channel = comfy(fake_upstream)
    with pytest.raises(InvalidInput) as caught:
        adapter.submit(job(channel, size="1024x20000"))
    assert "Value 20000 bigger than max of 16384: height" in caught.value.message


def test_never_finish_stays_pending(fake_upstream):
    fake_upstream.config(job_seconds=0.05)
    fake_upstream.faults("comfyui", never_finish=True)
    adapter, channel = comfy(fake_upstream)
    submitted = adapter.submit(job(channel))
    time.sleep(0.1)
    for _ in range(3):
        assert adapter.poll(job(channel), submitted.upstream_id).status == "pending"


def test_fail_late_is_a_permanent_failure(fake_upstream):
    fake_upstream.config(instant=True)
    fake_upstream.faults("comfyui", fail_late=True)
    adapter, channel = comfy(fake_upstream)
    submitted = adapter.submit(job(channel))
    with pytest.raises(PermanentError) as caught:
        adapter.poll(job(channel), submitted.upstream_id)
    assert caught.value.code == "upstream_failed" and "out of memory" in caught.value.message


def test_forgotten_prompt_is_not_found(fake_upstream):
    adapter, channel = comfy(fake_upstream)
    with pytest.raises(NotFound):
        adapter.poll(job(channel), "5e1b2b8c-0000-4000-8000-000000000000")


def test_cancel_deletes_and_interrupts(fake_upstream):
    adapter, channel = comfy(fake_upstream)
    submitted = adapter.submit(job(channel))
    adapter.cancel(job(channel), submitted.upstream_id)
    assert fake_upstream.requests("comfyui.queue_edit")[-1]["json"] == {"delete": [submitted.upstream_id]}
    assert fake_upstream.requests("comfyui.interrupt")[-1]["json"] == {"prompt_id": submitted.upstream_id}
    with pytest.raises(PermanentError) as caught:
        adapter.poll(job(channel), submitted.upstream_id)
    assert caught.value.code == "upstream_canceled"


def test_bearer_for_a_proxied_server(fake_upstream):
    adapter, channel = comfy(fake_upstream, key="proxy-token-7777")
    adapter.submit(job(channel))
    assert fake_upstream.requests("comfyui.prompt")[-1]["auth"] == {"authorization": "Bearer ...7777"}
    adapter, channel = comfy(fake_upstream, key="bad-token")
    with pytest.raises(AuthError):
        adapter.submit(job(channel))


@pytest.mark.parametrize("fault, error", [
    ({"status": 500}, TransientError), ({"status": 429, "retry_after": 1}, RateLimited),
])
def test_fault_mapping(fake_upstream, fault, error):
    fake_upstream.faults("comfyui.prompt", **fault)
    adapter, channel = comfy(fake_upstream)
    with pytest.raises(error):
        adapter.submit(job(channel))


def test_malformed_answer_is_transient(fake_upstream):
    fake_upstream.faults("comfyui.history", malformed=True)
    adapter, channel = comfy(fake_upstream)
    submitted = adapter.submit(job(channel))
    with pytest.raises(TransientError) as caught:
        adapter.poll(job(channel), submitted.upstream_id)
    assert caught.value.code == "upstream_bad_response"


def test_timeout(fake_upstream):
    fake_upstream.faults("comfyui.prompt", timeout=True)
    adapter, channel = comfy(fake_upstream, timeout=0.3)
    with pytest.raises(UpstreamTimeout):
        adapter.submit(job(channel))


def test_flux_checkpoint_gets_flux_sampling_and_aspect_size(fake_upstream):
    adapter, channel = comfy(fake_upstream)
    adapter.submit(job(channel, model="flux1-schnell.safetensors", aspect_ratio="16:9", num_inference_steps=3))
    graph = fake_upstream.requests("comfyui.prompt")[-1]["json"]["prompt"]
    sampler = graph["3"]["inputs"]
    assert (sampler["steps"], sampler["cfg"], sampler["scheduler"]) == (3, 1.0, "simple")
    assert (graph["5"]["inputs"]["width"], graph["5"]["inputs"]["height"]) == (1344, 768)


def test_img2img_uploads_the_source_then_loads_it(fake_upstream):
    from tests.fakes import media
    from tests.fakes.core import state

    fake_upstream.config(instant=True)
    adapter, channel = comfy(fake_upstream)
    source = state.file_url(media.png(16, 16, "src"), "image/png")
    the_job = job(channel, model="flux1-dev.safetensors", image_url=source, prompt_strength=0.6)
    submitted = adapter.submit(the_job)
    upload = fake_upstream.requests("comfyui.upload")[-1]
    assert upload["headers"]["content-type"].startswith("multipart/form-data")
    graph = fake_upstream.requests("comfyui.prompt")[-1]["json"]["prompt"]
    assert graph["10"]["class_type"] == "LoadImage" and graph["10"]["inputs"]["image"].startswith("atelier-")
    assert graph["3"]["inputs"]["latent_image"] == ["11", 0] and graph["3"]["inputs"]["denoise"] == 0.6
    assert "5" not in graph  # no empty latent: the source is the starting point
    assert adapter.poll(the_job, submitted.upstream_id).status == "succeeded"


def test_ace_step_music_graph_and_flac_output(fake_upstream):
    fake_upstream.config(instant=True)
    adapter, channel = comfy(fake_upstream)
    the_job = Job(id="song", modality="music", upstream_model="ace_step_v1_3.5b.safetensors",
                  params={"prompt": "synthwave, female vocals", "lyrics": "[verse]\nneon rain", "duration": 45},
                  channel=channel)
    submitted = adapter.submit(the_job)
    graph = fake_upstream.requests("comfyui.prompt")[-1]["json"]["prompt"]
    assert graph["6"]["inputs"]["tags"] == "synthwave, female vocals"
    assert graph["6"]["inputs"]["lyrics"] == "[verse]\nneon rain"
    assert graph["5"]["inputs"]["seconds"] == 45.0
    assert graph["3"]["inputs"]["steps"] == 50
    done = adapter.poll(the_job, submitted.upstream_id)
    [output] = done.outputs
    assert output.mime == "audio/flac" and output.data[:4] == b"fLaC"
    assert fake_upstream.requests("comfyui.view")[-1]["query"]["subfolder"] == ["audio"]


def test_instrumental_music_uses_the_inst_tag(fake_upstream):
    adapter, channel = comfy(fake_upstream)
    adapter.submit(Job(id="s", modality="music", upstream_model="ace_step_v1_3.5b.safetensors",
                       params={"prompt": "lofi", "instrumental": True}, channel=channel))
    assert fake_upstream.requests("comfyui.prompt")[-1]["json"]["prompt"]["6"]["inputs"]["lyrics"] == "[inst]"


def test_channel_workflow_template_is_filled_per_job(fake_upstream):
    from apps.providers.adapters.comfyui import image_graph

    template_job = Job(id="t", modality="image", upstream_model=CHECKPOINT, params={"prompt": "x"},
                       channel=ChannelConfig(name="t", adapter="comfyui"))
    template = image_graph(template_job, {})
    template["6"]["inputs"]["text"] = "$prompt"
    template["3"]["inputs"]["seed"] = "$seed"
    template["5"]["inputs"]["width"] = "$width"
    template["9"]["inputs"]["filename_prefix"] = "custom"
    adapter, channel = comfy(fake_upstream, workflows={CHECKPOINT: template})
    adapter.submit(job(channel, prompt="a custom graph", seed=11, size="640x512"))
    graph = fake_upstream.requests("comfyui.prompt")[-1]["json"]["prompt"]
    assert graph["6"]["inputs"]["text"] == "a custom graph"
    assert graph["3"]["inputs"]["seed"] == 11 and graph["5"]["inputs"]["width"] == 640
    assert graph["9"]["inputs"]["filename_prefix"] == "custom"


def test_catalog_scheduler_names_and_flux_guidance(fake_upstream):
    adapter, channel = comfy(fake_upstream)
    adapter.submit(job(channel, scheduler="KarrasDPM", guidance_scale=6))
    sampler = fake_upstream.requests("comfyui.prompt")[-1]["json"]["prompt"]["3"]["inputs"]
    assert (sampler["sampler_name"], sampler["scheduler"], sampler["cfg"]) == ("dpmpp_2m", "karras", 6.0)
    adapter.submit(job(channel, model="flux1-dev.safetensors", guidance_scale=3.5))
    graph = fake_upstream.requests("comfyui.prompt")[-1]["json"]["prompt"]
    assert graph["12"] == {"class_type": "FluxGuidance", "inputs": {"conditioning": ["6", 0], "guidance": 3.5}}
    assert graph["3"]["inputs"]["positive"] == ["12", 0] and graph["3"]["inputs"]["cfg"] == 1.0


# ---- model families load the way ComfyUI's example workflows load them -----------------------------
def classes(graph):
    return {node["class_type"] for node in graph.values()}


def run_to_end(fake, adapter, the_job):
    fake.config(instant=True)
    submitted = adapter.submit(the_job)
    return adapter.poll(the_job, submitted.upstream_id), fake.requests("comfyui.prompt")[-1]["json"]["prompt"]


def test_flux_loads_its_diffusion_model_text_encoders_and_vae_separately(fake_upstream):
    """FLUX ships as a diffusion model: CheckpointLoaderSimple cannot load it (the old graph)."""
    adapter, channel = comfy(fake_upstream)
    done, graph = run_to_end(fake_upstream, adapter, job(channel, model="flux1-dev.safetensors", guidance=3.5,
                                                         aspect_ratio="16:9"))
    assert done.status == "succeeded" and len(done.outputs) == 1
    assert graph["4"] == {"class_type": "UNETLoader",
                          "inputs": {"unet_name": "flux1-dev.safetensors", "weight_dtype": "default"}}
    assert graph["13"]["inputs"] == {"clip_name1": "clip_l.safetensors", "clip_name2": "t5xxl_fp16.safetensors",
                                     "type": "flux"}
    assert graph["14"]["inputs"] == {"vae_name": "ae.safetensors"}
    assert graph["5"]["class_type"] == "EmptySD3LatentImage"
    assert graph["12"]["inputs"]["guidance"] == 3.5  # the catalog's "guidance" field
    assert "CheckpointLoaderSimple" not in classes(graph)


def test_the_old_checkpoint_graph_for_flux_is_refused_by_the_server(fake_upstream):
    from apps.providers.adapters import comfyui

    adapter, channel = comfy(fake_upstream)
    old = {"4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "flux1-dev.safetensors"}}}
    graph = comfyui.image_graph(job(channel), {})
    graph.update(old)
    from apps.providers import http

    with pytest.raises(InvalidInput) as caught:
        http.request(channel, "POST", fake_upstream.url + "/prompt", json={"prompt": graph}, provider="comfyui")
    assert "ckpt_name: 'flux1-dev.safetensors' not in" in caught.value.message


def test_an_all_in_one_fp8_checkpoint_loads_with_checkpoint_loader_simple(fake_upstream):
    adapter, channel = comfy(fake_upstream)
    done, graph = run_to_end(fake_upstream, adapter, job(channel, model="flux1-dev-fp8.safetensors"))
    assert done.status == "succeeded"
    assert graph["4"]["class_type"] == "CheckpointLoaderSimple" and graph["6"]["inputs"]["clip"] == ["4", 1]


def test_sd35_large_takes_its_three_text_encoders_from_triple_clip_loader(fake_upstream):
    """sd3.5_large.safetensors has no text encoders: encoding with its CLIP output fails when run."""
    adapter, channel = comfy(fake_upstream)
    done, graph = run_to_end(fake_upstream, adapter, job(channel, model="sd3.5_large.safetensors",
                                                         num_inference_steps=30, guidance_scale=4.5))
    assert done.status == "succeeded"
    assert graph["13"] == {"class_type": "TripleCLIPLoader", "inputs": {
        "clip_name1": "clip_g.safetensors", "clip_name2": "clip_l.safetensors", "clip_name3": "t5xxl_fp16.safetensors"}}
    assert graph["6"]["inputs"]["clip"] == ["13", 0] and graph["8"]["inputs"]["vae"] == ["4", 2]
    assert (graph["3"]["inputs"]["steps"], graph["3"]["inputs"]["cfg"]) == (30, 4.5)


def test_the_fake_fails_an_sd35_graph_that_encodes_with_the_checkpoints_missing_clip(fake_upstream):
    fake_upstream.config(instant=True)
    adapter, channel = comfy(fake_upstream, all_in_one=["sd3.5_large.safetensors"])  # wrongly declared
    submitted = adapter.submit(job(channel, model="sd3.5_large.safetensors"))
    with pytest.raises(PermanentError) as caught:
        adapter.poll(job(channel), submitted.upstream_id)
    assert "clip input is invalid" in caught.value.message


def test_qwen_image_uses_its_text_encoder_vae_and_auraflow_sampling(fake_upstream):
    adapter, channel = comfy(fake_upstream)
    done, graph = run_to_end(fake_upstream, adapter, job(channel, model="qwen_image_fp8_e4m3fn.safetensors",
                                                         aspect_ratio="1:1"))
    assert done.status == "succeeded"
    assert graph["13"]["inputs"] == {"clip_name": "qwen_2.5_vl_7b_fp8_scaled.safetensors", "type": "qwen_image"}
    assert graph["15"] == {"class_type": "ModelSamplingAuraFlow", "inputs": {"model": ["4", 0], "shift": 3.1}}
    assert graph["3"]["inputs"]["model"] == ["15", 0]


def test_companion_file_names_follow_the_channel(fake_upstream):
    adapter, channel = comfy(fake_upstream, files={"t5xxl": "t5xxl_fp8_e4m3fn.safetensors"})
    with pytest.raises(InvalidInput) as caught:  # the fake box does not have that file
        adapter.submit(job(channel, model="flux1-schnell.safetensors"))
    assert caught.value.fails_over and "t5xxl_fp8_e4m3fn.safetensors" in caught.value.message


def test_a_model_file_the_server_lacks_belongs_to_the_route(fake_upstream):
    adapter, channel = comfy(fake_upstream)
    with pytest.raises(InvalidInput) as caught:
        adapter.submit(job(channel, model="flux1-krea-dev.safetensors"))
    assert caught.value.fails_over  # another channel may have the file


def test_a_bad_value_is_the_requests_problem(fake_upstream):
    adapter, channel = comfy(fake_upstream, sampler_name="euler_magic")
    with pytest.raises(InvalidInput) as caught:
        adapter.submit(job(channel))
    assert not caught.value.fails_over and "sampler_name: 'euler_magic' not in" in caught.value.message


def test_the_fake_refuses_a_link_of_the_wrong_type(fake_upstream):
    from apps.providers import http
    from apps.providers.adapters import comfyui

    adapter, channel = comfy(fake_upstream)
    graph = comfyui.image_graph(job(channel), {})
    graph["3"]["inputs"]["model"] = ["4", 1]  # the CLIP output where a MODEL belongs
    with pytest.raises(InvalidInput) as caught:
        http.request(channel, "POST", fake_upstream.url + "/prompt", json={"prompt": graph}, provider="comfyui")
    assert "received_type(CLIP) mismatch input_type(MODEL)" in caught.value.message


def video_job(channel, model="wan2.2_t2v_high_noise_14B_fp8_scaled.safetensors", **params):
    params.setdefault("prompt", "waves on a pier")
    return Job(id="vid-1", modality="video", upstream_model=model, params=params, channel=channel)


def test_wan22_video_graph_makes_an_mp4(fake_upstream):
    adapter, channel = comfy(fake_upstream)
    the_job = video_job(channel, resolution="480p", aspect_ratio="16:9", num_frames=80, frames_per_second=16,
                        num_inference_steps=20, seed=9)
    done, graph = run_to_end(fake_upstream, adapter, the_job)
    [output] = done.outputs
    assert output.mime == "video/mp4" and output.data[4:8] == b"ftyp"
    assert graph["16"]["inputs"]["unet_name"] == "wan2.2_t2v_low_noise_14B_fp8_scaled.safetensors"
    assert graph["13"]["inputs"]["type"] == "wan"
    assert graph["5"]["inputs"] == {"width": 848, "height": 480, "length": 77, "batch_size": 1}
    high, low = graph["3"]["inputs"], graph["19"]["inputs"]
    assert (high["start_at_step"], high["end_at_step"], high["add_noise"]) == (0, 10, "enable")
    assert (low["start_at_step"], low["latent_image"], low["add_noise"]) == (10, ["3", 0], "disable")
    assert graph["9"]["class_type"] == "SaveVideo"


def test_a_video_model_without_a_video_graph_is_refused_before_anything_is_sent(fake_upstream):
    adapter, channel = comfy(fake_upstream)
    with pytest.raises(InvalidInput) as caught:
        adapter.submit(video_job(channel, model="ltxv-13b-0.9.8-distilled.safetensors"))
    assert caught.value.fails_over and "no video graph" in caught.value.message
    assert fake_upstream.requests("comfyui") == []

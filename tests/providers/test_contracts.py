"""Contract tests: each adapter's parser reads the answers its provider publishes.

The fakes answer the way the adapters expect, so a parser that misreads the real answer would
pass against them. These tests replay answers taken from the providers' own documentation, SDK
test recordings or SDK types (the source is named above each one, trimmed only of long logs and
base64 payloads) through an httpx MockTransport in place of the network, and check what the
adapter makes of them."""
from __future__ import annotations

import base64
import json
import re

import httpx
import pytest

from apps.providers import http
from apps.providers.base import ChannelConfig, ContentFiltered, Job, PermanentError, ProviderResult
from apps.providers.registry import get_adapter

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")
PNG_B64 = base64.b64encode(PNG).decode()


class Replay:
    """Answers requests from a list of (method, path pattern, response); records what was asked."""

    def __init__(self):
        self.answers: list[tuple[str, re.Pattern, httpx.Response]] = []
        self.requests: list[httpx.Request] = []

    def on(self, method: str, path: str, *, json_body=None, content: bytes | None = None, status: int = 200,
           headers: dict | None = None) -> "Replay":
        if json_body is not None:
            response = httpx.Response(status, json=json_body, headers=headers)
        else:
            response = httpx.Response(status, content=content or b"", headers=headers)
        self.answers.append((method, re.compile(path), response))
        return self

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        for method, path, response in self.answers:
            if request.method == method and path.search(request.url.path):
                return httpx.Response(response.status_code, headers=response.headers, content=response.content)
        return httpx.Response(599, json={"error": f"no recorded answer for {request.method} {request.url.path}"})


@pytest.fixture
def replay(monkeypatch):
    recorded = Replay()
    client = httpx.Client(transport=httpx.MockTransport(recorded.handle))
    monkeypatch.setattr(http, "client_for", lambda base_url: client)
    yield recorded
    client.close()


def adapter(name: str, base_url: str = "https://api.example.test/v1", **options):
    return get_adapter(ChannelConfig(name=f"{name}-contract", adapter=name, base_url=base_url, api_key="key-1234",
                                     options=options))


def job(model: str, modality: str = "image", **params) -> Job:
    return Job(id="gen-contract", modality=modality, upstream_model=model, channel=None,
               params={"prompt": "a red fox in the snow", **params})


# ---- OpenAI ---------------------------------------------------------------------------------------
# openai-python src/openai/types/images_response.py (ImagesResponse, Usage): GPT Image answers
# base64 images with the output settings and token usage.
OPENAI_IMAGES = {
    "created": 1713833628,
    "background": "opaque",
    "data": [{"b64_json": PNG_B64}],
    "output_format": "png",
    "quality": "high",
    "size": "1024x1024",
    "usage": {"input_tokens": 50, "input_tokens_details": {"image_tokens": 40, "text_tokens": 10},
              "output_tokens": 50, "total_tokens": 100},
}
# The chat completion example of OpenAI's API reference (Create chat completion, default response).
OPENAI_CHAT = {
    "id": "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
    "object": "chat.completion",
    "created": 1741569952,
    "model": "gpt-4.1-2025-04-14",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello! How can I assist you today?",
                                         "refusal": None, "annotations": []},
                 "logprobs": None, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 19, "completion_tokens": 10, "total_tokens": 29,
              "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
              "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0,
                                            "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}},
    "service_tier": "default",
}


def test_openai_images_answer(replay):
    replay.on("POST", r"/images/generations$", json_body=OPENAI_IMAGES)
    result = adapter("openai").submit(job("gpt-image-2", quality="high"))
    assert result.status == ProviderResult.SUCCEEDED
    [output] = result.outputs
    assert output.data == PNG and output.mime == "image/png"
    assert result.usage.get("input_tokens") == 50 and result.usage.get("output_tokens") == 50


def test_openai_chat_answer(replay):
    replay.on("POST", r"/chat/completions$", json_body=OPENAI_CHAT)
    result = adapter("openai").submit(Job(id="c", modality="text", upstream_model="gpt-4.1", channel=None,
                                          params={"messages": [{"role": "user", "content": "Hello!"}]}))
    assert result.text == "Hello! How can I assist you today?"
    assert result.usage == {"input_tokens": 19, "output_tokens": 10}


def test_openai_chat_stream(replay):
    """The streamed chunks of OpenAI's API reference (Create chat completion, streaming), with
    stream_options.include_usage's final usage chunk."""
    chunks = [
        {"id": "chatcmpl-123", "object": "chat.completion.chunk", "created": 1694268190, "model": "gpt-4o-mini",
         "system_fingerprint": "fp_44709d6fcb",
         "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "logprobs": None,
                      "finish_reason": None}]},
        {"id": "chatcmpl-123", "object": "chat.completion.chunk", "created": 1694268190, "model": "gpt-4o-mini",
         "system_fingerprint": "fp_44709d6fcb",
         "choices": [{"index": 0, "delta": {"content": "Hello"}, "logprobs": None, "finish_reason": None}]},
        {"id": "chatcmpl-123", "object": "chat.completion.chunk", "created": 1694268190, "model": "gpt-4o-mini",
         "system_fingerprint": "fp_44709d6fcb",
         "choices": [{"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}]},
        {"id": "chatcmpl-123", "object": "chat.completion.chunk", "created": 1694268190, "model": "gpt-4o-mini",
         "choices": [], "usage": {"prompt_tokens": 9, "completion_tokens": 1, "total_tokens": 10}},
    ]
    body = "".join(f"data: {json.dumps(chunk)}\n\n" for chunk in chunks) + "data: [DONE]\n\n"
    replay.on("POST", r"/chat/completions$", content=body.encode(), headers={"content-type": "text/event-stream"})
    pieces = list(adapter("openai").stream_chat(Job(id="c", modality="text", upstream_model="gpt-4o-mini",
                                                    channel=None, params={"messages": [
                                                        {"role": "user", "content": "Hello!"}]})))
    assert "".join(p.delta for p in pieces) == "Hello"
    assert any(p.finish_reason == "stop" for p in pieces)
    assert [p.usage for p in pieces if p.usage] == [{"input_tokens": 9, "output_tokens": 1}]


# ---- Replicate ------------------------------------------------------------------------------------
# replicate-python tests/cassettes/predictions-create.yaml and predictions-get.yaml: a prediction
# as created ("starting") and as read back succeeded (logs trimmed).
REPLICATE_STARTING = {
    "id": "vgcm4plb7tgzlyznry5d5jkgvu", "model": "stability-ai/sdxl",
    "version": "39ed52f2a78e934b3ba6e2a89f5b1c712de7dfea535525255b1aa35c5565e08b",
    "input": {"height": 512, "prompt": "a studio photo of a rainbow colored corgi", "seed": 42069, "width": 512},
    "logs": "", "error": None, "status": "starting", "created_at": "2023-08-16T18:57:08.36078514Z",
    "urls": {"cancel": "https://api.replicate.com/v1/predictions/vgcm4plb7tgzlyznry5d5jkgvu/cancel",
             "get": "https://api.replicate.com/v1/predictions/vgcm4plb7tgzlyznry5d5jkgvu"},
}
REPLICATE_SUCCEEDED = {
    **REPLICATE_STARTING,
    "logs": "Using seed: 42069\nPrompt: a studio photo of a rainbow colored corgi\ntxt2img mode\n"
            " 96%|█████████▌| 48/50 [00:02<00:00, 17.22it/s]\n100%|██████████| 50/50 [00:02<00:00, 17.19it/s]\n",
    "output": ["https://replicate.delivery/pbxt/9inf36wjsEWuQ6XTf84iezPftv9QZdePfGySnU5tUai3BOrWE/out-0.png"],
    "status": "succeeded", "started_at": "2023-08-16T18:57:08.366092Z", "completed_at": "2023-08-16T18:57:12.17042Z",
    "metrics": {"predict_time": 3.804328},
}


def test_replicate_prediction_answers(replay):
    replay.on("POST", r"/v1/predictions$", json_body=REPLICATE_STARTING, status=201)
    replay.on("GET", r"/v1/predictions/vgcm4plb7tgzlyznry5d5jkgvu$", json_body=REPLICATE_SUCCEEDED)
    replicate = adapter("replicate")
    the_job = job("stability-ai/sdxl:39ed52f2a78e934b3ba6e2a89f5b1c712de7dfea535525255b1aa35c5565e08b")
    started = replicate.submit(the_job)
    assert started.status == ProviderResult.PENDING and started.upstream_id == "vgcm4plb7tgzlyznry5d5jkgvu"
    done = replicate.poll(the_job, started.upstream_id)
    assert done.status == ProviderResult.SUCCEEDED
    assert [o.url for o in done.outputs] == REPLICATE_SUCCEEDED["output"]
    assert done.outputs[0].mime == "image/png"
    assert done.usage.get("predict_time") == 3.804328


def test_replicate_failed_prediction(replay):
    """A failed prediction carries its error as a string (the Prediction type's `error`)."""
    failed = {**REPLICATE_STARTING, "status": "failed", "error": "CUDA out of memory", "output": None}
    replay.on("GET", r"/v1/predictions/", json_body=failed)
    with pytest.raises(PermanentError, match="CUDA out of memory"):
        adapter("replicate").poll(job("stability-ai/sdxl"), "vgcm4plb7tgzlyznry5d5jkgvu")


# ---- fal ------------------------------------------------------------------------------------------
# fal-ai/fal projects/fal_client: submit answers request_id with the three queue URLs
# (tests/unit/test_client.py), status is IN_QUEUE with queue_position, IN_PROGRESS or COMPLETED
# (client.py Status parsing), and FLUX's result is images with url, width, height, content_type
# (the fal-ai/flux/dev output schema on fal.ai).
FAL_SUBMITTED = {
    "request_id": "764cabcf-b745-4b3e-ae38-1200304cf45b",
    "response_url": "https://queue.fal.run/fal-ai/flux/requests/764cabcf-b745-4b3e-ae38-1200304cf45b",
    "status_url": "https://queue.fal.run/fal-ai/flux/requests/764cabcf-b745-4b3e-ae38-1200304cf45b/status",
    "cancel_url": "https://queue.fal.run/fal-ai/flux/requests/764cabcf-b745-4b3e-ae38-1200304cf45b/cancel",
}
FAL_RESULT = {
    "images": [{"url": "https://v3.fal.media/files/rabbit/fox.jpeg", "width": 1024, "height": 768,
                "content_type": "image/jpeg"}],
    "timings": {"inference": 1.87}, "seed": 2345871, "has_nsfw_concepts": [False],
    "prompt": "a red fox in the snow",
}


def test_fal_queue_answers(replay):
    replay.on("POST", r"/fal-ai/flux/dev$", json_body={**FAL_SUBMITTED, "status": "IN_QUEUE", "queue_position": 0})
    replay.on("GET", r"/requests/764cabcf-b745-4b3e-ae38-1200304cf45b/status$",
              json_body={"status": "COMPLETED", "logs": None, "response_url": FAL_SUBMITTED["response_url"]})
    replay.on("GET", r"/requests/764cabcf-b745-4b3e-ae38-1200304cf45b$", json_body=FAL_RESULT)
    fal = adapter("fal", base_url="https://queue.fal.run")
    the_job = job("fal-ai/flux/dev")
    started = fal.submit(the_job)
    assert started.status == ProviderResult.PENDING and started.upstream_id == FAL_SUBMITTED["request_id"]
    done = fal.poll(the_job, started.upstream_id)
    assert done.status == ProviderResult.SUCCEEDED
    [output] = done.outputs
    assert (output.url, output.mime, output.width, output.height) == (
        "https://v3.fal.media/files/rabbit/fox.jpeg", "image/jpeg", 1024, 768)


def test_fal_in_queue_status_is_pending(replay):
    replay.on("GET", r"/status$", json_body={"status": "IN_QUEUE", "queue_position": 3,
                                             "response_url": FAL_SUBMITTED["response_url"]}, status=202)
    result = adapter("fal", base_url="https://queue.fal.run").poll(job("fal-ai/flux/dev"), FAL_SUBMITTED["request_id"])
    assert result.status == ProviderResult.PENDING


# ---- Gemini (images) and Veo ----------------------------------------------------------------------
# The generateContent answer of the Gemini API reference (GenerateContentResponse: candidates with
# content.parts, inlineData {mimeType, data}, finishReason; usageMetadata; modelVersion; responseId).
GEMINI_IMAGE = {
    "candidates": [{"content": {"parts": [{"text": "Here is a red fox in the snow."},
                                          {"inlineData": {"mimeType": "image/png", "data": PNG_B64}}],
                                "role": "model"},
                    "finishReason": "STOP", "index": 0}],
    "usageMetadata": {"promptTokenCount": 10, "candidatesTokenCount": 1300, "totalTokenCount": 1310,
                      "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 10}],
                      "candidatesTokensDetails": [{"modality": "IMAGE", "tokenCount": 1290}]},
    "modelVersion": "gemini-3.1-flash-image",
    "responseId": "mLzNaNmwH4ezqtsPs7vX8Ak",
}


def test_gemini_image_answer(replay):
    replay.on("POST", r"/models/gemini-3.1-flash-image:generateContent$", json_body=GEMINI_IMAGE)
    result = adapter("gemini", base_url="https://generativelanguage.googleapis.com/v1beta").submit(
        job("gemini-3.1-flash-image"))
    assert result.status == ProviderResult.SUCCEEDED
    [output] = result.outputs
    assert output.data == PNG and output.mime == "image/png"


def test_gemini_3_pro_image_thinking_images_are_not_outputs(replay):
    """Gemini 3 Pro Image's answer (Gemini API image generation guide, "thinking process"): interim
    images are parts with thought: true; the final image part carries a thoughtSignature."""
    interim = base64.b64encode(PNG + b"interim").decode()
    replay.on("POST", r":generateContent$", json_body={
        "candidates": [{"content": {"role": "model", "parts": [
            {"text": "Composing the scene first.", "thought": True},
            {"inlineData": {"mimeType": "image/png", "data": interim}, "thought": True},
            {"inlineData": {"mimeType": "image/png", "data": PNG_B64}, "thoughtSignature": "EpoFCpcFAdHtim9..."},
        ]}, "finishReason": "STOP", "index": 0}],
        "usageMetadata": {"promptTokenCount": 12, "candidatesTokenCount": 1120, "thoughtsTokenCount": 260,
                          "totalTokenCount": 1392},
        "modelVersion": "gemini-3-pro-image"})
    result = adapter("gemini", base_url="https://generativelanguage.googleapis.com/v1beta").submit(
        job("gemini-3-pro-image"))
    assert [o.data for o in result.outputs] == [PNG]


def test_gemini_blocked_prompt_is_content_filtered(replay):
    """promptFeedback.blockReason with no candidates (GenerateContentResponse.PromptFeedback)."""
    replay.on("POST", r":generateContent$", json_body={
        "promptFeedback": {"blockReason": "SAFETY", "safetyRatings": [
            {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH"}]},
        "usageMetadata": {"promptTokenCount": 8, "totalTokenCount": 8}, "modelVersion": "gemini-3.1-flash-image"})
    with pytest.raises(ContentFiltered):
        adapter("gemini", base_url="https://generativelanguage.googleapis.com/v1beta").submit(
            job("gemini-3.1-flash-image"))


# The REST flow of the Gemini API video guide: predictLongRunning answers the operation name; the
# finished operation holds response.generateVideoResponse.generatedSamples[].video.uri
# (google-genai _operations_converters._GenerateVideosOperation_from_mldev reads the same path).
VEO_OPERATION = "models/veo-3.1-generate-preview/operations/8y5a6fcrh2xq"
VEO_DONE = {
    "name": VEO_OPERATION,
    "done": True,
    "response": {
        "@type": "type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningResponse",
        "generateVideoResponse": {"generatedSamples": [{"video": {
            "uri": "https://generativelanguage.googleapis.com/v1beta/files/8y5a6fcrh2xq:download?alt=media"}}]},
    },
}


def test_veo_operation_answers(replay):
    replay.on("POST", r":predictLongRunning$", json_body={"name": VEO_OPERATION})
    replay.on("GET", r"/operations/8y5a6fcrh2xq$", json_body=VEO_DONE)
    replay.on("GET", r"/files/8y5a6fcrh2xq:download$", content=b"\x00\x00\x00\x18ftypmp42", headers={
        "content-type": "video/mp4"})
    veo = adapter("veo", base_url="https://generativelanguage.googleapis.com/v1beta")
    the_job = job("veo-3.1-generate-preview", modality="video", duration=8)
    started = veo.submit(the_job)
    assert started.status == ProviderResult.PENDING and started.upstream_id == VEO_OPERATION
    done = veo.poll(the_job, started.upstream_id)
    assert done.status == ProviderResult.SUCCEEDED
    [output] = done.outputs
    assert output.mime == "video/mp4" and output.data == b"\x00\x00\x00\x18ftypmp42"
    download = replay.requests[-1]
    assert download.url.path.endswith(":download") and download.headers["x-goog-api-key"] == "key-1234"


def test_veo_filtered_operation_is_content_filtered(replay):
    """raiMediaFilteredCount and raiMediaFilteredReasons instead of samples (GenerateVideosResponse)."""
    replay.on("GET", r"/operations/", json_body={"name": VEO_OPERATION, "done": True, "response": {
        "@type": "type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningResponse",
        "generateVideoResponse": {"raiMediaFilteredCount": 1, "raiMediaFilteredReasons": [
            "We encountered an issue with the audio for your prompt."]}}})
    with pytest.raises(ContentFiltered):
        adapter("veo", base_url="https://generativelanguage.googleapis.com/v1beta").poll(
            job("veo-3.1-generate-preview", modality="video"), VEO_OPERATION)


# ---- Ark (BytePlus / Volcengine) ------------------------------------------------------------------
# BytePlus ModelArk "Get video generation task" API, cURL response example (Seedance 2.0).
ARK_SUCCEEDED = {
    "id": "cgt-20250331175019-68d9t",
    "model": "dreamina-seedance-2-0-260128",
    "status": "succeeded",
    "content": {"video_url": "https://ark-content-generation-ap-southeast-1.tos-ap-southeast-1.volces.com/xxx"},
    "usage": {"completion_tokens": 108900, "total_tokens": 108900},
    "created_at": 1743414619, "updated_at": 1743414673,
    "seed": 10, "resolution": "720p", "ratio": "16:9", "duration": 5, "framespersecond": 24,
    "service_tier": "default", "execution_expires_after": 172800, "generate_audio": True, "draft": False,
    "priority": 0,
}


def test_ark_task_answers(replay):
    replay.on("POST", r"/contents/generations/tasks$", json_body={"id": "cgt-20250331175019-68d9t"})
    replay.on("GET", r"/contents/generations/tasks/cgt-20250331175019-68d9t$", json_body=ARK_SUCCEEDED)
    ark = adapter("ark", base_url="https://ark.ap-southeast.bytepluses.com/api/v3")
    the_job = job("dreamina-seedance-2-0-260128", modality="video", duration=5, resolution="720p")
    started = ark.submit(the_job)
    assert started.status == ProviderResult.PENDING and started.upstream_id == "cgt-20250331175019-68d9t"
    done = ark.poll(the_job, started.upstream_id)
    assert done.status == ProviderResult.SUCCEEDED
    [output] = done.outputs
    assert output.url == ARK_SUCCEEDED["content"]["video_url"] and output.mime == "video/mp4"
    assert output.duration == 5


def test_ark_failed_task(replay):
    """A failed task's error object {code, message} (the same API's failed example)."""
    replay.on("GET", r"/contents/generations/tasks/", json_body={
        **ARK_SUCCEEDED, "status": "failed", "content": None,
        "error": {"code": "OutputVideoSensitiveContentDetected",
                  "message": "The request failed because the output video may contain sensitive information."}})
    with pytest.raises(ContentFiltered):
        adapter("ark", base_url="https://ark.ap-southeast.bytepluses.com/api/v3").poll(
            job("dreamina-seedance-2-0-260128", modality="video"), "cgt-20250331175019-68d9t")


# ---- ComfyUI --------------------------------------------------------------------------------------
# ComfyUI server.py: POST /prompt answers {"prompt_id", "number", "node_errors"}; GET
# /history/{id} is {id: {"prompt", "outputs": {node: {"images": [{filename, subfolder, type}]}},
# "status": {"status_str", "completed", "messages"}}} (script_examples/websockets_api_example.py
# reads outputs the same way).
def test_comfyui_prompt_and_history_answers(replay):
    prompt_id = "3b7b7f8e-3f0b-4c7a-9d6e-2f4f1c8e9a10"
    replay.on("POST", r"/prompt$", json_body={"prompt_id": prompt_id, "number": 3, "node_errors": {}})
    replay.on("GET", rf"/history/{prompt_id}$", json_body={prompt_id: {
        "prompt": [3, prompt_id, {}, {}, ["9"]],
        "outputs": {"9": {"images": [{"filename": "atelier_00001_.png", "subfolder": "", "type": "output"}]}},
        "status": {"status_str": "success", "completed": True, "messages": [
            ["execution_start", {"prompt_id": prompt_id, "timestamp": 1733000000000}],
            ["execution_success", {"prompt_id": prompt_id, "timestamp": 1733000004000}]]},
        "meta": {"9": {"node_id": "9", "display_node": "9", "parent_node": None, "real_node_id": "9"}},
    }})
    replay.on("GET", r"/view$", content=PNG, headers={"content-type": "image/png"})
    comfy = adapter("comfyui", base_url="http://comfy.example.test:8188")
    the_job = job("sdxl_base_1.0.safetensors", width=1024, height=1024)
    started = comfy.submit(the_job)
    assert started.status == ProviderResult.PENDING and started.upstream_id == prompt_id
    done = comfy.poll(the_job, prompt_id)
    assert done.status == ProviderResult.SUCCEEDED
    [output] = done.outputs
    assert output.mime == "image/png"
    view = [r for r in replay.requests if r.url.path == "/view"][0]
    assert view.url.params["filename"] == "atelier_00001_.png" and view.url.params["type"] == "output"


# ---- AUTOMATIC1111 --------------------------------------------------------------------------------
# stable-diffusion-webui modules/api/models.py TextToImageResponse: images (base64), parameters,
# info (a JSON string).
def test_a1111_txt2img_answer(replay):
    replay.on("POST", r"/sdapi/v1/txt2img$", json_body={
        "images": [PNG_B64], "parameters": {"prompt": "a red fox in the snow", "steps": 20},
        "info": json.dumps({"prompt": "a red fox in the snow", "seed": 1234, "width": 512, "height": 512,
                            "sd_model_name": "sd_xl_base_1.0", "infotexts": ["a red fox in the snow\nSteps: 20"]}),
    })
    result = adapter("a1111", base_url="http://a1111.example.test:7860").submit(job("sd_xl_base_1.0"))
    assert result.status == ProviderResult.SUCCEEDED
    [output] = result.outputs
    assert output.data == PNG and output.mime == "image/png"


# ---- ElevenLabs -----------------------------------------------------------------------------------
# elevenlabs-python text_to_speech.convert: the answer body is the audio itself (audio/mpeg for the
# default mp3_44100_128), with the request-id and character-cost headers of the raw response.
def test_elevenlabs_speech_answer(replay):
    mp3 = b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x64" * 64
    replay.on("POST", r"/text-to-speech/JBFqnCBsd6RMkjVDRZzb$", content=mp3, headers={
        "content-type": "audio/mpeg", "request-id": "Ch5jVHBQdv8QGqMhgrh1", "character-cost": "21"})
    result = adapter("elevenlabs", base_url="https://api.elevenlabs.io").submit(Job(
        id="s", modality="speech", upstream_model="eleven_multilingual_v2", channel=None,
        params={"input": "The first move is what sets everything in motion.", "voice": "JBFqnCBsd6RMkjVDRZzb"}))
    assert result.status == ProviderResult.SUCCEEDED
    [output] = result.outputs
    assert output.data == mp3 and output.mime == "audio/mpeg"


# ---- pollinations ---------------------------------------------------------------------------------
# pollinations' image endpoint answers the image bytes (GET /image/{prompt}, image/jpeg), its text
# endpoint OpenAI's chat completion shape (reference 002).
def test_pollinations_image_answer(replay):
    replay.on("GET", r"/image/", content=PNG, headers={"content-type": "image/jpeg"})
    result = adapter("pollinations", base_url="https://gen.pollinations.ai").submit(job("flux", width=1024,
                                                                                     height=1024))
    assert result.status == ProviderResult.SUCCEEDED
    [output] = result.outputs
    assert output.data == PNG and output.mime == "image/jpeg"

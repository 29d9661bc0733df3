"""OpenAI's public API, as far as Atelier uses it: chat completions (with SSE streaming),
image generations and edits, speech, and the Sora videos API.

Paths may carry a prefix (e.g. /api/v1/..., the way OpenRouter mounts it); under /open/ no key
is asked for, like a local Ollama or vLLM server. Any other key is accepted unless it starts
with "bad"."""
from __future__ import annotations

import base64
import io
import re
import time

from PIL import Image

from . import media
from .core import BadRequest, FakeRequest, FakeResponse, error_format, route, sse, state

PREFIX = r"^(?P<prefix>(?:/[\w.-]+)*?)/v1"

IMAGE_SIZES = {
    "gpt-image": {"1024x1024", "1536x1024", "1024x1536", "auto"},
    "dall-e-3": {"1024x1024", "1792x1024", "1024x1792"},
    "dall-e-2": {"256x256", "512x512", "1024x1024"},
}
# What images/generations takes per model family (openai-python ImageGenerateParams): anything
# else is "Unknown parameter"; input_fidelity and mask are edit-only.
IMAGE_FIELDS = {
    "gpt-image": {"model", "prompt", "n", "size", "quality", "background", "output_format", "output_compression",
                  "moderation", "user", "partial_images", "stream"},
    "dall-e-3": {"model", "prompt", "n", "size", "quality", "style", "response_format", "user"},
    "dall-e-2": {"model", "prompt", "n", "size", "response_format", "user"},
}
EDIT_ONLY = {"gpt-image": {"input_fidelity", "mask"}, "dall-e-3": set(), "dall-e-2": {"mask"}}
QUALITIES = {"gpt-image": {"low", "medium", "high", "auto"}, "dall-e-3": {"standard", "hd"}, "dall-e-2": {"standard"}}
# gpt-image-2: WIDTHxHEIGHT, both sides divisible by 16, aspect ratio 1:3 to 3:1, at most 3840 per edge
# and 3840x2160 worth of pixels, at least 655,360 pixels.
FREE_SIZE_LIMITS = {"edge": 3840, "max_pixels": 3840 * 2160, "min_pixels": 655_360}
KOKORO_VOICE = re.compile(r"^[abefhijpz][fm]_[a-z]+$")
VOICES = {"alloy", "ash", "ballad", "coral", "echo", "fable", "nova", "onyx", "sage", "shimmer", "verse"}
SPEECH_FORMATS = {"mp3": "audio/mpeg", "wav": "audio/wav", "aac": "audio/aac", "pcm": "audio/pcm",
                  "flac": "audio/flac", "opus": "audio/ogg"}
VIDEO_SIZES = {"720x1280", "1280x720", "1024x1792", "1792x1024", "1080x1920", "1920x1080"}
VIDEO_SECONDS = {"4", "8", "12", "16", "20"}
BLOCKED_WORD = "forbidden"  # prompts containing it trip the fake's safety system


@error_format("openai")
def openai_error(status: int, message: str, code: str = "") -> FakeResponse:
    kind = {400: "invalid_request_error", 401: "invalid_request_error", 404: "invalid_request_error",
            429: "rate_limit_exceeded"}.get(status, "server_error")
    return FakeResponse(status=status, json={"error": {"message": message, "type": kind, "param": None,
                                                       "code": code or None}})


def _auth(req: FakeRequest) -> FakeResponse | None:
    if req.match["prefix"].startswith("/open"):
        return None
    key = req.bearer()
    if not key:
        return openai_error(401, "You didn't provide an API key. You need to provide your API key in an "
                                 "Authorization header using Bearer auth.", "missing_api_key")
    if key.startswith("bad"):
        return openai_error(401, f"Incorrect API key provided: {key[:3]}***{key[-4:]}.", "invalid_api_key")
    return None


def _require(body: dict, *names: str):
    for name in names:
        if body.get(name) in (None, "", []):
            raise BadRequest(f"Missing required parameter: '{name}'.")


def _words(text: str) -> int:
    return max(1, len(str(text).split()))


# ---- chat ---------------------------------------------------------------------------------------
def _message_text(message: dict) -> str:
    content = message.get("content")
    if isinstance(content, list):  # [{"type": "text", "text": ...}, {"type": "image_url", ...}]
        return " ".join(part.get("text", "") for part in content if isinstance(part, dict))
    return str(content or "")


@route("POST", PREFIX + r"/chat/completions$", name="openai.chat")
def chat(req: FakeRequest) -> FakeResponse:
    denied = _auth(req)
    if denied:
        return denied
    body = req.json()
    _require(body, "model", "messages")
    if body["model"] == "does-not-exist":
        return openai_error(404, "The model `does-not-exist` does not exist or you do not have access to it.",
                            "model_not_found")
    temperature = body.get("temperature")
    if temperature is not None and not 0 <= float(temperature) <= 2:
        return openai_error(400, f"Invalid 'temperature': decimal above maximum value. Expected a value <= 2, "
                                 f"but got {temperature} instead.", "decimal_above_max_value")
    user_texts = [_message_text(m) for m in body["messages"] if m.get("role") == "user"]
    answer_words = f"Echo: {user_texts[-1] if user_texts else ''}".split()
    limit = body.get("max_completion_tokens") or body.get("max_tokens")
    finish = "stop"
    if limit and len(answer_words) > int(limit):
        answer_words, finish = answer_words[: int(limit)], "length"
    answer = " ".join(answer_words)
    usage = {"prompt_tokens": sum(_words(_message_text(m)) for m in body["messages"]),
             "completion_tokens": len(answer_words)}
    usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
    completion_id = state.new_id("chatcmpl-")
    created = int(time.time())
    if body.get("stream"):
        return FakeResponse(stream=_chat_stream(completion_id, created, body, answer_words, finish, usage),
                            content_type="text/event-stream")
    return FakeResponse(json={
        "id": completion_id, "object": "chat.completion", "created": created, "model": body["model"],
        "choices": [{"index": 0, "message": {"role": "assistant", "content": answer, "refusal": None},
                     "logprobs": None, "finish_reason": finish}],
        "usage": usage, "system_fingerprint": "fp_fake",
    })


def _chat_stream(completion_id, created, body, words, finish, usage):
    def chunk(delta, finish_reason=None, **extra):
        return {"id": completion_id, "object": "chat.completion.chunk", "created": created, "model": body["model"],
                "system_fingerprint": "fp_fake",
                "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}], **extra}

    include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
    events = [chunk({"role": "assistant", "content": "", "refusal": None})]
    events += [chunk({"content": (" " if index else "") + word}) for index, word in enumerate(words)]
    events.append(chunk({}, finish))
    if include_usage:
        # The documented shape: every chunk carries "usage": null, and one last chunk has
        # empty choices and the usage of the whole request.
        for event in events:
            event["usage"] = None
        events.append({"id": completion_id, "object": "chat.completion.chunk", "created": created,
                       "model": body["model"], "choices": [], "usage": usage})
    return sse(events)


# ---- moderation ---------------------------------------------------------------------------------
MODERATION_MODELS = {"omni-moderation-latest", "omni-moderation-2024-09-26", "text-moderation-latest",
                     "text-moderation-stable"}
MODERATION_CATEGORIES = ("harassment", "hate", "illicit", "self-harm", "sexual", "violence")


@route("POST", PREFIX + r"/moderations$", name="openai.moderations")
def moderations(req: FakeRequest) -> FakeResponse:
    """Flags any input containing BLOCKED_WORD (category "violence"), like the real endpoint's shape."""
    denied = _auth(req)
    if denied:
        return denied
    body = req.json()
    _require(body, "input")
    model = body.get("model", "omni-moderation-latest")
    if model not in MODERATION_MODELS:
        return openai_error(400, f"Invalid value for 'model': {model!r}.", "invalid_value")
    inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
    if not all(isinstance(item, (str, dict)) for item in inputs):
        raise BadRequest("Invalid type for 'input': expected a string or an array of strings.")
    results = []
    for item in inputs:
        text = item if isinstance(item, str) else str(item.get("text", ""))
        hit = BLOCKED_WORD in text.lower()
        categories = {name: hit and name == "violence" for name in MODERATION_CATEGORIES}
        results.append({"flagged": hit, "categories": categories,
                        "category_scores": {name: 0.99 if value else 0.001 for name, value in categories.items()}})
    return FakeResponse(json={"id": state.new_id("modr-"), "model": model, "results": results})


# ---- images -------------------------------------------------------------------------------------
def _family(model: str) -> str:
    if model.startswith("gpt-image") or model.startswith("chatgpt-image"):
        return "gpt-image"
    return "dall-e-3" if model == "dall-e-3" else "dall-e-2"


def _free_size_problem(size: str) -> str | None:
    width, _, height = size.partition("x")
    if not (width.isdigit() and height.isdigit()):
        return f"Invalid value: '{size}'. Use 'auto' or WIDTHxHEIGHT."
    w, h = int(width), int(height)
    limits = FREE_SIZE_LIMITS
    if w % 16 or h % 16:
        return f"Invalid size '{size}': width and height must both be divisible by 16."
    if max(w, h) > limits["edge"] or w * h > limits["max_pixels"] or w * h < limits["min_pixels"]:
        return f"Invalid size '{size}': outside the model's pixel and edge limits."
    if max(w, h) > 3 * min(w, h):
        return f"Invalid size '{size}': the aspect ratio must be between 1:3 and 3:1."
    return None


def _image_params_problem(body: dict, family: str, model: str, edit: bool) -> str | None:
    allowed = IMAGE_FIELDS[family] | (EDIT_ONLY[family] if edit else set())
    for name in body:
        if name not in allowed:
            return f"Unknown parameter: '{name}'."
    if body.get("quality") not in (None, "") and body["quality"] not in QUALITIES[family]:
        return (f"Invalid value: '{body['quality']}'. Supported values are: "
                + ", ".join(f"'{q}'" for q in sorted(QUALITIES[family])) + ".")
    if family != "gpt-image":
        return None
    fmt = body.get("output_format") or "png"
    if body.get("background") not in (None, "", "auto", "transparent", "opaque"):
        return f"Invalid value: '{body['background']}'. Supported values are: 'transparent', 'opaque', and 'auto'."
    if body.get("background") == "transparent" and fmt == "jpeg":
        return "Transparent background is not supported for jpeg output; use png or webp."
    if body.get("moderation") not in (None, "", "low", "auto"):
        return f"Invalid value: '{body['moderation']}'. Supported values are: 'low' and 'auto'."
    if body.get("input_fidelity") not in (None, "", "low", "high"):
        return f"Invalid value: '{body['input_fidelity']}'. Supported values are: 'low' and 'high'."
    if "output_compression" in body and body["output_compression"] not in (None, ""):
        try:
            compression = int(body["output_compression"])
        except (TypeError, ValueError):
            return "Invalid type for 'output_compression': expected an integer."
        if not 0 <= compression <= 100:
            return (f"Invalid 'output_compression': integer out of range. Expected 0 <= output_compression <= 100, "
                    f"but got {compression} instead.")
        if fmt == "png" and compression < 100:
            return "Compression less than 100 is only supported for the jpeg and webp output formats."
    return None


def _image_bytes(fmt: str, seed: str) -> bytes:
    if fmt == "png":
        return media.png(64, 64, seed)
    buffer = io.BytesIO()
    Image.open(io.BytesIO(media.png(64, 64, seed))).convert("RGB").save(buffer, format=fmt.upper())
    return buffer.getvalue()


def _images_response(body: dict, family: str, edit: bool = False) -> FakeResponse:
    prompt = body.get("prompt", "")
    problem = _image_params_problem(body, family, str(body.get("model") or ""), edit)
    if problem:
        code = "unknown_parameter" if problem.startswith("Unknown parameter") else "invalid_value"
        return openai_error(400, problem, code)
    if BLOCKED_WORD in prompt.lower():
        return openai_error(400, "Your request was rejected as a result of our safety system. Your prompt may "
                                 "contain text that is not allowed by our safety system.", "moderation_blocked")
    n = int(body.get("n") or 1)
    if family == "dall-e-3" and n != 1:
        raise BadRequest("You must provide n=1 for this model.")
    if not 1 <= n <= 10:
        raise BadRequest(f"Invalid 'n': integer out of range. Expected 1 <= n <= 10, but got {n} instead.")
    size = body.get("size") or ("auto" if family == "gpt-image" else "1024x1024")
    free = str(body.get("model") or "").startswith("gpt-image-2")
    if free and size not in IMAGE_SIZES[family]:
        problem = _free_size_problem(size)
        if problem:
            raise BadRequest(problem)
    elif size not in IMAGE_SIZES[family]:
        raise BadRequest(f"Invalid value: '{size}'. Supported values are: "
                         + ", ".join(f"'{s}'" for s in sorted(IMAGE_SIZES[family])) + ".")
    if family == "gpt-image":
        fmt = body.get("output_format") or "png"
        if fmt not in {"png", "jpeg", "webp"}:
            raise BadRequest(f"Invalid value: '{fmt}'. Supported values are: 'png', 'jpeg', and 'webp'.")
        data = [{"b64_json": base64.b64encode(_image_bytes(fmt, f"{prompt}{i}")).decode()} for i in range(n)]
        return FakeResponse(json={
            "created": int(time.time()), "data": data, "background": body.get("background") or "opaque",
            "output_format": fmt, "quality": body.get("quality") or "medium",
            "size": "1024x1024" if size == "auto" else size,  # gpt-image-2 reports the size it made
            "usage": {"input_tokens": _words(prompt), "input_tokens_details": {"text_tokens": _words(prompt),
                                                                               "image_tokens": 0},
                      "output_tokens": 272 * n, "total_tokens": _words(prompt) + 272 * n},
        })
    response_format = body.get("response_format") or "url"
    items = []
    for index in range(n):
        png = media.png(64, 64, f"{prompt}{index}")
        item = {"b64_json": base64.b64encode(png).decode()} if response_format == "b64_json" else {
            "url": state.file_url(png, "image/png", ".png")}
        if family == "dall-e-3":
            item["revised_prompt"] = f"A detailed rendering of {prompt}"
        items.append(item)
    return FakeResponse(json={"created": int(time.time()), "data": items})


@route("POST", PREFIX + r"/images/generations$", name="openai.images")
def images(req: FakeRequest) -> FakeResponse:
    denied = _auth(req)
    if denied:
        return denied
    body = req.json()
    _require(body, "prompt")
    return _images_response(body, _family(body.get("model") or "dall-e-2"))


@route("POST", PREFIX + r"/images/edits$", name="openai.images_edit")
def images_edit(req: FakeRequest) -> FakeResponse:
    denied = _auth(req)
    if denied:
        return denied
    fields, files = req.multipart()
    uploads = files.get("image[]") or files.get("image") or []
    if not uploads:
        raise BadRequest("Missing required parameter: 'image'.")
    for _, data, _ in uploads:
        try:
            Image.open(io.BytesIO(data)).verify()
        except Exception:
            raise BadRequest("Invalid image file or mode for image 1, please check your image file.") from None
    _require(fields, "prompt")
    return _images_response(fields, _family(fields.get("model") or "dall-e-2"), edit=True)


# ---- speech -------------------------------------------------------------------------------------
@route("POST", PREFIX + r"/audio/speech$", name="openai.speech")
def speech(req: FakeRequest) -> FakeResponse:
    denied = _auth(req)
    if denied:
        return denied
    body = req.json()
    _require(body, "model", "input", "voice")
    if len(body["input"]) > 4096:
        raise BadRequest("[{'type': 'string_too_long', 'loc': ('body', 'input'), 'msg': 'String should have at "
                         "most 4096 characters'}]")
    # OpenAI-compatible Kokoro servers (Kokoro-FastAPI) take Kokoro's voice ids (af_heart, bm_george...).
    voices = KOKORO_VOICE if str(body["model"]).startswith("kokoro") else VOICES
    if not (voices.match(body["voice"]) if voices is KOKORO_VOICE else body["voice"] in VOICES):
        raise BadRequest(f"Invalid value: '{body['voice']}'. Supported values are: "
                         + ", ".join(f"'{v}'" for v in sorted(VOICES)) + ".")
    speed = float(body.get("speed") or 1.0)
    if not 0.25 <= speed <= 4.0:
        raise BadRequest(f"Invalid 'speed': expected a value between 0.25 and 4.0, but got {speed} instead.")
    fmt = body.get("response_format") or "mp3"
    if fmt not in SPEECH_FORMATS:
        raise BadRequest(f"Invalid value: '{fmt}'. Supported values are: "
                         + ", ".join(f"'{f}'" for f in SPEECH_FORMATS) + ".")
    data = media.audio(fmt)
    return FakeResponse(body=data, content_type=SPEECH_FORMATS[fmt])


# ---- videos (Sora) ------------------------------------------------------------------------------
def _video_object(job: dict) -> dict:
    phase = job.get("phase", "queued")
    video = {"id": job["id"], "object": "video", "model": job["model"], "status": phase,
             "progress": job.get("progress", 0), "created_at": int(job["created_at"]), "size": job["size"],
             "seconds": job["seconds"], "quality": "standard", "remixed_from_video_id": None,
             "completed_at": None, "expires_at": None, "error": None}
    if phase == "completed":
        video["completed_at"] = int(time.time())
        video["expires_at"] = int(time.time()) + 86400
    if phase == "failed":
        video["error"] = {"code": "video_generation_failed", "message": "Video generation failed: the render "
                                                                        "could not be completed."}
    return video


@route("POST", PREFIX + r"/videos$", name="openai.videos.create")
def video_create(req: FakeRequest) -> FakeResponse:
    denied = _auth(req)
    if denied:
        return denied
    if req.headers.get("content-type", "").startswith("multipart/"):
        body, files = req.multipart()
    else:
        body, files = req.json() or {}, {}
    _require(body, "prompt")
    model = body.get("model") or "sora-2"
    if model not in {"sora-2", "sora-2-pro"}:
        return openai_error(404, f"The model `{model}` does not exist or you do not have access to it.",
                            "model_not_found")
    seconds = str(body.get("seconds") or "4")
    if seconds not in VIDEO_SECONDS:
        raise BadRequest(f"Invalid value: '{seconds}'. Supported values are: "
                         + ", ".join(f"'{s}'" for s in sorted(VIDEO_SECONDS, key=int)) + ".")
    size = body.get("size") or "720x1280"
    if size not in VIDEO_SIZES:
        raise BadRequest(f"Invalid value: '{size}'. Supported values are: "
                         + ", ".join(f"'{s}'" for s in sorted(VIDEO_SIZES)) + ".")
    if BLOCKED_WORD in body["prompt"].lower():
        return openai_error(400, "Your request was blocked by our moderation system.", "moderation_blocked")
    reference = files.get("input_reference")
    job = state.create_job("openai.videos", model=model, seconds=seconds, size=size, prompt=body["prompt"],
                           id=state.new_id("video_"), has_reference=bool(reference))
    return FakeResponse(json=_video_object(job))


def _video_job(req: FakeRequest) -> dict | None:
    job = state.jobs.get(req.match["id"])
    return job if job and job["route"] == "openai.videos" and not job.get("deleted") else None


@route("GET", PREFIX + r"/videos/(?P<id>[\w-]+)$", name="openai.videos.get")
def video_get(req: FakeRequest) -> FakeResponse:
    denied = _auth(req)
    if denied:
        return denied
    job = _video_job(req)
    if job is None:
        return openai_error(404, f"Video with id '{req.match['id']}' not found.", "not_found")
    phase = state.advance(job)
    job["phase"] = {"pending": "in_progress" if job["progress"] else "queued", "succeeded": "completed",
                    "failed": "failed", "canceled": "failed"}[phase]
    return FakeResponse(json=_video_object(job))


@route("GET", PREFIX + r"/videos/(?P<id>[\w-]+)/content$", name="openai.videos.content")
def video_content(req: FakeRequest) -> FakeResponse:
    denied = _auth(req)
    if denied:
        return denied
    job = _video_job(req)
    if job is None:
        return openai_error(404, f"Video with id '{req.match['id']}' not found.", "not_found")
    if job.get("phase") != "completed":
        return openai_error(400, "Video is not ready yet, use GET /v1/videos/{video_id} to check status.",
                            "video_not_ready")
    variant = req.arg("variant", "video")
    if variant == "thumbnail":
        return FakeResponse(body=media.jpeg(64, 36, job["prompt"]), content_type="image/jpeg")
    if variant != "video":
        raise BadRequest(f"Invalid value: '{variant}'. Supported values are: 'video', 'thumbnail' and 'spritesheet'.")
    return FakeResponse(body=media.mp4(64, 64, 1.0), content_type="video/mp4")


@route("DELETE", PREFIX + r"/videos/(?P<id>[\w-]+)$", name="openai.videos.delete")
def video_delete(req: FakeRequest) -> FakeResponse:
    denied = _auth(req)
    if denied:
        return denied
    job = _video_job(req)
    if job is None:
        return openai_error(404, f"Video with id '{req.match['id']}' not found.", "not_found")
    job["deleted"] = job["canceled"] = True
    return FakeResponse(json={"id": job["id"], "object": "video.deleted", "deleted": True})


@route("GET", PREFIX + r"/models$", name="openai.models")
def models(req: FakeRequest) -> FakeResponse:
    denied = _auth(req)
    if denied:
        return denied
    names = ["gpt-4o-mini", "gpt-image-1", "dall-e-3", "tts-1", "gpt-4o-mini-tts", "sora-2", "sora-2-pro"]
    return FakeResponse(json={"object": "list", "data": [{"id": n, "object": "model", "created": 0,
                                                         "owned_by": "openai"} for n in names]})

"""Fake Replicate predictions API (https://replicate.com/docs/reference/http).

    POST /v1/predictions                          {"version", "input"}        -> prediction
    POST /v1/models/{owner}/{name}/predictions    {"input"}                   -> prediction
    GET  /v1/predictions/{id}                                                  -> prediction
    POST /v1/predictions/{id}/cancel                                           -> prediction

Errors are problem+json bodies {"title", "detail", "status"}. Community models (VERSIONS) run by
version only: the models endpoint answers 404 for them. The models tests run have their input
schemas (SCHEMAS: required inputs, enums, ranges, types) and are refused with Replicate's 422
detail when an input does not fit; others only need a prompt. A token containing "invalid" or
starting with "bad" is refused (401). A prompt containing "forbidden" fails late with
Replicate's NSFW message. Models whose name mentions video/veo/kling/wan (or inputs with a
duration) answer one MP4 URL; music/audio ones a WAV; language models (llama, deepseek, ...) a
list of text pieces, streamed from /v1/streams/{id} when created with "stream": true;
everything else a list of `num_outputs` PNG URLs."""
from __future__ import annotations

from datetime import datetime, timezone

from . import media
from .core import FakeRequest, FakeResponse, error_format, route, state

VIDEO_WORDS = ("video", "veo", "kling", "wan", "seedance", "hailuo")
# Community models run by version only (POST /v1/predictions); the models endpoint serves
# official models. Versions as their Replicate pages publish them.
VERSIONS = {
    "39ed52f2a78e934b3ba6e2a89f5b1c712de7dfea535525255b1aa35c5565e08b": "stability-ai/sdxl",
    "671ac645ce5e552cc63a54a2bbff63fcf798043055d2dac5fc9e36a837eedcfb": "meta/musicgen",
    "f559560eb822dc509045f3921a1921234918b91739db4bf3daab2169b71c7a13": "jaaari/kokoro-82m",
}
COMMUNITY = set(VERSIONS.values()) | {"lightricks/ltx-video"}
ASPECTS = ["1:1", "16:9", "21:9", "3:2", "2:3", "4:5", "5:4", "3:4", "4:3", "9:16", "9:21"]


def _enum(*values):
    return ("enum", list(values))


def _range(kind, low=None, high=None):
    return (kind, low, high)


# Input schemas of the models tests run, from their Replicate API pages (field: spec); "required"
# lists what the model cannot run without. Models not listed here only need a prompt.
SCHEMAS = {
    "black-forest-labs/flux-schnell": {"required": ["prompt"], "fields": {
        "prompt": ("string",), "aspect_ratio": ("enum", ASPECTS), "num_outputs": _range("integer", 1, 4),
        "num_inference_steps": _range("integer", 1, 4), "seed": _range("integer"),
        "output_format": _enum("webp", "jpg", "png"), "output_quality": _range("integer", 0, 100),
        "disable_safety_checker": ("boolean",), "go_fast": ("boolean",), "megapixels": _enum("1", "0.25")}},
    "openai/gpt-image-1": {"required": ["openai_api_key", "prompt"], "fields": {
        "openai_api_key": ("string",), "prompt": ("string",), "aspect_ratio": _enum("1:1", "3:2", "2:3"),
        "input_fidelity": _enum("low", "high"), "input_images": ("array",),
        "number_of_images": _range("integer", 1, 10), "quality": _enum("low", "medium", "high", "auto"),
        "background": _enum("auto", "transparent", "opaque"), "output_compression": _range("integer", 0, 100),
        "output_format": _enum("png", "jpeg", "webp"), "moderation": _enum("auto", "low"), "user_id": ("string",)}},
    "stability-ai/sdxl": {"required": ["prompt"], "fields": {
        "prompt": ("string",), "negative_prompt": ("string",), "image": ("string",), "mask": ("string",),
        "width": _range("integer"), "height": _range("integer"), "num_outputs": _range("integer", 1, 4),
        "scheduler": _enum("DDIM", "DPMSolverMultistep", "HeunDiscrete", "KarrasDPM", "K_EULER_ANCESTRAL",
                           "K_EULER", "PNDM"),
        "num_inference_steps": _range("integer", 1, 500), "guidance_scale": _range("number", 1, 50),
        "prompt_strength": _range("number", 0, 1), "seed": _range("integer"),
        "refine": _enum("no_refiner", "expert_ensemble_refiner", "base_image_refiner"),
        "high_noise_frac": _range("number", 0, 1), "apply_watermark": ("boolean",), "lora_scale": _range("number", 0, 1),
        "disable_safety_checker": ("boolean",)}},
    "meta/musicgen": {"required": [], "fields": {
        "prompt": ("string",), "model_version": _enum("stereo-melody-large", "stereo-large", "melody-large", "large"),
        "duration": _range("integer"), "top_k": _range("integer"), "top_p": _range("number"),
        "temperature": _range("number"), "classifier_free_guidance": _range("integer"),
        "output_format": _enum("wav", "mp3"), "seed": _range("integer"), "continuation": ("boolean",),
        "normalization_strategy": _enum("loudness", "clip", "peak", "rms"), "input_audio": ("string",)}},
    "kwaivgi/kling-v2.1": {"required": ["prompt", "start_image"], "fields": {
        "prompt": ("string",), "negative_prompt": ("string",), "start_image": ("string",), "end_image": ("string",),
        "mode": _enum("standard", "pro"), "duration": _enum(5, 10)}},
    "kwaivgi/kling-v3-video": {"required": ["prompt"], "fields": {
        "prompt": ("string",), "negative_prompt": ("string",), "start_image": ("string",), "end_image": ("string",),
        "mode": _enum("standard", "pro"), "aspect_ratio": _enum("16:9", "9:16", "1:1"),
        "duration": _range("integer", 3, 15), "generate_audio": ("boolean",), "multi_prompt": ("string",)}},
    "black-forest-labs/flux-2-pro": {"required": ["prompt"], "fields": {
        "prompt": ("string",), "input_images": ("array",), "aspect_ratio": ("enum", [*ASPECTS, "custom",
                                                                                      "match_input_image"]),
        "resolution": _enum("match_input_image", "0.5 MP", "1 MP", "2 MP", "4 MP"),
        "width": _range("integer", 256, 2048), "height": _range("integer", 256, 2048),
        "safety_tolerance": _range("integer", 1, 5), "seed": _range("integer"),
        "output_format": _enum("webp", "jpg", "png"), "output_quality": _range("integer", 0, 100)}},
    "alibaba/wan-3": {"required": ["prompt"], "fields": {
        "prompt": ("string",), "negative_prompt": ("string",), "resolution": _enum("480p", "720p", "1080p"),
        "aspect_ratio": _enum("adaptive", "16:9", "9:16", "1:1", "4:3", "3:4"), "duration": _range("integer"),
        "enable_prompt_expansion": ("boolean",), "seed": _range("integer")}},
    "minimax/speech-02-hd": {"required": ["text"], "fields": {
        "text": ("string",), "voice_id": ("string",), "speed": _range("number", 0.5, 2),
        "volume": _range("number", 0, 10), "pitch": _range("integer", -12, 12),
        "emotion": _enum("auto", "happy", "sad", "angry", "fearful", "disgusted", "surprised", "calm", "fluent",
                         "neutral"),
        "sample_rate": _enum(8000, 16000, 22050, 24000, 32000, 44100), "bitrate": _enum(32000, 64000, 128000, 256000),
        "channel": _enum("mono", "stereo"), "audio_format": _enum("mp3", "wav", "flac", "pcm"),
        "language_boost": ("string",), "english_normalization": ("boolean",), "subtitle_enable": ("boolean",)}},
    "jaaari/kokoro-82m": {"required": ["text"], "fields": {
        "text": ("string",), "speed": _range("number", 0.1, 5),
        "voice": _enum("af", "af_bella", "af_sarah", "am_adam", "am_michael", "bf_emma", "bf_isabella", "bm_george",
                       "bm_lewis", "af_nicole", "af_sky")}},
}
TYPES = {"string": str, "boolean": bool, "array": list}


def _input_problem(model: str, payload: dict) -> str | None:
    """Replicate's 422 detail for an input its schema refuses (cog's validation wording)."""
    schema = SCHEMAS.get(model)
    if schema is None:
        if not str(payload.get("prompt", "")).strip():
            return "- input: prompt is required"
        count = payload.get("num_outputs", 1)
        if not isinstance(count, int) or not 1 <= count <= 4:
            return "- input.num_outputs: Must be less than or equal to 4"
        return None
    for name in schema["required"]:
        if payload.get(name) in (None, ""):
            return f"- input: {name} is required"
    for name, value in payload.items():
        spec = schema["fields"].get(name)
        if spec is None:
            continue  # unknown inputs are ignored by cog models
        kind = spec[0]
        if kind == "enum":
            if value not in spec[1]:
                return f"- input.{name}: {name} must be one of the following: " + ", ".join(
                    f'"{choice}"' for choice in spec[1])
            continue
        if kind in TYPES:
            if not isinstance(value, TYPES[kind]):
                return f"- input.{name}: Invalid type. Expected: {kind}, given: {type(value).__name__}"
            continue
        numeric = (int,) if kind == "integer" else (int, float)
        if isinstance(value, bool) or not isinstance(value, numeric):
            return f"- input.{name}: Invalid type. Expected: {kind}, given: {type(value).__name__}"
        low, high = spec[1], spec[2]
        if low is not None and value < low:
            return f"- input.{name}: Must be greater than or equal to {low}"
        if high is not None and value > high:
            return f"- input.{name}: Must be less than or equal to {high}"
    return None
TEXT_WORDS = ("llama", "deepseek", "mistral", "granite", "gemma", "instruct")
AUDIO_WORDS = ("music", "audio", "sound", "speech", "tts")


@error_format("replicate")
def problem(status: int, message: str, code: str = "") -> FakeResponse:
    titles = {400: "Bad request", 401: "Unauthenticated", 404: "Not found", 422: "Input validation failed",
              429: "Too many requests", 500: "Internal server error"}
    return FakeResponse(status=status, json={"title": titles.get(status, "Error"), "detail": message, "status": status},
                        content_type="application/problem+json")


def _iso(timestamp: float | None) -> str | None:
    return datetime.fromtimestamp(timestamp, timezone.utc).isoformat().replace("+00:00", "Z") if timestamp else None


def _refused(req: FakeRequest) -> FakeResponse | None:
    token = req.bearer()
    if not token or "invalid" in token or token.startswith("bad"):
        return problem(401, "You did not pass a valid authentication token")
    return None


def _is_text(job: dict) -> bool:
    return any(word in job["model"].lower() for word in TEXT_WORDS)


def _tokens(job: dict) -> list[str]:
    words = f"You said: {job['input'].get('prompt', '')}".split(" ")
    return [word if i == 0 else " " + word for i, word in enumerate(words)]


def _output(job: dict):
    if _is_text(job):
        return _tokens(job)
    model = job["model"].lower()
    # A bare version id names no model: a duration in the input marks a video model then.
    if any(word in model for word in VIDEO_WORDS) or "duration" in job["input"]:
        return state.file_url(media.mp4(), "video/mp4", ".mp4")
    if any(word in model for word in AUDIO_WORDS):
        return state.file_url(media.audio("wav"), "audio/wav", ".wav")
    count = int(job["input"].get("num_outputs") or 1)
    return [state.file_url(media.png(seed=f"{job['id']}{index}"), "image/png", ".png") for index in range(count)]


def _prediction(job: dict) -> dict:
    base = f"{state.base_url}/v1/predictions/{job['id']}"
    urls = {"get": base, "cancel": base + "/cancel", "web": f"https://replicate.com/p/{job['id']}"}
    if job.get("stream"):
        urls["stream"] = f"{state.base_url}/v1/streams/{job['id']}"
    return {
        "id": job["id"], "model": job["model"], "version": job["version"], "input": job["input"],
        "logs": job.get("logs", ""), "output": job.get("output"), "error": job.get("error"),
        "status": job["status"], "data_removed": False, "created_at": _iso(job["created_at"]),
        "started_at": _iso(job.get("started_at")), "completed_at": _iso(job.get("completed_at")),
        "urls": urls,
        "metrics": job.get("metrics", {}),
    }


def _step(job: dict) -> None:
    """Move a prediction along the way Replicate does: starting -> processing -> final."""
    if job["status"] in ("succeeded", "failed", "canceled"):
        return
    outcome = state.advance(job)
    if outcome == "pending":
        job["status"] = "processing" if job["polls"] > 0 else "starting"
        job.setdefault("started_at", state.now())
        bar = "#" * (job["progress"] // 10)
        job["logs"] = f"Using seed: 42\n {job['progress']:3d}%|{bar:<10}| {job['progress']}/100"
        return
    job["completed_at"] = state.now()
    if outcome == "canceled":
        job["status"] = "canceled"
    elif outcome == "failed" or "forbidden" in str(job["input"].get("prompt", "")).lower():
        job["status"] = "failed"
        job["error"] = (
            "NSFW content detected. Try running it again, or try a different prompt."
            if "forbidden" in str(job["input"].get("prompt", "")).lower()
            else "CUDA error: an illegal memory access was encountered"
        )
    else:
        job["status"] = "succeeded"
        job["output"] = _output(job)
        job["metrics"] = {"predict_time": round(state.now() - job["created_at"], 3)}
        if _is_text(job):
            job["metrics"].update(input_token_count=len(str(job["input"].get("prompt", "")).split()),
                                  output_token_count=len(job["output"]))


def _create(req: FakeRequest, model: str, version: str | None) -> FakeResponse:
    refused = _refused(req)
    if refused:
        return refused
    body = req.json()
    if not isinstance(body, dict) or not isinstance(body.get("input"), dict):
        return problem(422, "- input: input is required")
    payload = body["input"]
    refused = _input_problem(model, payload)
    if refused:
        return problem(422, refused)
    job = state.create_job(req.route_name, id=state.new_id("r"), model=model, version=version, input=payload,
                           status="starting", stream=bool(body.get("stream")))
    wait = req.headers.get("prefer", "")
    if wait.startswith("wait"):
        # Sync mode: if the job can finish within the wait window, answer it finished.
        seconds = float(wait.partition("=")[2] or 60)
        if job["instant"] or job["job_seconds"] <= seconds:
            job["instant"] = True
            _step(job)
    return FakeResponse(status=201, json=_prediction(job))


@route("POST", r"^/v1/predictions$", name="replicate.create")
def create(req: FakeRequest) -> FakeResponse:
    body = req.json()
    version = body.get("version") if isinstance(body, dict) else None
    if not isinstance(version, str) or not version:
        return problem(422, "- version: version is required")
    named, _, version_id = version.rpartition(":")
    model = VERSIONS.get(version_id, named or "community/model")
    if named and model != named:
        return problem(422, f"- version: {version_id} is not a version of {named}")
    return _create(req, model, version_id)


@route("POST", r"^/v1/models/(?P<owner>[\w.-]+)/(?P<name>[\w.-]+)/predictions$", name="replicate.create_model")
def create_for_model(req: FakeRequest) -> FakeResponse:
    model = f"{req.match['owner']}/{req.match['name']}"
    if "missing" in model:
        return problem(404, "The requested resource could not be found.")
    if model in COMMUNITY:
        # Only official models run without a version; a community model's latest version is not implied.
        return problem(404, f"{model} is not an official model: create the prediction at /v1/predictions "
                            "with its version.")
    return _create(req, model, None)


def _job(req: FakeRequest) -> dict | None:
    job = state.jobs.get(req.match["id"])
    return job if job and "model" in job and job["route"].startswith("replicate.") else None


@route("GET", r"^/v1/predictions/(?P<id>[\w-]+)$", name="replicate.get")
def get(req: FakeRequest) -> FakeResponse:
    refused = _refused(req)
    if refused:
        return refused
    job = _job(req)
    if job is None:
        return problem(404, "The requested resource could not be found.")
    _step(job)
    return FakeResponse(json=_prediction(job))


@route("POST", r"^/v1/predictions/(?P<id>[\w-]+)/cancel$", name="replicate.cancel")
def cancel(req: FakeRequest) -> FakeResponse:
    refused = _refused(req)
    if refused:
        return refused
    job = _job(req)
    if job is None:
        return problem(404, "The requested resource could not be found.")
    if job["status"] in ("starting", "processing"):
        job["canceled"] = True
        job["status"] = "canceled"
        job["completed_at"] = state.now()
    return FakeResponse(json=_prediction(job))


@route("GET", r"^/v1/streams/(?P<id>[\w-]+)$", name="replicate.stream")
def stream(req: FakeRequest) -> FakeResponse:
    """Server-sent events of a streaming prediction: one "output" event per token, then "done".
    Like Replicate's stream URLs it needs no key. A "forbidden" prompt streams an "error" event."""
    job = _job(req)
    if job is None or not job.get("stream"):
        return problem(404, "The requested resource could not be found.")
    job["instant"] = True  # streamed to the end: the prediction is done when the stream is

    def events():
        if "forbidden" in str(job["input"].get("prompt", "")).lower():
            yield b'event: error\ndata: {"detail": "NSFW content detected in the output."}\n\n'
            return
        for token in _tokens(job):
            yield f"event: output\nid: 1\ndata: {token}\n\n".encode()
        yield b"event: done\ndata: {}\n\n"

    return FakeResponse(stream=events(), content_type="text/event-stream")

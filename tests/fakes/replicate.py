"""Fake Replicate predictions API (https://replicate.com/docs/reference/http).

    POST /v1/predictions                          {"version", "input"}        -> prediction
    POST /v1/models/{owner}/{name}/predictions    {"input"}                   -> prediction
    GET  /v1/predictions/{id}                                                  -> prediction
    POST /v1/predictions/{id}/cancel                                           -> prediction

Errors are problem+json bodies {"title", "detail", "status"}. A token containing "invalid" or
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
    if not str(payload.get("prompt", "")).strip():
        return problem(422, "- input: prompt is required")
    count = payload.get("num_outputs", 1)
    if not isinstance(count, int) or not 1 <= count <= 4:
        return problem(422, "- input.num_outputs: Must be less than or equal to 4")
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
    model, _, version_id = version.rpartition(":")
    return _create(req, model or "community/model", version_id)


@route("POST", r"^/v1/models/(?P<owner>[\w.-]+)/(?P<name>[\w.-]+)/predictions$", name="replicate.create_model")
def create_for_model(req: FakeRequest) -> FakeResponse:
    model = f"{req.match['owner']}/{req.match['name']}"
    if "missing" in model:
        return problem(404, "The requested resource could not be found.")
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

"""Fake fal.ai queue API (https://fal.ai/docs/model-apis/model-endpoints/queue).

    POST /fal/{model_id}                         -> {request_id, status_url, response_url, cancel_url}
    GET  /fal/{owner}/{app}/requests/{id}/status -> 202 IN_QUEUE / IN_PROGRESS, 200 COMPLETED
    GET  /fal/{owner}/{app}/requests/{id}        -> the result, or the request's error
    PUT  /fal/{owner}/{app}/requests/{id}/cancel -> 202 CANCELLATION_REQUESTED / 400 ALREADY_COMPLETED

The real host (queue.fal.run) serves model ids at its root; here they live under /fal (a channel's
base_url is fake.url + "/fal") so fal's catch-all model paths cannot shadow other providers' routes.

Auth is `Authorization: Key <key>`; a key containing "invalid" or starting with "bad" is refused
(401). Model errors are 422 {"detail": [{"loc", "msg", "type"}]}: a missing prompt, an input the
endpoint's schema refuses (SCHEMAS, for the endpoints tests run), and a prompt
containing "forbidden" (type content_policy_violation). Requests that fail late complete with
`error` / `error_type` in their status, and their result answers 503 {"detail", "error_type"}.
Models with video/veo/seedance/kling in their id answer {"video": {...}} (plus a thumbnail
"image"), audio ones {"audio": {...}}, all others {"images": [...], "has_nsfw_concepts": [...]}."""
from __future__ import annotations

from . import media
from .core import FakeRequest, FakeResponse, error_format, route, state

APP = r"(?P<app>[\w.-]+/[\w.-]+)"


@error_format("fal")
def fal_error(status: int, message: str, code: str = "") -> FakeResponse:
    if status == 422:
        detail = [{"loc": ["body"], "msg": message, "type": code or "value_error"}]
        return FakeResponse(status=422, json={"detail": detail})
    return FakeResponse(status=status, json={"detail": message})


def _refused(req: FakeRequest) -> FakeResponse | None:
    value = req.headers.get("authorization", "")
    if not value.startswith("Key ") or "invalid" in value or value.startswith("Key bad"):
        return FakeResponse(status=401, json={"detail": "Invalid authentication credentials"})
    return None


def _urls(app: str, request_id: str) -> dict:
    base = f"{state.base_url}/fal/{app}/requests/{request_id}"
    return {"status_url": base + "/status", "response_url": base, "cancel_url": base + "/cancel"}


def _result(job: dict) -> dict:
    model = job["model"].lower()
    if any(word in model for word in ("video", "veo", "seedance", "kling")):
        url = state.file_url(media.mp4(), "video/mp4", ".mp4")
        # Some video models also answer a thumbnail image beside the video.
        thumbnail = state.file_url(media.png(seed="thumb"), "image/png", ".png")
        return {"video": {"url": url, "content_type": "video/mp4", "file_name": "output.mp4",
                          "file_size": len(media.mp4())}, "image": {"url": thumbnail}, "seed": 42}
    if "audio" in model or "music" in model or "tts" in model:
        url = state.file_url(media.audio("mp3"), "audio/mpeg", ".mp3")
        return {"audio": {"url": url, "content_type": "audio/mpeg", "file_name": "output.mp3"}}
    count = int(job["input"].get("num_images") or 1)
    flagged = bool(job["input"].get("fake_flag_first"))
    images = [{"url": state.file_url(media.png(seed=f"{job['id']}{i}"), "image/png", ".png"), "width": 64, "height": 64,
               "content_type": "image/png"} for i in range(count)]
    return {"images": images, "timings": {"inference": 0.5}, "seed": 42,
            "has_nsfw_concepts": [flagged and i == 0 for i in range(count)], "prompt": job["input"].get("prompt")}


# Input schemas of endpoints the tests run, from each model's fal API page (llms.txt "Input Schema"):
# field -> ("enum", values) | (type, low, high). Endpoints not listed only need a prompt (or text).
IMAGE_SIZES = ["square_hd", "square", "portrait_4_3", "portrait_16_9", "landscape_4_3", "landscape_16_9"]
VEO_FIELDS = {"prompt": ("string", None, None), "aspect_ratio": ("enum", ["16:9", "9:16"]),
              "duration": ("enum", ["4s", "6s", "8s"]), "negative_prompt": ("string", None, None),
              "resolution": ("enum", ["720p", "1080p"]), "generate_audio": ("boolean", None, None),
              "seed": ("integer", None, None), "enhance_prompt": ("boolean", None, None),
              "auto_fix": ("boolean", None, None)}
SCHEMAS = {
    "fal-ai/flux/dev": {"prompt": ("string", None, None), "image_size": ("image_size", None, None),
                        "num_inference_steps": ("integer", 1, 50), "seed": ("integer", None, None),
                        "guidance_scale": ("number", 1, 20), "num_images": ("integer", 1, 4),
                        "enable_safety_checker": ("boolean", None, None), "sync_mode": ("boolean", None, None),
                        "output_format": ("enum", ["jpeg", "png"]),
                        "acceleration": ("enum", ["none", "regular", "high"])},
    "fal-ai/flux/dev/image-to-image": {
        "prompt": ("string", None, None), "image_url": ("string", None, None), "strength": ("number", 0.01, 1),
        "num_inference_steps": ("integer", 10, 50), "seed": ("integer", None, None),
        "guidance_scale": ("number", 1, 20), "num_images": ("integer", 1, 4),
        "enable_safety_checker": ("boolean", None, None), "sync_mode": ("boolean", None, None),
        "output_format": ("enum", ["jpeg", "png"]), "acceleration": ("enum", ["none", "regular", "high"])},
    "fal-ai/veo3/fast": VEO_FIELDS,
    # MiniMax speech nests the voice and the encoding. fal drops fields its schema lacks; the fake
    # refuses the flat voice fields instead, so that a silently dropped voice fails a test.
    "fal-ai/minimax/speech-02-hd": {"text": ("string", None, None), "voice_setting": ("voice_setting", None, None),
                                    "audio_setting": ("object", None, None), "language_boost": ("string", None, None),
                                    "output_format": ("enum", ["url", "hex"]), "voice": ("absent", None, None),
                                    "speed": ("absent", None, None), "emotion": ("absent", None, None)},
    "fal-ai/veo3.1": {**VEO_FIELDS, "resolution": ("enum", ["720p", "1080p", "4k"])},
}
TYPES = {"string": (str,), "boolean": (bool,), "integer": (int,), "number": (int, float)}


def _invalid(model: str, payload: dict) -> dict | None:
    """fal's 422 detail item (pydantic's loc/msg/type) for the first input the schema refuses."""
    for name, spec in SCHEMAS.get(model, {}).items():
        if name not in payload:
            continue
        value, kind = payload[name], spec[0]
        if kind == "enum":
            if value not in spec[1]:
                allowed = ", ".join(repr(v) for v in spec[1])
                return {"loc": ["body", name], "msg": f"Input should be {allowed}", "type": "enum"}
        elif kind == "absent":
            return {"loc": ["body", name], "msg": "Extra inputs are not permitted", "type": "extra_forbidden"}
        elif kind == "voice_setting":
            voice_id = value.get("voice_id") if isinstance(value, dict) else None
            speed = value.get("speed", 1) if isinstance(value, dict) else None
            if not isinstance(voice_id, str) or not isinstance(speed, (int, float)) or not 0.5 <= speed <= 2:
                return {"loc": ["body", name], "msg": "Input should be a valid VoiceSetting", "type": "model_type"}
        elif kind == "object":
            if not isinstance(value, dict):
                return {"loc": ["body", name], "msg": "Input should be an object", "type": "dict_type"}
        elif kind == "image_size":
            ok = value in IMAGE_SIZES or (isinstance(value, dict) and set(value) == {"width", "height"}
                                          and all(isinstance(v, int) and 0 < v <= 14142 for v in value.values()))
            if not ok:
                return {"loc": ["body", name], "msg": "Input should be a valid ImageSize or one of "
                        + ", ".join(IMAGE_SIZES), "type": "union_tag_invalid"}
        elif isinstance(value, bool) and kind != "boolean" or not isinstance(value, TYPES[kind]):
            return {"loc": ["body", name], "msg": f"Input should be a valid {kind}", "type": f"{kind}_type"}
        elif (spec[1] is not None and value < spec[1]) or (spec[2] is not None and value > spec[2]):
            return {"loc": ["body", name], "msg": f"Input should be between {spec[1]} and {spec[2]}",
                    "type": "value_error"}
    return None


@route("POST", r"^/fal/(?P<model>[\w.-]+/[\w.-]+(?:/[\w.-]+)*)$", name="fal.submit")
def submit(req: FakeRequest) -> FakeResponse:
    refused = _refused(req)
    if refused:
        return refused
    model = req.match["model"]
    if "/requests/" in f"/{model}/":
        return FakeResponse(status=405, json={"detail": "Method Not Allowed"})
    payload = req.json()
    # Speech models read "text"; everything else a prompt.
    if not isinstance(payload, dict) or not str(payload.get("prompt") or payload.get("text") or "").strip():
        return FakeResponse(status=422, json={"detail": [{"loc": ["body", "prompt"], "msg": "field required",
                                                          "type": "value_error.missing"}]})
    if "forbidden" in str(payload.get("prompt") or payload.get("text")).lower():
        return FakeResponse(status=422, json={"detail": [{
            "loc": ["body", "prompt"], "msg": "The content could not be processed because it contained material "
            "flagged by a content checker.", "type": "content_policy_violation"}]})
    problem = _invalid(model, payload)
    if problem:
        return FakeResponse(status=422, json={"detail": [problem]})
    app = "/".join(model.split("/")[:2])
    job = state.create_job(req.route_name, id=state.new_id(), model=model, app=app, input=payload)
    return FakeResponse(status=200, json={"request_id": job["id"], **_urls(app, job["id"]), "queue_position": 0})


def _job(req: FakeRequest) -> dict | None:
    job = state.jobs.get(req.match["id"])
    return job if job and job.get("app") == req.match["app"] else None


def _not_found() -> FakeResponse:
    return FakeResponse(status=404, json={"detail": "Request not found"})


@route("GET", rf"^/fal/{APP}/requests/(?P<id>[\w-]+)/status$", name="fal.status")
def status(req: FakeRequest) -> FakeResponse:
    refused = _refused(req)
    if refused:
        return refused
    job = _job(req)
    if job is None:
        return _not_found()
    if job.get("outcome") is None:
        outcome = state.advance(job)
        if outcome != "pending":
            job["outcome"] = outcome
    body = {**_urls(job["app"], job["id"])}
    if job.get("outcome") is None:
        if job["polls"] <= 1:
            body.update(status="IN_QUEUE", queue_position=0)
        else:
            body.update(status="IN_PROGRESS")
            if req.arg("logs") == "1":
                body["logs"] = [{"message": f"{job['progress']}%|step", "level": "INFO",
                                 "timestamp": "2026-01-01T00:00:00Z"}]
        return FakeResponse(status=202, json=body)
    body.update(status="COMPLETED", logs=None, metrics={"inference_time": 0.5})
    if job["outcome"] == "failed":
        body.update(error="Runner disconnected unexpectedly", error_type="runner_disconnected")
    elif job["outcome"] == "canceled":
        body.update(error="Request was cancelled", error_type="request_cancelled")
    return FakeResponse(status=200, json=body)


@route("GET", rf"^/fal/{APP}/requests/(?P<id>[\w-]+)$", name="fal.result")
def result(req: FakeRequest) -> FakeResponse:
    refused = _refused(req)
    if refused:
        return refused
    job = _job(req)
    if job is None:
        return _not_found()
    if job.get("outcome") is None:
        return FakeResponse(status=400, json={"detail": "Request is still in progress"})
    if job["outcome"] == "failed":
        return FakeResponse(status=503, json={"detail": "Runner disconnected unexpectedly",
                                              "error_type": "runner_disconnected"},
                            headers={"X-Fal-Error-Type": "runner_disconnected"})
    if job["outcome"] == "canceled":
        return FakeResponse(status=400, json={"detail": "Request was cancelled"})
    return FakeResponse(json=_result(job))


@route("PUT", rf"^/fal/{APP}/requests/(?P<id>[\w-]+)/cancel$", name="fal.cancel")
def cancel(req: FakeRequest) -> FakeResponse:
    refused = _refused(req)
    if refused:
        return refused
    job = _job(req)
    if job is None:
        return _not_found()
    if job.get("outcome") is not None:
        return FakeResponse(status=400, json={"status": "ALREADY_COMPLETED"})
    job["canceled"] = True
    job["outcome"] = "canceled"
    return FakeResponse(status=202, json={"status": "CANCELLATION_REQUESTED"})

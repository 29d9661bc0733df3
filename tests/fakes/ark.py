"""Fake BytePlus ModelArk content generation tasks (Seedance video).

    POST   /api/v3/contents/generations/tasks       -> {"id": "cgt-..."}
    GET    /api/v3/contents/generations/tasks/{id}  -> {id, model, status, content, usage, error, ...}
    DELETE /api/v3/contents/generations/tasks/{id}  -> cancels a queued task, deletes a finished one;
                                                       a running task answers 400
    POST   /api/v3/images/generations               -> {"data": [{"url", "size"}], "usage"} (Seedream)

Settings are read from top-level fields or from --commands in the prompt text, not both (like
Ark's strict check), and only the fields each model takes (MODELS: Seedance 2 has no
camera_fixed; Lite t2v takes no image, Lite i2v needs one; reference media only where the model
takes them, never mixed with frames). Errors are {"error": {"code", "message", "param", "type"}}.
A bearer key containing "invalid" or starting with "bad" is refused; a model id not in MODELS does
not exist; a prompt containing "forbidden" is refused at creation (InputTextSensitiveContentDetected); one
containing "unsafe video" fails late with OutputVideoSensitiveContentDetected; fail_late fails
with InternalServiceError. A task is "queued" until its first poll, then "running"."""
from __future__ import annotations

import re

from . import media
from .core import FakeRequest, FakeResponse, error_format, route, state

RATIOS = {"16:9", "4:3", "1:1", "3:4", "9:16", "21:9", "9:21", "adaptive"}
RESOLUTIONS = {"480p", "720p", "1080p"}
ROLES = {"image_url": {"first_frame", "last_frame", "reference_image"}, "video_url": {"reference_video"},
         "audio_url": {"reference_audio"}}
# What each Seedance model takes: text to video or not, the content roles, resolutions, durations,
# and the generation fields it reads from the body (Seedance 2 has no camera_fixed; ComfyUI's
# Seedance2TaskCreationRequest). Lite is two models: t2v takes no image, i2v needs one.
ROLES_1_0 = {"first_frame", "last_frame"}
ROLES_2_0 = {"first_frame", "last_frame", "reference_image", "reference_video", "reference_audio"}
FIELDS_1 = {"ratio", "resolution", "duration", "seed", "camera_fixed", "watermark", "framespersecond"}
FIELDS_2 = {"ratio", "resolution", "duration", "seed", "watermark", "generate_audio"}
MODELS = {
    "seedance-1-0-pro-250528": {"t2v": True, "roles": ROLES_1_0, "durations": (2, 12), "fields": FIELDS_1},
    "seedance-1-0-pro-fast-251015": {"t2v": True, "roles": {"first_frame"}, "durations": (2, 12), "fields": FIELDS_1},
    "seedance-1-0-lite-t2v-250428": {"t2v": True, "roles": set(), "durations": (2, 12), "fields": FIELDS_1},
    "seedance-1-0-lite-i2v-250428": {"t2v": False, "roles": ROLES_1_0 | {"reference_image"}, "durations": (2, 12),
                                     "fields": FIELDS_1},
    "seedance-1-5-pro-251215": {"t2v": True, "roles": ROLES_1_0, "durations": (4, 12),
                                "fields": FIELDS_1 | {"generate_audio"}},
    "dreamina-seedance-2-0-260128": {"t2v": True, "roles": ROLES_2_0, "durations": (4, 15), "fields": FIELDS_2},
    "dreamina-seedance-2-0-fast-260128": {"t2v": True, "roles": ROLES_2_0, "durations": (4, 15), "fields": FIELDS_2,
                                          "resolutions": {"480p", "720p"}},
}
LIMITS_2_0 = {"reference_image": 9, "reference_video": 3, "reference_audio": 3}
COMMAND = re.compile(r"--(\w+)\s+(\S+)")
ALIASES = {"rt": "ratio", "rs": "resolution", "dur": "duration", "cf": "camera_fixed", "camerafixed": "camera_fixed",
           "wm": "watermark", "fps": "framespersecond", "framepersecond": "framespersecond"}
TYPES = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 429: "TooManyRequests",
         500: "InternalServerError"}
CODES = {400: "InvalidParameter", 401: "AuthenticationError", 403: "AccessDenied", 404: "NotFound",
         429: "RateLimitExceeded.EndpointRPMExceeded", 500: "InternalServiceError", 503: "ServerOverloaded"}


@error_format("ark")
def ark_error(status: int, message: str, code: str = "", param: str = "") -> FakeResponse:
    if not code or code == "invalid_request":
        code = CODES.get(status, "InternalServiceError")
    return FakeResponse(status=status, json={"error": {"code": code, "message": message, "param": param,
                                                       "type": TYPES.get(status, "Error")}})


def _refused(req: FakeRequest) -> FakeResponse | None:
    token = req.bearer()
    if not token or "invalid" in token or token.startswith("bad"):
        return ark_error(401, "The API key or AK/SK in the request is missing or invalid.", "AuthenticationError")
    return None


def _invalid(param: str, value, why: str) -> FakeResponse:
    return ark_error(400, f"The parameter `{param}` specified in the request is not valid: {why} (got {value!r}).",
                     "InvalidParameter", param)


def _settings(body: dict, text: str, spec: dict) -> tuple[dict, FakeResponse | None]:
    fields = {k: body[k] for k in body if k not in ("model", "content", "return_last_frame", "callback_url")}
    unknown = sorted(set(fields) - spec["fields"])
    if unknown:
        return {}, _invalid(unknown[0], fields[unknown[0]], f"not supported by the model {body['model']}")
    commands = {ALIASES.get(k, k): v for k, v in COMMAND.findall(text)}
    if fields and commands:
        return {}, ark_error(400, "Generation settings must be given either as request fields or as text commands, "
                                  "not both.", "InvalidParameter")
    settings = dict(fields)
    for key, value in commands.items():
        if key in ("duration", "seed", "framespersecond"):
            try:
                value = int(value)
            except ValueError:
                return {}, _invalid(key, value, "must be an integer")
        elif key in ("camera_fixed", "watermark"):
            value = value.lower() == "true"
        settings[key] = value
    if settings.get("ratio", "16:9") not in RATIOS:
        return {}, _invalid("ratio", settings["ratio"], "unsupported ratio")
    if settings.get("resolution", "720p") not in spec.get("resolutions", RESOLUTIONS):
        return {}, _invalid("resolution", settings["resolution"], f"unsupported resolution for {body['model']}")
    low, high = spec["durations"]
    duration = settings.get("duration", 5)
    if not isinstance(duration, int) or not (low <= duration <= high or duration == -1 and high == 15):
        return {}, _invalid("duration", duration, f"must be between {low} and {high} seconds")
    seed = settings.get("seed", -1)
    if not isinstance(seed, int) or not -1 <= seed <= 4294967295:
        return {}, _invalid("seed", seed, "must be between -1 and 4294967295")
    for flag in ("camera_fixed", "watermark", "generate_audio"):
        if flag in settings and not isinstance(settings[flag], bool):
            return {}, _invalid(flag, settings[flag], "must be a boolean")
    return settings, None


def _check_roles(model: str, spec: dict, roles: list[str]) -> FakeResponse | None:
    images = [r for r in roles if r in ("first_frame", "last_frame", "reference_image")]
    if not spec["t2v"] and not images:
        return _invalid("content", roles, f"the model {model} needs an image (image to video)")
    for role in roles:
        if role not in spec["roles"]:
            return _invalid("content", role, f"the model {model} does not support the {role} role")
    if "last_frame" in roles and "first_frame" not in roles:
        return _invalid("content", roles, "a last_frame needs a first_frame")
    frames = {"first_frame", "last_frame"} & set(roles)
    if frames and set(roles) - frames:
        return _invalid("content", roles, "first and last frames cannot be mixed with reference media")
    limits = LIMITS_2_0 if "reference_video" in spec["roles"] else {"reference_image": 4}
    for role, most in limits.items():
        if roles.count(role) > most:
            return _invalid("content", roles.count(role), f"at most {most} {role} items")
    return None


@route("POST", r"^/api/v3/contents/generations/tasks$", name="ark.create")
def create(req: FakeRequest) -> FakeResponse:
    refused = _refused(req)
    if refused:
        return refused
    body = req.json()
    if not isinstance(body, dict) or not body.get("model"):
        return ark_error(400, "The parameter `model` is required.", "MissingParameter", "model")
    spec = MODELS.get(body["model"])
    if spec is None:
        return ark_error(404, f"The model or endpoint {body['model']} does not exist or you do not have access to it.",
                         "InvalidEndpointOrModel.NotFound")
    content = body.get("content")
    if not isinstance(content, list) or not content:
        return ark_error(400, "The parameter `content` is required.", "MissingParameter", "content")
    texts = [item.get("text", "") for item in content if item.get("type") == "text"]
    if len(texts) > 1:
        return _invalid("content", len(texts), "at most one text item")
    roles = []
    for index, item in enumerate(content):
        kind = item.get("type")
        if kind == "text":
            continue
        if kind not in ROLES or not isinstance(item.get(kind), dict) or not item[kind].get("url"):
            return _invalid(f"content[{index}]", item, "unknown content item")
        if item.get("role", "first_frame") not in ROLES[kind]:
            return _invalid(f"content[{index}].role", item.get("role"), "unsupported role")
        roles.append(item.get("role", "first_frame"))
    problem = _check_roles(body["model"], spec, roles)
    if problem:
        return problem
    text = " ".join(texts)
    settings, problem = _settings(body, text, spec)
    if problem:
        return problem
    if "forbidden" in text.lower():
        return ark_error(400, "The request failed because the input text may contain sensitive information.",
                         "InputTextSensitiveContentDetected")
    job = state.create_job(req.route_name, id="cgt-" + state.new_id(), model=body["model"], text=text, roles=roles,
                           settings=settings, status="queued", created=int(state.now()))
    return FakeResponse(json={"id": job["id"]})


def _task(job: dict) -> dict:
    settings = job["settings"]
    task = {"id": job["id"], "model": job["model"], "status": job["status"], "created_at": job["created"],
            "updated_at": int(state.now())}
    if job["status"] == "succeeded":
        task.update(content=job["content"], usage={"completion_tokens": 108900, "total_tokens": 108900},
                    seed=settings.get("seed", 42), resolution=settings.get("resolution", "720p"),
                    ratio=settings.get("ratio", "16:9"), duration=settings.get("duration", 5), framespersecond=24)
    if job.get("error"):
        task["error"] = job["error"]
    return task


@route("GET", r"^/api/v3/contents/generations/tasks/(?P<id>[\w-]+)$", name="ark.get")
def get(req: FakeRequest) -> FakeResponse:
    refused = _refused(req)
    if refused:
        return refused
    job = state.jobs.get(req.match["id"])
    if job is None or job["route"] != "ark.create":
        return ark_error(404, f"The task {req.match['id']} does not exist.", "ResourceNotFound")
    if job["status"] in ("queued", "running"):
        outcome = state.advance(job)
        if outcome == "pending":
            job["status"] = "running"
        elif outcome == "canceled":
            job["status"] = "cancelled"
        elif outcome == "failed":
            job["status"] = "failed"
            job["error"] = {"code": "InternalServiceError", "message": "The service encountered an unexpected "
                                                                      "internal error."}
        elif "unsafe video" in job["text"].lower():
            job["status"] = "failed"
            job["error"] = {"code": "OutputVideoSensitiveContentDetected",
                            "message": "The request failed because the output video may contain sensitive information."}
        else:
            job["status"] = "succeeded"
            job["content"] = {"video_url": state.file_url(media.mp4(), "video/mp4", ".mp4")}
    return FakeResponse(json=_task(job))


@route("DELETE", r"^/api/v3/contents/generations/tasks/(?P<id>[\w-]+)$", name="ark.cancel")
def delete(req: FakeRequest) -> FakeResponse:
    refused = _refused(req)
    if refused:
        return refused
    job = state.jobs.get(req.match["id"])
    if job is None or job["route"] != "ark.create":
        return ark_error(404, f"The task {req.match['id']} does not exist.", "ResourceNotFound")
    if job["status"] == "running":
        return ark_error(400, "A task in running status cannot be cancelled.", "InvalidParameter")
    if job["status"] == "queued":
        job["canceled"] = True
        job["status"] = "cancelled"
    else:
        del state.jobs[job["id"]]
    return FakeResponse(json={})


SIZE_TIERS = {"1K": 1024, "2K": 2048, "4K": 4096}


@route("POST", r"^/api/v3/images/generations$", name="ark.images")
def images(req: FakeRequest) -> FakeResponse:
    """Seedream, synchronous. "forbidden" in the prompt is refused (400); "unsafe image" gets an
    answer whose only item is an OutputImageSensitiveContentDetected error."""
    refused = _refused(req)
    if refused:
        return refused
    body = req.json()
    if not isinstance(body, dict) or not body.get("model"):
        return ark_error(400, "The parameter `model` is required.", "MissingParameter", "model")
    prompt = str(body.get("prompt") or "")
    if not prompt.strip():
        return ark_error(400, "The parameter `prompt` is required.", "MissingParameter", "prompt")
    size = str(body.get("size", "2K"))
    width, _, height = size.partition("x")
    if size not in SIZE_TIERS and not (width.isdigit() and height.isdigit()):
        return _invalid("size", size, "use 1K, 2K, 4K or WIDTHxHEIGHT")
    seed = body.get("seed", -1)
    if not isinstance(seed, int) or not -1 <= seed <= 2147483647:
        return _invalid("seed", seed, "must be between -1 and 2147483647")
    sources = body.get("image", [])
    if len(sources if isinstance(sources, list) else [sources]) > 10:
        return _invalid("image", len(sources), "at most 10 reference images")
    if "forbidden" in prompt.lower():
        return ark_error(400, "The request failed because the input text may contain sensitive information.",
                         "InputTextSensitiveContentDetected")
    if "unsafe image" in prompt.lower():
        return FakeResponse(json={"model": body["model"], "created": int(state.now()), "data": [{"error": {
            "code": "OutputImageSensitiveContentDetected",
            "message": "The request failed because the output image may contain sensitive information."}}],
            "usage": {"generated_images": 0, "output_tokens": 0, "total_tokens": 0}})
    count = 1
    if body.get("sequential_image_generation") == "auto":
        count = int((body.get("sequential_image_generation_options") or {}).get("max_images", 15))
    data = [{"url": state.file_url(media.jpeg(seed=f"{prompt}{i}"), "image/jpeg", ".jpeg"), "size": "64x64"}
            for i in range(count)]
    return FakeResponse(json={"model": body["model"], "created": int(state.now()), "data": data,
                              "usage": {"generated_images": count, "output_tokens": 16384 * count,
                                        "total_tokens": 16384 * count}})

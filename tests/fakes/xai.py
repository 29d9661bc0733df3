"""Fake xAI video API (Grok Imagine Video).

    POST /xai/videos/generations   {"model", "prompt", "duration", "aspect_ratio", "resolution", "image"}
                                   -> {"request_id"}
    GET  /xai/videos/{request_id}  -> {"status": "pending", "progress"} ... {"status": "done",
                                      "video": {"url", "duration"}, "model"}

The real API root is https://api.x.ai/v1; here it is fake.url + "/xai" (a channel's base_url), so
its paths cannot meet the OpenAI fake's /v1/videos. Strict like the API its clients document: Bearer key (refused when it
starts with "bad"), a known model, a prompt, duration a whole number of 1 to 15 seconds, one of
the seven aspect ratios, the model's resolutions, image as {"url"}. Errors are {"code", "error"}.
A prompt containing "forbidden" fails late with a moderation error; fail_late fails generically."""
from __future__ import annotations

from . import media
from .core import FakeRequest, FakeResponse, error_format, route, state

RESOLUTIONS = {"grok-imagine-video": {"480p", "720p"}, "grok-imagine-video-1.5": {"480p", "720p", "1080p"},
               "grok-imagine-video-1.5-lite": {"480p", "720p"}}
ASPECT_RATIOS = {"1:1", "16:9", "9:16", "4:3", "3:4", "3:2", "2:3"}


@error_format("xai")
def xai_error(status: int, message: str, code: str = "") -> FakeResponse:
    codes = {400: "Client specified an invalid argument", 401: "Unauthenticated", 404: "Not found",
             429: "Too many requests", 500: "Internal error"}
    return FakeResponse(status=status, json={"code": code or codes.get(status, "Error"), "error": message})


def _refused(req: FakeRequest) -> FakeResponse | None:
    key = req.bearer()
    if not key or key.startswith("bad"):
        return xai_error(401, "Incorrect API key provided. You can obtain an API key from https://console.x.ai.")
    return None


@route("POST", r"^/xai/videos/generations$", name="xai.create")
def create(req: FakeRequest) -> FakeResponse:
    refused = _refused(req)
    if refused:
        return refused
    body = req.json()
    if not isinstance(body, dict):
        return xai_error(400, "The request body must be a JSON object.")
    model = body.get("model")
    if model not in RESOLUTIONS:
        return xai_error(404, f"The model {model} does not exist or your team does not have access to it.")
    if not str(body.get("prompt") or "").strip():
        return xai_error(400, "prompt: field required")
    duration = body.get("duration", 8)
    if isinstance(duration, bool) or not isinstance(duration, int) or not 1 <= duration <= 15:
        return xai_error(400, f"duration must be an integer between 1 and 15, got {duration!r}")
    if body.get("aspect_ratio", "16:9") not in ASPECT_RATIOS:
        return xai_error(400, f"aspect_ratio {body['aspect_ratio']!r} is not supported")
    if body.get("resolution", "720p") not in RESOLUTIONS[model]:
        return xai_error(400, f"resolution {body['resolution']!r} is not supported by {model}")
    image = body.get("image")
    if image is not None and (not isinstance(image, dict) or not isinstance(image.get("url"), str)):
        return xai_error(400, "image must be an object with a url")
    job = state.create_job(req.route_name, id=state.new_id("vid_"), model=model, duration=duration,
                           prompt=body["prompt"])
    return FakeResponse(json={"request_id": job["id"]})


@route("GET", r"^/xai/videos/(?P<id>[\w-]+)$", name="xai.get")
def get(req: FakeRequest) -> FakeResponse:
    refused = _refused(req)
    if refused:
        return refused
    job = state.jobs.get(req.match["id"])
    if job is None or job["route"] != "xai.create":
        return xai_error(404, f"Video request {req.match['id']} not found.")
    phase = state.advance(job)
    if phase == "pending":
        return FakeResponse(json={"status": "pending", "progress": job["progress"]})
    if phase == "failed" or "forbidden" in job["prompt"].lower():
        reason = ("The generated video was rejected by content moderation." if "forbidden" in job["prompt"].lower()
                  else "Video generation failed.")
        return FakeResponse(json={"status": "failed", "error": reason})
    if "url" not in job:
        job["url"] = state.file_url(media.mp4(), "video/mp4", ".mp4")
    return FakeResponse(json={"status": "done", "model": job["model"],
                              "video": {"url": job["url"], "duration": job["duration"], "respect_moderation": True}})

"""Fake Veo on the Gemini API (https://ai.google.dev/gemini-api/docs/video), long-running operations.

    POST /v1beta/models/{model}:predictLongRunning   -> {"name": "models/{model}/operations/{id}"}
    GET  /v1beta/models/{model}/operations/{id}      -> {"name"} while running, then done with
                                                        response.generateVideoResponse or error
    GET  /v1beta/files/{id}:download?alt=media       -> 302 to the storage host (needs the API key)
    GET  /veo-storage/{id}                           -> the MP4 (the storage host: no key needed)

The storage redirect goes to `localhost` rather than 127.0.0.1: another origin, as Google's
storage is, so a test can check the API key is not carried across the redirect. Auth and error
shapes are the Gemini fake's. A prompt containing "forbidden" finishes with the video filtered
(raiMediaFilteredCount / raiMediaFilteredReasons); fail_late finishes with an operation error.
Strict like the Gemini API: only the parameters it takes for Veo (no seed, fps or generateAudio),
durations and resolutions per model generation, personGeneration per mode (Veo 3: text to video
allow_all only, image-based allow_adult only), lastFrame only with image, 1 to 3 reference
images of type asset or style and not with frames, sampleCount 1 to 4."""
from __future__ import annotations

import base64
from urllib.parse import urlsplit

from . import media
from .core import FakeRequest, FakeResponse, error_format, route, state
from .gemini import google_error, refused

error_format("veo")(google_error)

ASPECT_RATIOS = {"16:9": (64, 36), "9:16": (36, 64)}
# What the Gemini API takes in "parameters" for Veo (google-genai _GenerateVideosConfig_to_mldev
# maps exactly these; seed, fps, generateAudio, compressionQuality... are Vertex-only).
PARAMETERS = {"sampleCount", "durationSeconds", "aspectRatio", "resolution", "personGeneration", "negativePrompt",
              "enhancePrompt"}
DURATIONS = {"veo-2": {5, 6, 7, 8}, "veo-3": {4, 6, 8}}
RESOLUTIONS = {"veo-3.1": {"720p", "1080p", "4k"}, "veo-3.1-lite": {"720p", "1080p"}, "veo-3": {"720p", "1080p"},
               "veo-2": {"720p"}}
# Veo 3 on the Gemini API: text to video takes allow_all only; image to video, interpolation and
# reference images allow_adult only (Veo 2 was laxer).
PERSON_GENERATION = {"veo-3": {"text": {"allow_all"}, "image": {"allow_adult"}},
                     "veo-2": {"text": {"allow_all", "allow_adult", "dont_allow"}, "image": {"allow_adult", "dont_allow"}}}
REFERENCE_TYPES = {"asset", "style"}


def _generation(model: str) -> str:
    return "veo-2" if model.startswith("veo-2") else "veo-3"


def _resolutions(model: str) -> set:
    if model.startswith("veo-3.1-lite"):
        return RESOLUTIONS["veo-3.1-lite"]
    if model.startswith("veo-3.1"):
        return RESOLUTIONS["veo-3.1"]
    return RESOLUTIONS[_generation(model)]


def _check_image(image, where: str) -> str | None:
    if not isinstance(image, dict) or not image.get("bytesBase64Encoded") or not image.get("mimeType"):
        return f"{where} must have bytesBase64Encoded and mimeType."
    try:
        base64.b64decode(image["bytesBase64Encoded"], validate=True)
    except ValueError:
        return f"{where}.bytesBase64Encoded is not valid base64."
    return None


@route("POST", r"^/v1beta/models/(?P<model>[\w.-]+):predictLongRunning$", name="veo.predict")
def predict(req: FakeRequest) -> FakeResponse:
    denied = refused(req)
    if denied:
        return denied
    body = req.json()
    instances = body.get("instances") if isinstance(body, dict) else None
    if not isinstance(instances, list) or len(instances) != 1:
        return google_error(400, "* PredictLongRunningRequest.instances: exactly one instance is required")
    instance, parameters = instances[0], body.get("parameters") or {}
    if not instance.get("prompt") and not instance.get("image"):
        return google_error(400, "A prompt or an image is required.")
    for key, where in (("image", "instances[0].image"), ("lastFrame", "instances[0].lastFrame")):
        if key in instance:
            problem = _check_image(instance[key], where)
            if problem:
                return google_error(400, problem)
    model = req.match["model"]
    unknown = sorted(set(parameters) - PARAMETERS)
    if unknown:
        return google_error(400, f"`{unknown[0]}` isn't supported by this model. Please remove it or refer to the "
                                 "Gemini API documentation for supported usage.")
    if "referenceImages" in instance:
        references = instance["referenceImages"]
        if not isinstance(references, list) or not 1 <= len(references) <= 3:
            return google_error(400, "referenceImages takes 1 to 3 images.")
        if "image" in instance or "lastFrame" in instance:
            return google_error(400, "referenceImages cannot be combined with image or lastFrame.")
        for index, reference in enumerate(references):
            if str(reference.get("referenceType", "")).lower() not in REFERENCE_TYPES:
                return google_error(400, f"referenceImages[{index}].referenceType must be asset or style.")
            problem = _check_image(reference.get("image"), f"instances[0].referenceImages[{index}].image")
            if problem:
                return google_error(400, problem)
    if "lastFrame" in instance and "image" not in instance:
        return google_error(400, "lastFrame needs image (the first frame).")
    if parameters.get("aspectRatio", "16:9") not in ASPECT_RATIOS:
        return google_error(400, f"Aspect ratio {parameters['aspectRatio']!r} is not supported; use 16:9 or 9:16.")
    durations = DURATIONS[_generation(model)]
    if "durationSeconds" in parameters and parameters["durationSeconds"] not in durations:
        return google_error(400, f"durationSeconds must be one of {sorted(durations)} "
                                 f"(got {parameters['durationSeconds']!r}).")
    if parameters.get("resolution", "720p") not in _resolutions(model):
        return google_error(400, f"resolution {parameters['resolution']!r} is not supported by {model}.")
    mode = "image" if {"image", "lastFrame", "referenceImages"} & set(instance) else "text"
    person = parameters.get("personGeneration")
    if person is not None and person not in PERSON_GENERATION[_generation(model)][mode]:
        return google_error(400, f"{person} for personGeneration is currently not supported.")
    sample_count = parameters.get("sampleCount", 1)
    if not isinstance(sample_count, int) or not 1 <= sample_count <= 4:
        return google_error(400, f"sampleCount must be between 1 and 4 (got {sample_count!r}).")
    job = state.create_job(req.route_name, id=state.new_id(), model=req.match["model"], instance=instance,
                           parameters=parameters)
    return FakeResponse(json={"name": f"models/{job['model']}/operations/{job['id']}"})


@route("GET", r"^/v1beta/models/(?P<model>[\w.-]+)/operations/(?P<id>[\w-]+)$", name="veo.operation")
def operation(req: FakeRequest) -> FakeResponse:
    denied = refused(req)
    if denied:
        return denied
    job = state.jobs.get(req.match["id"])
    if job is None or job.get("model") != req.match["model"] or job["route"] != "veo.predict":
        return google_error(404, "Operation not found.")
    name = f"models/{job['model']}/operations/{job['id']}"
    outcome = job.get("outcome") or state.advance(job)
    if outcome == "pending":
        return FakeResponse(json={"name": name})
    job["outcome"] = outcome
    if outcome == "failed":
        error = {"code": 13, "message": "Video generation failed due to an internal error."}
        return FakeResponse(json={"name": name, "done": True, "error": error})
    kind = "type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningResponse"
    if "forbidden" in str(job["instance"].get("prompt", "")).lower():
        return FakeResponse(json={"name": name, "done": True, "response": {"@type": kind, "generateVideoResponse": {
            "raiMediaFilteredCount": 1,
            "raiMediaFilteredReasons": ["The video could not be generated because it violates the usage guidelines."],
        }}})
    count = int(job["parameters"].get("sampleCount") or 1)
    if "files" not in job:
        job["files"] = [state.new_id() for _ in range(count)]
        for file_id in job["files"]:
            state.files["veo-" + file_id] = (media.mp4(*ASPECT_RATIOS[job["parameters"].get("aspectRatio", "16:9")]),
                                             "video/mp4")
    samples = [{"video": {"uri": f"{state.base_url}/v1beta/files/{file_id}:download?alt=media"}}
               for file_id in job["files"]]
    return FakeResponse(json={"name": name, "done": True,
                              "response": {"@type": kind, "generateVideoResponse": {"generatedSamples": samples}}})


@route("GET", r"^/v1beta/files/(?P<id>[\w-]+):download$", name="veo.download")
def download(req: FakeRequest) -> FakeResponse:
    denied = refused(req)
    if denied:
        return denied
    if "veo-" + req.match["id"] not in state.files:
        return google_error(404, "File not found.")
    parts = urlsplit(state.base_url)
    storage = f"{parts.scheme}://localhost:{parts.port}/veo-storage/{req.match['id']}"
    return FakeResponse(status=302, headers={"Location": storage})


@route("GET", r"^/veo-storage/(?P<id>[\w-]+)$", name="veo.storage")
def storage(req: FakeRequest) -> FakeResponse:
    item = state.files.get("veo-" + req.match["id"])
    if item is None:
        return FakeResponse(status=404, body=b"<Error><Code>NoSuchKey</Code></Error>", content_type="application/xml")
    return FakeResponse(body=item[0], content_type=item[1])

"""AUTOMATIC1111 stable-diffusion-webui API (started with --api): POST /sdapi/v1/txt2img and
/sdapi/v1/img2img answer {"images": [base64...], "parameters": {...}, "info": "<json>"}
synchronously. With more than one image the grid comes first (info.index_of_first_image = 1).
Errors are FastAPI's: 422 {"detail": [...]}, and {"error", "detail", "body", "errors"} for
exceptions. --api-auth makes it ask for HTTP Basic credentials; user names starting with
"bad" are refused."""
from __future__ import annotations

import base64
import binascii
import io
import json

from PIL import Image

from . import media
from .core import FakeRequest, FakeResponse, error_format, route

SAMPLERS = {"Euler", "Euler a", "Heun", "DPM++ 2M", "DPM++ 2M Karras", "DPM++ SDE", "DDIM", "PLMS", "UniPC"}


@error_format("a1111")
def a1111_error(status: int, message: str, code: str = "") -> FakeResponse:
    if status == 422:
        return FakeResponse(status=422, json={"detail": [{"loc": ["body"], "msg": message, "type": "value_error"}]})
    if status in (401, 404):
        return FakeResponse(status=status, json={"detail": message})
    return FakeResponse(status=status, json={"error": code or "RuntimeError", "detail": "", "body": "",
                                             "errors": message})


def _auth(req: FakeRequest) -> FakeResponse | None:
    header = req.headers.get("authorization", "")
    if header.lower().startswith("basic "):
        user = base64.b64decode(header[6:]).decode(errors="replace").partition(":")[0]
        if user.startswith("bad"):
            return FakeResponse(status=401, json={"detail": "Incorrect username or password"},
                                headers={"WWW-Authenticate": "Basic"})
    return None


def _invalid(loc: list, msg: str) -> FakeResponse:
    return FakeResponse(status=422, json={"detail": [{"loc": ["body", *loc], "msg": msg, "type": "value_error"}]})


def _generate(req: FakeRequest, mode: str) -> FakeResponse:
    denied = _auth(req)
    if denied:
        return denied
    body = req.json()
    if not isinstance(body, dict):
        return _invalid([], "value is not a valid dict")
    steps = body.get("steps", 20)
    if not isinstance(steps, int) or not 1 <= steps <= 150:
        return _invalid(["steps"], "ensure this value is less than or equal to 150")
    sampler = body.get("sampler_name") or "Euler"
    if sampler not in SAMPLERS:
        return FakeResponse(status=404, json={"detail": "Sampler not found"})
    width, height = int(body.get("width", 512)), int(body.get("height", 512))
    if mode == "img2img":
        init = body.get("init_images") or []
        if not init:
            return _invalid(["init_images"], "field required")
        for encoded in init:
            try:
                Image.open(io.BytesIO(base64.b64decode(encoded.split(",")[-1], validate=True))).verify()
            except (binascii.Error, ValueError, OSError):
                return FakeResponse(status=500, json={"error": "HTTPException", "detail": "Invalid encoded image",
                                                      "body": "", "errors": ""})
    count = int(body.get("batch_size", 1)) * int(body.get("n_iter", 1))
    seed = int(body.get("seed", -1))
    seed = 1234 if seed == -1 else seed
    small = (max(8, width // 16), max(8, height // 16))
    images = [base64.b64encode(media.png(*small, f"{body.get('prompt')}{i}")).decode() for i in range(count)]
    grid = count > 1
    if grid:
        images.insert(0, base64.b64encode(media.png(small[0] * 2, small[1] * 2, "grid")).decode())
    checkpoint = (body.get("override_settings") or {}).get("sd_model_checkpoint") or "v1-5-pruned-emaonly.safetensors"
    info = {"prompt": body.get("prompt", ""), "all_prompts": [body.get("prompt", "")] * count, "seed": seed,
            "all_seeds": [seed + i for i in range(count)], "width": width, "height": height, "sampler_name": sampler,
            "steps": steps, "sd_model_name": checkpoint.rsplit(".", 1)[0], "index_of_first_image": 1 if grid else 0,
            "infotexts": [f"{body.get('prompt', '')}\nSteps: {steps}, Seed: {seed + i}" for i in range(count)]}
    parameters = {key: value for key, value in body.items() if key != "init_images"}
    return FakeResponse(json={"images": images, "parameters": parameters, "info": json.dumps(info)})


@route("POST", r"^/sdapi/v1/txt2img$", name="a1111.txt2img")
def txt2img(req: FakeRequest) -> FakeResponse:
    return _generate(req, "txt2img")


@route("POST", r"^/sdapi/v1/img2img$", name="a1111.img2img")
def img2img(req: FakeRequest) -> FakeResponse:
    return _generate(req, "img2img")


@route("GET", r"^/sdapi/v1/sd-models$", name="a1111.models")
def sd_models(req: FakeRequest) -> FakeResponse:
    denied = _auth(req)
    if denied:
        return denied
    return FakeResponse(json=[{"title": "v1-5-pruned-emaonly.safetensors [6ce0161689]",
                               "model_name": "v1-5-pruned-emaonly",
                               "filename": "/models/v1-5-pruned-emaonly.safetensors"}])

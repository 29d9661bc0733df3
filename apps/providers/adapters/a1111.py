"""An AUTOMATIC1111 stable-diffusion-webui server (started with --api); synchronous.

txt2img: POST /sdapi/v1/txt2img. With an image_url the source is downloaded (public URLs only)
and sent base64 to POST /sdapi/v1/img2img. The route's upstream model is the checkpoint
(sent as override_settings.sd_model_checkpoint and restored afterwards; "" keeps the loaded
one). The answer's images are base64 PNGs; when a grid is included, info.index_of_first_image
says where the real images start. Credentials: "user:password" for --api-auth (HTTP Basic),
anything else is sent as a Bearer token for a proxy in front.
options: steps, cfg_scale, sampler_name (defaults), timeout."""
from __future__ import annotations

import base64
import binascii
import io
import json

from PIL import Image

from .. import http
from ..base import Adapter, InvalidInput, Job, ModelUnavailable, OutputFile, ProviderResult
from ..inputs import source_bytes
from ..registry import register

DEFAULT_BASE_URL = "http://127.0.0.1:7860"
DEFAULTS = {"steps": 20, "cfg_scale": 7.0, "sampler_name": "Euler a"}
# The catalog's scheduler names (diffusers/Replicate style) as A1111 sampler names.
SAMPLERS = {"DPMSolverMultistep": "DPM++ 2M", "K_EULER": "Euler", "K_EULER_ANCESTRAL": "Euler a", "DDIM": "DDIM",
            "PNDM": "PLMS", "KarrasDPM": "DPM++ 2M Karras", "HeunDiscrete": "Heun"}
ASPECT_SIZES = {"1:1": (1024, 1024), "16:9": (1344, 768), "9:16": (768, 1344), "3:2": (1216, 832),
                "2:3": (832, 1216), "4:3": (1152, 896), "3:4": (896, 1152), "21:9": (1536, 640), "9:21": (640, 1536)}
MAGIC = {b"\x89PNG": "image/png", b"\xff\xd8\xff": "image/jpeg", b"RIFF": "image/webp"}


def _mime(data: bytes) -> str | None:
    return next((mime for magic, mime in MAGIC.items() if data.startswith(magic)), None)


def _auth_headers(api_key: str) -> dict:
    if not api_key:
        return {}
    if ":" in api_key:
        return {"Authorization": "Basic " + base64.b64encode(api_key.encode()).decode()}
    return http.bearer(api_key)


@register
class A1111Adapter(Adapter):
    name = "a1111"

    def submit(self, job: Job) -> ProviderResult:
        if job.modality != "image":
            raise ModelUnavailable("The a1111 adapter only serves image models")
        params, options = job.params, self.channel.options or {}
        if not params.get("prompt"):
            raise InvalidInput("A prompt is required")
        width, height = self._dimensions(params)
        body = {
            "prompt": params["prompt"], "negative_prompt": params.get("negative_prompt") or "",
            "seed": int(params["seed"]) if params.get("seed") is not None else -1,
            "steps": int(params.get("steps") or params.get("num_inference_steps") or options.get("steps")
                         or DEFAULTS["steps"]),
            "cfg_scale": float(params.get("cfg_scale") or params.get("guidance_scale") or options.get("cfg_scale")
                               or DEFAULTS["cfg_scale"]),
            "sampler_name": (params.get("sampler") or SAMPLERS.get(params.get("scheduler") or "")
                             or options.get("sampler_name") or DEFAULTS["sampler_name"]),
            "width": width, "height": height, "batch_size": int(params.get("n") or 1), "n_iter": 1,
            "send_images": True, "save_images": False,
        }
        if job.upstream_model:
            body["override_settings"] = {"sd_model_checkpoint": job.upstream_model}
            body["override_settings_restore_afterwards"] = True
        path = "sdapi/v1/txt2img"
        if params.get("image_url"):
            body["init_images"] = [self._source_b64(job, params["image_url"])]
            # prompt_strength (1 = ignore the source) is what A1111 calls denoising strength.
            strength = next((params[n] for n in ("prompt_strength", "strength", "denoising_strength")
                             if params.get(n) is not None), 0.75)
            body["denoising_strength"] = float(strength)
            path = "sdapi/v1/img2img"
        url = f"{(self.channel.base_url or DEFAULT_BASE_URL).rstrip('/')}/{path}"
        response = http.request(self.channel, "POST", url, json=body, headers=_auth_headers(self.channel.api_key),
                                read_timeout=300, provider=self.name)
        answer = http.json_body(response, provider=self.name)
        return self._result(answer, body)

    @staticmethod
    def _dimensions(params: dict) -> tuple[int, int]:
        width, _, height = str(params.get("size") or "").partition("x")
        if width.isdigit() and height.isdigit():
            return int(width), int(height)
        if params.get("aspect_ratio") in ASPECT_SIZES:
            return ASPECT_SIZES[params["aspect_ratio"]]
        return int(params.get("width") or 512), int(params.get("height") or 512)

    @staticmethod
    def _source_b64(job: Job, url: str) -> str:
        data, _ = source_bytes(job, url)
        try:  # A1111 answers a bad init image with a 500, which would look like an outage
            with Image.open(io.BytesIO(data)) as image:
                image.verify()
        except Exception:
            raise InvalidInput("image_url does not point to a readable image", code="invalid_source_url") from None
        return base64.b64encode(data).decode()

    def _result(self, answer, body: dict) -> ProviderResult:
        if not isinstance(answer, dict) or not isinstance(answer.get("images"), list):
            raise http.bad_response("the answer has no images list", provider=self.name)
        try:
            info = json.loads(answer.get("info") or "{}")
        except (TypeError, ValueError):
            info = {}
        if not isinstance(info, dict):
            info = {}
        images = answer["images"][int(info.get("index_of_first_image") or 0):]
        seeds = info.get("all_seeds") or []
        outputs = []
        for index, encoded in enumerate(images):
            try:
                data = base64.b64decode(str(encoded).split(",")[-1], validate=True)
            except (binascii.Error, ValueError):
                raise http.bad_response("an image is not valid base64", provider=self.name) from None
            mime = _mime(data)
            if mime is None:
                raise http.bad_response("an image is not PNG, JPEG or WebP", provider=self.name)
            meta = {"seed": seeds[index]} if index < len(seeds) else {}
            outputs.append(OutputFile(mime=mime, data=data, width=body["width"], height=body["height"], meta=meta))
        if not outputs:
            raise http.bad_response("the answer has no images", provider=self.name)
        return ProviderResult(status=ProviderResult.SUCCEEDED, outputs=outputs)

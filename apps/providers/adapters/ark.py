"""BytePlus ModelArk / Volcengine Ark: Seedance video tasks and Seedream images.

    POST   {base}/contents/generations/tasks        {"model", "content": [...], ...} -> {"id"}
    GET    {base}/contents/generations/tasks/{id}   -> {id, model, status, content: {video_url}, usage, error}
    DELETE {base}/contents/generations/tasks/{id}   cancels a queued task
    Authorization: Bearer <key>; errors {"error": {"code", "message"}}

`content` holds one text item (the prompt) and image items with a role: first_frame,
last_frame or reference_image (plus reference_video / reference_audio on models that take
them). Generation settings travel either as top-level fields ("ratio", "duration", ...; the
current API) or as commands appended to the prompt ("--ratio 16:9 --duration 5"; what the
Seedance 1.0 models document). options["param_style"] picks one ("body" or "text"); by
default 1.0 models get text commands and later ones body fields.

Images (modality "image", Seedream) are synchronous: POST {base}/images/generations
{"model", "prompt", "size", "image"?, "response_format": "url", ...} -> {"data": [{"url", "size"}], "usage"}.

Parameter names follow Atelier's Seedance table (reference 003): aspect_ratio, duration,
resolution, seed, fixed_lens, generate_audio, image_url, end_image_url, media_urls."""
from __future__ import annotations

import mimetypes
import re
from urllib.parse import urlsplit

import httpx

from .. import http
from ..base import (
    Adapter,
    ContentFiltered,
    InvalidInput,
    Job,
    NotFound,
    OutputFile,
    PermanentError,
    ProviderError,
    ProviderResult,
    RouteUnsupported,
)
from ..registry import register

DEFAULT_BASE_URL = "https://ark.ap-southeast.bytepluses.com/api/v3"
TASKS = "contents/generations/tasks"
IMAGES = "images/generations"
TASK_ID = re.compile(r"^[\w-]{1,100}$")
MODEL_ID = re.compile(r"^[\w.-]+$")
POLL_AFTER = 5.0
# Seedance 1.0 models document the settings as text commands after the prompt.
TEXT_STYLE_MODELS = re.compile(r"seedance-1-0")
# Seedance 2.x takes ratio, duration, resolution, seed, generate_audio and watermark as fields (the
# Seedance2TaskCreationRequest of ComfyUI's BytePlus nodes): no camera_fixed.
NO_CAMERA_FIXED = re.compile(r"seedance-2-")
# Seedance 1.0 Lite is two models: text to video, and image to video (start frame, start and end
# frames, or 1 to 4 reference images); the catalog names the first, images need the second.
LITE_T2V = "-lite-t2v-"
LITE_I2V = "-lite-i2v-"
FILTERED_CODES = ("SensitiveContentDetected", "PolicyViolation", "ContentSecurity")


def _int(value, name: str) -> int:
    try:
        return int(str(value).strip().rstrip("s"))
    except ValueError:
        raise InvalidInput(f"{name} must be a whole number (got {value!r}).") from None


def _media_kind(url: str) -> str:
    mime = mimetypes.guess_type(urlsplit(url).path)[0] or ""
    if url.startswith("data:"):
        mime = url[5:].split(";")[0]
    return mime.split("/")[0] if mime else "image"


def _filtered(code: str) -> bool:
    return any(marker.lower() in code.lower() for marker in FILTERED_CODES)


@register
class ArkAdapter(Adapter):
    name = "ark"
    supports_cancel = True

    # ---- wire ---------------------------------------------------------------------------
    def _send(self, method: str, path: str, *, read_timeout: float = 30.0, **kwargs) -> httpx.Response:
        url = f"{(self.channel.base_url or DEFAULT_BASE_URL).rstrip('/')}/{path}"
        try:
            response = http.client_for(url).request(method, url, headers=http.bearer(self.channel.api_key),
                                                    timeout=http.timeout_for(self.channel, read_timeout), **kwargs)
        except httpx.HTTPError as exc:
            raise http.error_for_transport(exc, provider=self.name) from exc
        if response.status_code >= 400:
            try:
                body = response.json()
            except ValueError:
                body = response.text
            error = body.get("error") if isinstance(body, dict) else None
            code = str(error.get("code") or "") if isinstance(error, dict) else ""
            if response.status_code in (400, 403) and _filtered(code):
                raise ContentFiltered(f"ark: {error.get('message') or code} ({code})", status=response.status_code)
            raise http.error_for(response.status_code, body, response.headers, provider=self.name)
        return response

    def _json(self, response: httpx.Response) -> dict:
        body = http.json_body(response, provider=self.name)
        if not isinstance(body, dict):
            raise http.bad_response("the answer is not a JSON object", provider=self.name)
        return body

    # ---- request --------------------------------------------------------------------------
    def _settings(self, params: dict) -> dict:
        settings: dict = {}
        if params.get("aspect_ratio"):
            settings["ratio"] = str(params["aspect_ratio"])
        if params.get("resolution"):
            settings["resolution"] = str(params["resolution"]).lower()
        if params.get("duration") not in (None, ""):
            settings["duration"] = _int(params["duration"], "duration")
        if params.get("seed") not in (None, ""):
            settings["seed"] = _int(params["seed"], "seed")
        if params.get("fixed_lens", params.get("camera_fixed")):
            settings["camera_fixed"] = True  # off is every model's default: only sent when asked for
        watermark = params.get("watermark", self.channel.options.get("watermark"))
        if watermark is not None:
            settings["watermark"] = bool(watermark)
        if params.get("generate_audio") is not None:
            settings["generate_audio"] = bool(params["generate_audio"])
        return settings

    def _content(self, params: dict) -> list[dict]:
        items = []
        for name, role in (("image_url", "first_frame"), ("end_image_url", "last_frame")):
            if isinstance(params.get(name), str) and params[name]:
                items.append({"type": "image_url", "image_url": {"url": params[name]}, "role": role})
        references = params.get("media_urls") or params.get("reference_image_urls") or []
        for url in references if isinstance(references, list) else [references]:
            kind = _media_kind(url)
            if kind == "video":
                items.append({"type": "video_url", "video_url": {"url": url}, "role": "reference_video"})
            elif kind == "audio":
                items.append({"type": "audio_url", "audio_url": {"url": url}, "role": "reference_audio"})
            else:
                items.append({"type": "image_url", "image_url": {"url": url}, "role": "reference_image"})
        return items

    def model_for(self, job: Job, content: list[dict]) -> str:
        """The model id to send: Seedance 1.0 Lite's image-to-video twin when images come along."""
        model = job.upstream_model
        if LITE_T2V in model and any(item["type"] == "image_url" for item in content):
            return model.replace(LITE_T2V, LITE_I2V)
        return model

    def _body(self, job: Job) -> dict:
        settings = self._settings(job.params)
        style = self.channel.options.get("param_style") or (
            "text" if TEXT_STYLE_MODELS.search(job.upstream_model) else "body")
        if NO_CAMERA_FIXED.search(job.upstream_model):
            if settings.pop("camera_fixed", False):
                raise RouteUnsupported("ark: Seedance 2 takes no camera_fixed (fixed lens)")
        prompt = str(job.params.get("prompt") or "").strip()
        media = self._content(job.params)
        body: dict = {"model": self.model_for(job, media)}
        if style == "text":
            # Text commands cannot carry audio; the 1.0 models that use them make silent video.
            settings.pop("generate_audio", None)
            commands = " ".join(f"--{'camerafixed' if k == 'camera_fixed' else k} {str(v).lower()}"
                                for k, v in settings.items())
            prompt = f"{prompt} {commands}".strip()
        else:
            body.update(settings)
        content = ([{"type": "text", "text": prompt}] if prompt else []) + media
        if not content:
            raise InvalidInput("A prompt or an image is required.")
        body["content"] = content
        if self.channel.options.get("return_last_frame"):
            body["return_last_frame"] = True
        return body

    # ---- the interface --------------------------------------------------------------------
    def submit(self, job: Job) -> ProviderResult:
        if not MODEL_ID.match(job.upstream_model or ""):
            raise RouteUnsupported(f"{job.upstream_model!r} is not an Ark model or endpoint id")
        if job.modality == "image":
            return self._submit_image(job)
        created = self._json(self._send("POST", TASKS, json=self._body(job)))
        task_id = created.get("id")
        if not isinstance(task_id, str) or not TASK_ID.match(task_id):
            raise http.bad_response("the answer has no task id", provider=self.name)
        return ProviderResult(status=ProviderResult.PENDING, upstream_id=task_id, poll_after=self._poll_after())

    def poll(self, job: Job, upstream_id: str) -> ProviderResult:
        task = self._json(self._send("GET", f"{TASKS}/{self._task_id(upstream_id)}"))
        status = task.get("status")
        if status in ("queued", "running"):
            return ProviderResult(status=ProviderResult.PENDING, upstream_id=upstream_id, poll_after=self._poll_after())
        if status == "succeeded":
            content = task.get("content") if isinstance(task.get("content"), dict) else {}
            url = content.get("video_url")
            if not isinstance(url, str) or not url.startswith(("https://", "http://")):
                raise PermanentError("ark: the task succeeded without a video URL", code="upstream_no_output")
            meta = {k: task[k] for k in ("seed", "resolution", "ratio") if k in task}
            if isinstance(content.get("last_frame_url"), str):
                meta["last_frame_url"] = content["last_frame_url"]  # for chaining clips; it expires upstream
            duration = task.get("duration")
            outputs = [OutputFile(mime="video/mp4", url=url, meta=meta,
                                  duration=duration if isinstance(duration, (int, float)) else None)]
            usage = task.get("usage") if isinstance(task.get("usage"), dict) else {}
            return ProviderResult(status=ProviderResult.SUCCEEDED, outputs=outputs, upstream_id=upstream_id,
                                  usage=usage, progress=100)
        if status in ("failed", "expired", "cancelled", "canceled"):
            raise self._task_error(task)
        raise http.bad_response(f"unknown task status {status!r}", provider=self.name)

    def cancel(self, job: Job, upstream_id: str) -> None:
        try:
            self._send("DELETE", f"{TASKS}/{self._task_id(upstream_id)}")
        except (InvalidInput, NotFound):
            return  # a running task cannot be cancelled upstream; one already gone needs nothing

    # ---- images (Seedream): synchronous ---------------------------------------------------
    def _submit_image(self, job: Job) -> ProviderResult:
        params = job.params
        prompt = str(params.get("prompt") or "").strip()
        if not prompt:
            raise InvalidInput("A prompt is required.")
        body: dict = {"model": job.upstream_model, "prompt": prompt, "response_format": "url"}
        for name in ("size", "guidance_scale", "sequential_image_generation"):
            if params.get(name) not in (None, ""):
                body[name] = params[name]
        if params.get("seed") not in (None, ""):
            body["seed"] = _int(params["seed"], "seed")
        watermark = params.get("watermark", self.channel.options.get("watermark"))
        if watermark is not None:
            body["watermark"] = bool(watermark)
        images = [u for u in (params.get("image_urls") or []) if isinstance(u, str) and u]
        if images:
            body["image"] = images[0] if len(images) == 1 else images
        if params.get("sequential_image_generation") == "auto" and params.get("max_images"):
            body["sequential_image_generation_options"] = {"max_images": _int(params["max_images"], "max_images")}
        answer = self._json(self._send("POST", IMAGES, json=body, read_timeout=max(job.timeout, 120.0)))
        outputs, errors = [], []
        for item in answer.get("data") or []:
            if not isinstance(item, dict):
                continue
            if isinstance(item.get("error"), dict):  # one image of a set can fail on its own
                errors.append(item["error"])
            elif isinstance(item.get("url"), str) and item["url"].startswith(("https://", "http://")):
                width, _, height = str(item.get("size") or "").partition("x")
                outputs.append(OutputFile(mime="", url=item["url"],
                                          width=int(width) if width.isdigit() else None,
                                          height=int(height) if height.isdigit() else None))
        if not outputs:
            if errors:
                raise self._task_error({"status": "failed", "error": errors[0]})
            raise PermanentError("ark: the answer has no image", code="upstream_no_output")
        usage = answer.get("usage") if isinstance(answer.get("usage"), dict) else {}
        return ProviderResult(status=ProviderResult.SUCCEEDED, outputs=outputs, usage=usage, progress=100)

    # ---- helpers --------------------------------------------------------------------------
    def _task_id(self, upstream_id: str) -> str:
        if not TASK_ID.match(upstream_id or ""):
            raise InvalidInput(f"{upstream_id!r} is not an Ark task id")
        return upstream_id

    def _poll_after(self) -> float:
        return float(self.channel.options.get("poll_after") or POLL_AFTER)

    def _task_error(self, task: dict) -> ProviderError:
        status = task.get("status")
        error = task.get("error") if isinstance(task.get("error"), dict) else {}
        code = str(error.get("code") or "")
        message = str(error.get("message") or f"the task is {status}")[: http.MAX_ERROR_MESSAGE]
        text = f"ark: {message}" + (f" ({code})" if code else "")
        if status in ("cancelled", "canceled"):
            return PermanentError(text, code="upstream_canceled")
        if status == "expired":
            return PermanentError(text, code="upstream_expired")
        if _filtered(code):
            return ContentFiltered(text)
        if code.startswith(("InvalidParameter", "MissingParameter")):
            return InvalidInput(text)
        return PermanentError(text, code="upstream_failed")

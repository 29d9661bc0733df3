"""Gemini image generation ("Nano Banana") through the Gemini API's generateContent.

    POST {base}/models/{model}:generateContent     x-goog-api-key: <key>
    {"contents": [{"role": "user", "parts": [{"inline_data": {...}}, {"text": prompt}]}],
     "generationConfig": {"responseModalities": ["IMAGE"], "imageConfig": {"aspectRatio", "imageSize"}}}
 -> {"candidates": [{"content": {"parts": [{"inlineData": {"mimeType", "data"}}]}, "finishReason"}],
     "promptFeedback": {"blockReason"}, "usageMetadata": {...}}

Imagen models on the same API answer POST {base}/models/{model}:predict
{"instances": [{"prompt"}], "parameters": {"sampleCount", "aspectRatio", "sampleImageSize"}}
with {"predictions": [{"bytesBase64Encoded", "mimeType"}]}.

Synchronous: the images come back in the answer, base64 encoded. A blocked prompt
(promptFeedback.blockReason) or a blocked result (finishReason SAFETY, IMAGE_SAFETY, ...) is
ContentFiltered. Errors are Google's {"error": {"code", "message", "status", "details"}}.
The Google plumbing here (auth header, error details, inline images) is shared with veo.py."""
from __future__ import annotations

import base64
import binascii
import io
import re
from urllib.parse import unquote_to_bytes

import httpx
from PIL import Image

from .. import http
from ..base import (
    Adapter,
    AuthError,
    ContentFiltered,
    InvalidInput,
    Job,
    OutputFile,
    PermanentError,
    ProviderError,
    ProviderResult,
    RateLimited,
)
from ..registry import register
from ..safe_http import FetchRefused, safe_get

DEFAULT_BASE_URL = "https://generativelanguage.googleapis.com/v1beta"
MODEL_ID = re.compile(r"^[\w.-]+$")
MAX_INPUT_IMAGE_BYTES = 20 * 1024 * 1024
MAX_IMAGES_PER_JOB = 4
# finishReason values that mean the safety system stopped the answer.
BLOCKED_FINISH = {"SAFETY", "IMAGE_SAFETY", "PROHIBITED_CONTENT", "IMAGE_PROHIBITED_CONTENT", "BLOCKLIST", "SPII",
                  "RECITATION", "IMAGE_RECITATION"}
TIER = re.compile(r"^[1248][kK]$")
DURATION = re.compile(r"^(\d+(?:\.\d+)?)s$")


# ---- Google API plumbing (also used by veo.py) -----------------------------------------------
def google_base(adapter: Adapter) -> str:
    return (adapter.channel.base_url or DEFAULT_BASE_URL).rstrip("/")


def google_error(status: int, body, headers, provider: str) -> ProviderError:
    """Google's error body refines the generic mapping: a bad key is a 400 with reason
    API_KEY_INVALID, quota errors carry RetryInfo.retryDelay, FAILED_PRECONDITION is about
    the account (billing, region) rather than the request."""
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        message = str(error.get("message") or f"HTTP {status}")[: http.MAX_ERROR_MESSAGE]
        details = [d for d in error.get("details") or [] if isinstance(d, dict)]
        reasons = {str(d.get("reason", "")) for d in details}
        text = f"{provider} answered {status} {error.get('status', '')}: {message}"
        if reasons & {"API_KEY_INVALID", "API_KEY_SERVICE_BLOCKED", "API_KEY_HTTP_REFERRER_BLOCKED"}:
            return AuthError(text, status=status)
        if error.get("status") == "FAILED_PRECONDITION":
            return AuthError(text, status=status)
        if status == 429:
            delay = None
            for detail in details:
                found = DURATION.match(str(detail.get("retryDelay", "")))
                if found:
                    delay = float(found.group(1))
            if delay is None:
                delay = http.parse_retry_after(httpx.Headers(headers or {}).get("retry-after"))
            return RateLimited(text, retry_after=delay, status=status)
    return http.error_for(status, body, headers, provider=provider)


def google_send(adapter: Adapter, method: str, path: str, *, read_timeout: float, **kwargs) -> dict:
    url = f"{google_base(adapter)}/{path.lstrip('/')}"
    headers = {"x-goog-api-key": adapter.channel.api_key} if adapter.channel.api_key else {}
    try:
        response = http.client_for(url).request(method, url, headers=headers,
                                                timeout=http.timeout_for(adapter.channel, read_timeout), **kwargs)
    except httpx.HTTPError as exc:
        raise http.error_for_transport(exc, provider=adapter.name) from exc
    if response.status_code >= 400:
        try:
            body = response.json()
        except ValueError:
            body = response.text
        raise google_error(response.status_code, body, response.headers, adapter.name)
    body = http.json_body(response, provider=adapter.name)
    if not isinstance(body, dict):
        raise http.bad_response("the answer is not a JSON object", provider=adapter.name)
    return body


def image_bytes(url: str, label: str) -> tuple[bytes, str]:
    """(bytes, mime) of a user's source image given as a data: URI or a public http(s) URL."""
    if not isinstance(url, str) or not url.strip():
        raise InvalidInput(f"{label} is empty.")
    url = url.strip()
    if url.startswith("data:"):
        header, comma, payload = url.partition(",")
        mime = header[5:].split(";")[0].lower()
        if not comma or not mime.startswith("image/"):
            raise InvalidInput(f"{label} must be an image data: URI.")
        if len(payload) > MAX_INPUT_IMAGE_BYTES * 4 // 3 + 4:
            raise InvalidInput(f"{label} is larger than {MAX_INPUT_IMAGE_BYTES // (1024 * 1024)} MB.")
        try:
            data = base64.b64decode(payload) if header.lower().endswith(";base64") else unquote_to_bytes(payload)
        except (binascii.Error, ValueError) as exc:
            raise InvalidInput(f"{label} has broken base64 data.") from exc
    else:
        try:
            data, mime = safe_get(url, max_bytes=MAX_INPUT_IMAGE_BYTES)
        except FetchRefused as exc:
            raise InvalidInput(f"{label} cannot be fetched: {exc}") from exc
        except (httpx.HTTPError, OSError) as exc:
            raise InvalidInput(f"{label} could not be downloaded: {exc}") from exc
        mime = (mime or "").split(";")[0].strip().lower()
    try:
        with Image.open(io.BytesIO(data)) as image:
            detected = Image.MIME.get(image.format or "", "")
    except Exception as exc:  # Pillow raises many types for garbage
        raise InvalidInput(f"{label} is not a readable image.") from exc
    return data, detected or mime


def source_urls(params: dict, *names: str) -> list[str]:
    urls: list[str] = []
    for name in names:
        value = params.get(name)
        if isinstance(value, str) and value:
            urls.append(value)
        elif isinstance(value, list):
            urls.extend(item for item in value if isinstance(item, str) and item)
    return urls


def _size_of(data: bytes) -> tuple[int | None, int | None]:
    try:
        with Image.open(io.BytesIO(data)) as image:
            return image.size
    except Exception:
        return None, None


# ---- the adapter ---------------------------------------------------------------------------
@register
class GeminiImageAdapter(Adapter):
    name = "gemini"

    def _body(self, job: Job) -> dict:
        parts = []
        for index, url in enumerate(source_urls(job.params, "image_url", "image_urls"), start=1):
            data, mime = image_bytes(url, f"Input image {index}")
            parts.append({"inline_data": {"mime_type": mime, "data": base64.b64encode(data).decode()}})
        prompt = str(job.params.get("prompt") or "").strip()
        if prompt:
            parts.append({"text": prompt})
        if not parts:
            raise InvalidInput("A prompt or an input image is required.")
        config: dict = {"responseModalities": list(self.channel.options.get("response_modalities") or ["IMAGE"])}
        # Catalogs name these differently (003's Nano Banana Pro calls the aspect ratio
        # "image_size" and the 1K/2K/4K tier "resolution"), so read them by their values.
        image_config = {}
        candidates = [job.params.get(k) for k in ("aspect_ratio", "image_size", "resolution")]
        aspect = next((str(v) for v in candidates if isinstance(v, str) and ":" in v), None)
        tier = next((str(v).upper() for v in candidates if isinstance(v, str) and TIER.match(v)), None)
        if aspect:
            image_config["aspectRatio"] = aspect
        if tier:
            image_config["imageSize"] = tier
        if image_config:
            config["imageConfig"] = image_config
        if job.params.get("seed") is not None:
            config["seed"] = int(job.params["seed"])
        return {"contents": [{"role": "user", "parts": parts}], "generationConfig": config}

    def submit(self, job: Job) -> ProviderResult:
        if not MODEL_ID.match(job.upstream_model or ""):
            raise InvalidInput(f"{job.upstream_model!r} is not a Gemini model id")
        if job.upstream_model.startswith("imagen-"):
            return self._submit_imagen(job)
        body = self._body(job)
        count = max(1, min(MAX_IMAGES_PER_JOB, int(job.params.get("n") or 1)))
        outputs: list[OutputFile] = []
        usage = {"input_tokens": 0, "output_tokens": 0}
        # The image models answer one candidate per call, so n images are n calls.
        for _ in range(count):
            answer = google_send(self, "POST", f"models/{job.upstream_model}:generateContent", json=body,
                                 read_timeout=max(job.timeout, 120.0))
            outputs.extend(self._images(answer))
            meta = answer.get("usageMetadata") or {}
            usage["input_tokens"] += int(meta.get("promptTokenCount") or 0)
            usage["output_tokens"] += int(meta.get("candidatesTokenCount") or 0)
        return ProviderResult(status=ProviderResult.SUCCEEDED, outputs=outputs, usage=usage, progress=100)

    def _submit_imagen(self, job: Job) -> ProviderResult:
        """Imagen models answer :predict with {"predictions": [{"bytesBase64Encoded", "mimeType"}]}."""
        prompt = str(job.params.get("prompt") or "").strip()
        if not prompt:
            raise InvalidInput("A prompt is required.")
        parameters: dict = {"sampleCount": max(1, min(MAX_IMAGES_PER_JOB, int(job.params.get("n") or 1)))}
        for name, wire in (("aspect_ratio", "aspectRatio"), ("image_size", "sampleImageSize"),
                           ("person_generation", "personGeneration"), ("negative_prompt", "negativePrompt"),
                           ("seed", "seed")):
            if job.params.get(name) not in (None, ""):
                parameters[wire] = job.params[name]
        answer = google_send(self, "POST", f"models/{job.upstream_model}:predict",
                             json={"instances": [{"prompt": prompt}], "parameters": parameters},
                             read_timeout=max(job.timeout, 120.0))
        outputs, filtered = [], []
        for prediction in answer.get("predictions") or []:
            if not isinstance(prediction, dict):
                continue
            if prediction.get("raiFilteredReason") and not prediction.get("bytesBase64Encoded"):
                filtered.append(str(prediction["raiFilteredReason"]))
                continue
            try:
                data = base64.b64decode(prediction.get("bytesBase64Encoded") or "", validate=True)
            except (binascii.Error, ValueError):
                raise http.bad_response("an image is not valid base64", provider=self.name) from None
            if data:
                width, height = _size_of(data)
                outputs.append(OutputFile(mime=str(prediction.get("mimeType") or "image/png"), data=data,
                                          width=width, height=height))
        if not outputs:
            if filtered:
                raise ContentFiltered(f"imagen filtered every image: {filtered[0]}"[: http.MAX_ERROR_MESSAGE])
            # Imagen answers {} when its safety filter removed every image without saying why.
            raise ContentFiltered("imagen returned no image (filtered by the safety system)")
        return ProviderResult(status=ProviderResult.SUCCEEDED, outputs=outputs, progress=100)

    def _images(self, answer: dict) -> list[OutputFile]:
        feedback = answer.get("promptFeedback") or {}
        if feedback.get("blockReason"):
            raise ContentFiltered(f"gemini blocked the prompt ({feedback['blockReason']})")
        candidates = [c for c in answer.get("candidates") or [] if isinstance(c, dict)]
        images, texts, reasons = [], [], []
        for candidate in candidates:
            reasons.append(str(candidate.get("finishReason") or ""))
            for part in (candidate.get("content") or {}).get("parts") or []:
                if not isinstance(part, dict) or part.get("thought"):
                    continue  # thinking models also draw draft images; only the final ones count
                inline = part.get("inlineData") or part.get("inline_data")
                if isinstance(inline, dict) and inline.get("data"):
                    mime = str(inline.get("mimeType") or inline.get("mime_type") or "image/png")
                    try:
                        data = base64.b64decode(inline["data"], validate=True)
                    except (binascii.Error, ValueError):
                        raise http.bad_response("an image part is not valid base64", provider=self.name) from None
                    width, height = _size_of(data)
                    images.append(OutputFile(mime=mime, data=data, width=width, height=height))
                elif part.get("text"):
                    texts.append(str(part["text"]))
        if images:
            return images
        blocked = [r for r in reasons if r in BLOCKED_FINISH]
        if blocked:
            raise ContentFiltered(f"gemini stopped the image for safety ({blocked[0]})")
        said = " ".join(texts).strip()[: http.MAX_ERROR_MESSAGE]
        reason = next((r for r in reasons if r), "no candidates")
        raise PermanentError(f"gemini returned no image ({reason})" + (f": {said}" if said else ""),
                             code="upstream_no_output")

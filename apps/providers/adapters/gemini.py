"""Gemini API: image generation ("Nano Banana", Imagen), chat and speech.

Image generation goes through generateContent:

    POST {base}/models/{model}:generateContent     x-goog-api-key: <key>
    {"contents": [{"role": "user", "parts": [{"inline_data": {...}}, {"text": prompt}]}],
     "generationConfig": {"responseModalities": ["IMAGE"], "imageConfig": {"aspectRatio", "imageSize"}}}
 -> {"candidates": [{"content": {"parts": [{"inlineData": {"mimeType", "data"}}]}, "finishReason"}],
     "promptFeedback": {"blockReason"}, "usageMetadata": {...}}

Imagen models on the same API answer POST {base}/models/{model}:predict
{"instances": [{"prompt"}], "parameters": {"sampleCount", "aspectRatio", "sampleImageSize"}}
with {"predictions": [{"bytesBase64Encoded", "mimeType"}]}.

Synchronous: the images come back in the answer, base64 encoded. Text models (modality "text")
chat through the same generateContent (streamGenerateContent?alt=sse for streaming), OpenAI-
style messages turned into contents + systemInstruction; TTS models (modality "speech") answer
raw PCM that the adapter wraps in WAV.

A blocked prompt (promptFeedback.blockReason) or a blocked result (finishReason SAFETY,
IMAGE_SAFETY, ...) is ContentFiltered. Errors are Google's {"error": {"code", "message", "status", "details"}}.
The Google plumbing here (auth header, error details, inline images) is shared with veo.py."""
from __future__ import annotations

import base64
import binascii
import io
import json
import re
import wave
from typing import Iterator
from urllib.parse import unquote_to_bytes

import httpx
from PIL import Image

from .. import http
from ..base import (
    Adapter,
    AuthError,
    ChatChunk,
    ContentFiltered,
    InvalidInput,
    Job,
    OutputFile,
    PermanentError,
    ProviderError,
    ProviderResult,
    RateLimited,
)
from ..inputs import inline_sources
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
class GeminiAdapter(Adapter):
    name = "gemini"

    def _body(self, job: Job) -> dict:
        parts = []
        for index, url in enumerate(source_urls(inline_sources(job), "image_url", "image_urls"), start=1):
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
        if job.modality == "text":
            return self._chat(job)
        if job.modality == "speech":
            return self._speech(job)
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

    # ---- chat (text models) ---------------------------------------------------------------
    def _parts(self, content) -> list[dict]:
        """OpenAI-style message content -> Gemini parts (text, and images sent inline)."""
        if isinstance(content, str):
            return [{"text": content}]
        parts = []
        for index, item in enumerate(content if isinstance(content, list) else [], start=1):
            if not isinstance(item, dict):
                continue
            if item.get("type") == "text" and item.get("text"):
                parts.append({"text": str(item["text"])})
            elif item.get("type") == "image_url":
                url = item.get("image_url", {}).get("url") if isinstance(item.get("image_url"), dict) else None
                data, mime = image_bytes(url or "", f"Image {index}")
                parts.append({"inline_data": {"mime_type": mime, "data": base64.b64encode(data).decode()}})
        return parts

    def _chat_body(self, job: Job) -> dict:
        params = job.params
        messages = list(params.get("messages") or [])
        system = []
        if not messages:
            prompt = str(params.get("prompt") or "").strip()
            if not prompt:
                raise InvalidInput("A chat needs messages or a prompt.")
            if params.get("system"):
                system.append(str(params["system"]))
            messages = [{"role": "user", "content": prompt}]
        contents = []
        for message in messages:
            role = message.get("role") if isinstance(message, dict) else None
            parts = self._parts(message.get("content")) if role else []
            if role in ("system", "developer"):
                system.extend(part["text"] for part in parts if "text" in part)
            elif parts:
                contents.append({"role": "model" if role == "assistant" else "user", "parts": parts})
        if not contents:
            raise InvalidInput("A chat needs at least one user message.")
        body: dict = {"contents": contents}
        if system:
            body["systemInstruction"] = {"parts": [{"text": "\n\n".join(system)}]}
        config = {}
        for name, wire in (("max_tokens", "maxOutputTokens"), ("temperature", "temperature"), ("top_p", "topP"),
                           ("presence_penalty", "presencePenalty"), ("frequency_penalty", "frequencyPenalty")):
            if params.get(name) is not None:
                config[wire] = params[name]
        if params.get("stop"):
            config["stopSequences"] = [str(params["stop"])]
        if config:
            body["generationConfig"] = config
        return body

    @staticmethod
    def _chat_usage(meta: dict) -> dict:
        # Thinking tokens are billed as output.
        output = int(meta.get("candidatesTokenCount") or 0) + int(meta.get("thoughtsTokenCount") or 0)
        return {"input_tokens": int(meta.get("promptTokenCount") or 0), "output_tokens": output}

    @staticmethod
    def _answer_text(answer: dict) -> tuple[str, str]:
        """(text, finishReason) of the first candidate, thought parts left out."""
        feedback = answer.get("promptFeedback") or {}
        if feedback.get("blockReason"):
            raise ContentFiltered(f"gemini blocked the prompt ({feedback['blockReason']})")
        candidates = [c for c in answer.get("candidates") or [] if isinstance(c, dict)]
        if not candidates:
            return "", ""
        parts = (candidates[0].get("content") or {}).get("parts") or []
        text = "".join(str(p.get("text", "")) for p in parts if isinstance(p, dict) and not p.get("thought"))
        return text, str(candidates[0].get("finishReason") or "")

    def _chat(self, job: Job) -> ProviderResult:
        answer = google_send(self, "POST", f"models/{job.upstream_model}:generateContent", json=self._chat_body(job),
                             read_timeout=max(job.timeout, 120.0))
        text, reason = self._answer_text(answer)
        if not text and reason in BLOCKED_FINISH:
            raise ContentFiltered(f"gemini withheld the answer ({reason})")
        return ProviderResult(status=ProviderResult.SUCCEEDED, text=text,
                              usage=self._chat_usage(answer.get("usageMetadata") or {}))

    def stream_chat(self, job: Job) -> Iterator[ChatChunk]:
        """streamGenerateContent?alt=sse: each event is a partial GenerateContentResponse."""
        if job.modality != "text":
            yield from super().stream_chat(job)
            return
        url = f"{google_base(self)}/models/{job.upstream_model}:streamGenerateContent"
        headers = {"x-goog-api-key": self.channel.api_key, "Accept": "text/event-stream"}
        usage, reason = {}, ""
        try:
            with http.client_for(url).stream("POST", url, params={"alt": "sse"}, json=self._chat_body(job),
                                             headers=headers, timeout=http.timeout_for(self.channel, 120.0)) as reply:
                if reply.status_code >= 400:
                    reply.read()
                    try:
                        body = reply.json()
                    except ValueError:
                        body = reply.text
                    raise google_error(reply.status_code, body, reply.headers, self.name)
                for _event, data in http.iter_sse(reply):
                    try:
                        chunk = json.loads(data)
                    except ValueError:
                        raise http.bad_response("a stream event is not valid JSON", provider=self.name) from None
                    if not isinstance(chunk, dict):
                        raise http.bad_response("a stream event is not a JSON object", provider=self.name)
                    if chunk.get("error"):
                        raise google_error(int(chunk["error"].get("code") or 500), chunk, {}, self.name)
                    text, chunk_reason = self._answer_text(chunk)
                    reason = chunk_reason or reason
                    if chunk.get("usageMetadata"):
                        usage = self._chat_usage(chunk["usageMetadata"])
                    if text:
                        yield ChatChunk(delta=text)
        except httpx.HTTPError as exc:
            raise http.error_for_transport(exc, provider=self.name) from exc
        if reason in BLOCKED_FINISH:
            raise ContentFiltered(f"gemini stopped the answer ({reason})")
        finish = {"STOP": "stop", "MAX_TOKENS": "length"}.get(reason, "stop")
        yield ChatChunk(finish_reason=finish, usage=usage or None)

    # ---- speech (TTS models) --------------------------------------------------------------
    def _speech(self, job: Job) -> ProviderResult:
        text = str(job.params.get("input") or job.params.get("prompt") or "").strip()
        if not text:
            raise InvalidInput("There is no text to speak.")
        # Gemini TTS takes its style direction in plain language, ahead of the words to say.
        instructions = str(job.params.get("instructions") or "").strip()
        spoken = f"{instructions}\n{text}" if instructions else text
        voice = str(job.params.get("voice") or self.channel.options.get("voice") or "Kore")
        body = {"contents": [{"parts": [{"text": spoken}]}], "generationConfig": {
            "responseModalities": ["AUDIO"],
            "speechConfig": {"voiceConfig": {"prebuiltVoiceConfig": {"voiceName": voice}}}}}
        answer = google_send(self, "POST", f"models/{job.upstream_model}:generateContent", json=body,
                             read_timeout=max(job.timeout, 120.0))
        self._answer_text(answer)  # raises on a blocked prompt
        for candidate in answer.get("candidates") or []:
            for part in (candidate.get("content") or {}).get("parts") or []:
                inline = part.get("inlineData") or part.get("inline_data") if isinstance(part, dict) else None
                if isinstance(inline, dict) and inline.get("data"):
                    mime = str(inline.get("mimeType") or inline.get("mime_type") or "")
                    try:
                        data = base64.b64decode(inline["data"], validate=True)
                    except (binascii.Error, ValueError):
                        raise http.bad_response("the audio is not valid base64", provider=self.name) from None
                    audio, mime, seconds = _playable(data, mime)
                    return ProviderResult(status=ProviderResult.SUCCEEDED, progress=100,
                                          outputs=[OutputFile(mime=mime, data=audio, duration=seconds)],
                                          usage={"characters": len(text)})
        reason = next((str(c.get("finishReason")) for c in answer.get("candidates") or [] if c.get("finishReason")),
                      "no candidates")
        if reason in BLOCKED_FINISH:
            raise ContentFiltered(f"gemini withheld the speech ({reason})")
        raise PermanentError(f"gemini returned no audio ({reason})", code="upstream_no_output")


PCM_RATE = re.compile(r"rate=(\d+)")


def _playable(data: bytes, mime: str) -> tuple[bytes, str, float | None]:
    """Gemini TTS answers raw 16-bit mono PCM (audio/L16;codec=pcm;rate=24000): wrap it in WAV."""
    lowered = mime.lower()
    if not (lowered.startswith("audio/l16") or "pcm" in lowered):
        return data, mime.split(";")[0] or "audio/wav", None
    found = PCM_RATE.search(lowered)
    rate = int(found.group(1)) if found else 24000
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(data)
    return buffer.getvalue(), "audio/wav", round(len(data) / 2 / rate, 3)

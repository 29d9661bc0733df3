"""OpenAI: chat completions (streaming over SSE), image generations and edits, speech.

Wire format per OpenAI's API reference. The channel's base_url is the API root with its
version (https://api.openai.com/v1, like the SDKs' base_url); a bare origin gets /v1 added.
options: organization, project (sent as OpenAI-Organization / OpenAI-Project), headers (extra
headers, e.g. OpenRouter's HTTP-Referer), timeout / connect_timeout (seconds)."""
from __future__ import annotations

import base64
import binascii
import json
import math
import mimetypes
from typing import Iterator
from urllib.parse import urlsplit

from .. import http
from ..base import (
    Adapter,
    ChatChunk,
    ContentFiltered,
    InvalidInput,
    Job,
    ModelUnavailable,
    OutputFile,
    PermanentError,
    ProviderResult,
)
from ..inputs import source_bytes
from ..registry import register

# Chat parameters passed through as they are (Atelier uses OpenAI's names).
CHAT_PASSTHROUGH = ("temperature", "top_p", "stop", "presence_penalty", "frequency_penalty", "seed",
                    "response_format", "reasoning_effort", "user", "tools", "tool_choice", "parallel_tool_calls")
IMAGE_MIME = {"png": "image/png", "jpeg": "image/jpeg", "jpg": "image/jpeg", "webp": "image/webp"}
SPEECH_MIME = {"mp3": "audio/mpeg", "wav": "audio/wav", "aac": "audio/aac", "flac": "audio/flac",
               "opus": "audio/ogg", "pcm": "audio/pcm"}
ASPECT_TO_SIZE = {"1:1": "1024x1024", "3:2": "1536x1024", "2:3": "1024x1536", "16:9": "1536x1024",
                  "9:16": "1024x1536", "4:3": "1536x1024", "3:4": "1024x1536"}
# gpt-image-2 takes any WIDTHxHEIGHT with both sides divisible by 16, an aspect ratio between 1:3
# and 3:1, up to 3840x2160 (openai-python ImageGenerateParams.size): an aspect ratio and a 1K / 2K
# / 4K tier become the largest such size of about that many pixels.
TIER_PIXELS = {"1K": 1024 * 1024, "2K": 2048 * 2048, "4K": 3840 * 2160}
MAX_EDGE = 3840
FREE_SIZE_MODELS = ("gpt-image-2",)


def free_size(aspect: str, tier: str) -> str:
    """WIDTHxHEIGHT for an aspect ratio ("16:9", or "auto") at a resolution tier."""
    if aspect == "auto":
        return "auto"
    a, _, b = aspect.partition(":")
    ratio = float(a) / float(b)
    pixels = TIER_PIXELS.get(tier.upper(), TIER_PIXELS["1K"])
    width, height = (pixels * ratio) ** 0.5, (pixels / ratio) ** 0.5
    scale = min(1.0, MAX_EDGE / max(width, height))
    width, height = int(width * scale) // 16 * 16, int(height * scale) // 16 * 16
    # Rounding down can push 3:1 past the limit (1760x576): the short side rounds up instead.
    if width > 3 * height:
        height = math.ceil(width / 48) * 16
    elif height > 3 * width:
        width = math.ceil(height / 48) * 16
    return f"{width}x{height}"


def usage_from(raw: dict | None) -> dict:
    """OpenAI's usage block in Atelier's terms (chat and image usage name their fields differently)."""
    if not raw:
        return {}
    return {"input_tokens": int(raw.get("prompt_tokens", raw.get("input_tokens", 0)) or 0),
            "output_tokens": int(raw.get("completion_tokens", raw.get("output_tokens", 0)) or 0)}


def _valid_tool_calls(calls) -> bool:
    return isinstance(calls, list) and all(
        isinstance(call, dict) and isinstance(call.get("function"), dict) and call.get("id") for call in calls)


def _size_tuple(size: str | None) -> tuple[int | None, int | None]:
    width, _, height = str(size or "").partition("x")
    return (int(width), int(height)) if width.isdigit() and height.isdigit() else (None, None)


@register
class OpenAIAdapter(Adapter):
    name = "openai"
    default_base_url = "https://api.openai.com/v1"
    requires_key = True
    # OpenAI deprecated max_tokens for max_completion_tokens (reasoning models refuse the old one).
    max_tokens_field = "max_completion_tokens"
    # gpt-image models always answer base64; for dall-e this one asks for URLs, which Atelier
    # downloads through safe_http (they are public blob-storage links).
    dalle_response_format = "url"

    # ---- plumbing ---------------------------------------------------------------------------
    def base_url(self) -> str:
        base = (self.channel.base_url or self.default_base_url).rstrip("/")
        if not base:
            raise PermanentError(f"Channel {self.channel.name!r} needs a base URL", code="channel_misconfigured")
        if urlsplit(base).path in ("", "/"):
            base += "/v1"
        return base

    def headers(self) -> dict:
        options = self.channel.options or {}
        if self.requires_key and not self.channel.api_key:
            raise PermanentError(f"Channel {self.channel.name!r} has no API key", code="channel_misconfigured")
        headers = http.bearer(self.channel.api_key)
        if options.get("organization"):
            headers["OpenAI-Organization"] = options["organization"]
        if options.get("project"):
            headers["OpenAI-Project"] = options["project"]
        headers.update(options.get("headers") or {})
        return headers

    def call(self, method: str, path: str, *, read_timeout: float | None = None, **kwargs):
        return http.request(self.channel, method, f"{self.base_url()}/{path.lstrip('/')}", headers=self.headers(),
                            read_timeout=read_timeout, provider=self.name, **kwargs)

    def call_json(self, method: str, path: str, **kwargs) -> dict:
        body = http.json_body(self.call(method, path, **kwargs), provider=self.name)
        if not isinstance(body, dict):
            raise http.bad_response("expected a JSON object", provider=self.name)
        return body

    # ---- dispatch ---------------------------------------------------------------------------
    def submit(self, job: Job) -> ProviderResult:
        handler = {"text": self._chat, "image": self._image, "speech": self._speech}.get(job.modality)
        if handler is None:
            raise ModelUnavailable(f"The {self.name} adapter does not serve {job.modality} models")
        return handler(job)

    # ---- chat -------------------------------------------------------------------------------
    def chat_body(self, job: Job, *, stream: bool = False) -> dict:
        params = job.params
        messages = [dict(m) for m in params.get("messages") or []]
        if not messages:
            if params.get("system"):
                messages.append({"role": "system", "content": params["system"]})
            prompt = params.get("prompt") or params.get("input")
            if not prompt:
                raise InvalidInput("A chat needs messages or a prompt")
            messages.append({"role": "user", "content": prompt})
        images = list(params.get("image_urls") or []) + ([params["image_url"]] if params.get("image_url") else [])
        if images:  # vision: the images join the last user message as content parts
            last = next((m for m in reversed(messages) if m.get("role") == "user"), None)
            if last is None:
                raise InvalidInput("Images need a user message to attach to")
            content = last["content"]
            parts = content if isinstance(content, list) else [{"type": "text", "text": content}]
            last["content"] = parts + [{"type": "image_url", "image_url": {"url": url}} for url in images]
        body = {"model": job.upstream_model, "messages": messages}
        if params.get("max_tokens") is not None:
            body[self.max_tokens_field] = int(params["max_tokens"])
        body.update({name: params[name] for name in CHAT_PASSTHROUGH if params.get(name) is not None})
        if stream:
            body["stream"] = True
            body["stream_options"] = {"include_usage": True}
        return body

    def _chat(self, job: Job) -> ProviderResult:
        body = self.call_json("POST", "chat/completions", json=self.chat_body(job), read_timeout=120)
        choices = body.get("choices")
        if not choices or not isinstance(choices[0], dict) or "message" not in choices[0]:
            raise http.bad_response("the completion has no choices", provider=self.name)
        choice = choices[0]
        if choice.get("finish_reason") == "content_filter":
            raise ContentFiltered(f"{self.name}: the answer was withheld by the provider's content filter")
        message = choice["message"] or {}
        if message.get("refusal") and not message.get("content"):
            raise ContentFiltered(f"{self.name}: the model refused: {message['refusal']}")
        calls = message.get("tool_calls") or None
        if calls is not None and not _valid_tool_calls(calls):
            raise http.bad_response("the completion has malformed tool_calls", provider=self.name)
        return ProviderResult(status=ProviderResult.SUCCEEDED, text=message.get("content") or "",
                              tool_calls=calls, finish_reason=choice.get("finish_reason"),
                              usage=usage_from(body.get("usage")), upstream_id=body.get("id"))

    def stream_chat(self, job: Job) -> Iterator[ChatChunk]:
        body = self.chat_body(job, stream=True)
        with http.stream(self.channel, "POST", f"{self.base_url()}/chat/completions", json=body,
                         headers={**self.headers(), "Accept": "text/event-stream"}, read_timeout=120,
                         provider=self.name) as response:
            finished = False
            for _, data in http.iter_sse(response):
                if data.strip() == "[DONE]":
                    return
                try:
                    chunk = json.loads(data)
                except ValueError:
                    raise http.bad_response("a stream event is not valid JSON", provider=self.name) from None
                if not isinstance(chunk, dict):
                    raise http.bad_response("a stream event is not a JSON object", provider=self.name)
                if chunk.get("error"):  # some gateways report failures inside the stream
                    error = chunk["error"]
                    code = error.get("code") if isinstance(error, dict) else None
                    status = code if isinstance(code, int) else 500
                    raise http.error_for(status, chunk, provider=self.name)
                for choice in chunk.get("choices") or []:
                    delta = choice.get("delta") or {}
                    text = delta.get("content") or ""
                    calls = delta.get("tool_calls") or None
                    finish = choice.get("finish_reason")
                    if finish == "content_filter":
                        raise ContentFiltered(f"{self.name}: the answer was withheld by the provider's content filter")
                    finished = finished or bool(finish)
                    if text or finish or calls:
                        yield ChatChunk(delta=text, finish_reason=finish, tool_calls=calls)
                if chunk.get("usage"):
                    yield ChatChunk(usage=usage_from(chunk["usage"]))
            if not finished:  # the connection closed mid-answer: what arrived is not the whole reply
                raise http.bad_response("the stream ended before the answer was finished", provider=self.name)

    # ---- moderation -------------------------------------------------------------------------
    def moderate(self, texts: list[str], *, model: str) -> list[str]:
        """POST /moderations: the flagged categories over all results."""
        body = self.call_json("POST", "moderations", json={"model": model, "input": texts}, read_timeout=30)
        results = body.get("results")
        if not isinstance(results, list) or not results:
            raise http.bad_response("the moderation answer has no results", provider=self.name)
        flagged = set()
        for result in results:
            if isinstance(result, dict) and result.get("flagged"):
                categories = result.get("categories") or {}
                flagged |= {name for name, hit in categories.items() if hit} or {"flagged"}
        return sorted(flagged)

    # ---- images -----------------------------------------------------------------------------
    @staticmethod
    def is_gpt_image(model: str) -> bool:
        return model.startswith(("gpt-image", "chatgpt-image"))

    def image_fields(self, job: Job) -> dict:
        params, model = job.params, job.upstream_model
        if model.startswith(FREE_SIZE_MODELS) and params.get("aspect_ratio"):
            size = free_size(str(params["aspect_ratio"]), str(params.get("resolution") or "1K"))
        else:
            size = params.get("size") or ASPECT_TO_SIZE.get(params.get("aspect_ratio") or "")
        fields = {"model": model, "prompt": params.get("prompt") or "", "n": int(params.get("n") or 1)}
        if size:
            fields["size"] = size
        if self.is_gpt_image(model):
            for name in ("quality", "background", "output_format", "output_compression", "moderation",
                         "input_fidelity"):
                if params.get(name) not in (None, ""):
                    fields[name] = params[name]
        else:
            for name in ("quality", "style"):
                if params.get(name) not in (None, ""):
                    fields[name] = params[name]
            fields["response_format"] = self.dalle_response_format
        if params.get("user"):
            fields["user"] = params["user"]
        return fields

    def _image(self, job: Job) -> ProviderResult:
        fields = self.image_fields(job)
        sources = list(job.params.get("image_urls") or []) + (
            [job.params["image_url"]] if job.params.get("image_url") else [])
        if sources:
            body = self._image_edit(job, fields, sources)
        else:
            body = self.call_json("POST", "images/generations", json=fields, read_timeout=300)
        items = body.get("data")
        if not isinstance(items, list) or not items:
            raise http.bad_response("the answer has no images", provider=self.name)
        fmt = body.get("output_format") or fields.get("output_format") or "png"
        width, height = _size_tuple(body.get("size") or fields.get("size"))
        outputs = []
        for item in items:
            meta = {"revised_prompt": item["revised_prompt"]} if item.get("revised_prompt") else {}
            if item.get("b64_json"):
                try:
                    data = base64.b64decode(item["b64_json"], validate=True)
                except (binascii.Error, ValueError):
                    raise http.bad_response("an image is not valid base64", provider=self.name) from None
                outputs.append(OutputFile(mime=IMAGE_MIME.get(fmt, "image/png"), data=data, width=width,
                                          height=height, meta=meta))
            elif item.get("url"):
                outputs.append(OutputFile(mime="", url=item["url"], width=width, height=height, meta=meta))
            else:
                raise http.bad_response("an image has neither b64_json nor url", provider=self.name)
        return ProviderResult(status=ProviderResult.SUCCEEDED, outputs=outputs, usage=usage_from(body.get("usage")))

    def _image_edit(self, job: Job, fields: dict, sources: list[str]) -> dict:
        """POST /images/edits (multipart): the source images are downloaded and uploaded."""
        field_name = "image[]" if self.is_gpt_image(job.upstream_model) else "image"
        files = [(name, (None, str(value))) for name, value in fields.items()]
        for index, url in enumerate(sources):
            data, mime = source_bytes(job, url, field="image_urls" if len(sources) > 1 else "image_url")
            mime = mime if mime.startswith("image/") else "image/png"
            extension = (mimetypes.guess_extension(mime) or ".png").lstrip(".")
            files.append((field_name, (f"image-{index}.{extension}", data, mime)))
        if job.params.get("mask_url"):
            data, mime = source_bytes(job, job.params["mask_url"], field="mask_url")
            files.append(("mask", ("mask.png", data, mime or "image/png")))
        return self.call_json("POST", "images/edits", files=files, read_timeout=300)

    # ---- speech -----------------------------------------------------------------------------
    def _speech(self, job: Job) -> ProviderResult:
        params = job.params
        text = params.get("input") or params.get("text") or params.get("prompt")
        if not text:
            raise InvalidInput("Speech needs input text")
        fmt = params.get("response_format") or params.get("output_format") or "mp3"
        body = {"model": job.upstream_model, "input": text, "voice": params.get("voice") or "alloy",
                "response_format": fmt}
        if params.get("speed") is not None:
            body["speed"] = float(params["speed"])
        if params.get("instructions"):
            body["instructions"] = params["instructions"]
        response = self.call("POST", "audio/speech", json=body, read_timeout=180)
        mime = response.headers.get("content-type", "").split(";")[0].strip()
        if mime in ("", "application/octet-stream"):  # untyped bytes: trust the format we asked for
            mime = SPEECH_MIME.get(fmt, "audio/mpeg")
        if not response.content or not mime.startswith("audio/"):
            raise http.bad_response(f"expected audio, got {mime or 'nothing'!r}", provider=self.name)
        return ProviderResult(status=ProviderResult.SUCCEEDED, outputs=[OutputFile(mime=mime, data=response.content)],
                              usage={"characters": len(text)})

"""pollinations.ai gateway, synchronous:
    image, video: GET /image/{prompt} answers the file itself (video for its video models)
    speech:       GET /text/{input}?model=openai-audio&voice=... answers MP3
    text:         POST /v1/chat/completions (the gateway's OpenAI-compatible chat), because it
                  reports token usage (Atelier captures what was used, not the hold) and keeps
                  whole conversations; options.text_endpoint = "simple" uses GET /text/{prompt}
                  instead (one prompt, no usage: the hold is captured in full).
options: private (default true: keep users' prompts out of the public feed), nologo (default
true), safe, enhance, timeout.

Flags travel as "true" or not at all: the gateway reads them with zod's z.coerce.boolean, to
which any non-empty string, "false" included, is true."""
from __future__ import annotations

from dataclasses import replace
from typing import Iterator
from urllib.parse import quote

from .. import http
from ..base import Adapter, ChatChunk, InvalidInput, Job, ModelUnavailable, OutputFile, ProviderResult
from ..registry import register
from .openai_compat import OpenAICompatAdapter

DEFAULT_BASE_URL = "https://gen.pollinations.ai"
MAX_PROMPT_CHARS = 6000  # the prompt travels in the URL path
ASPECTS = {"1:1": (1024, 1024), "16:9": (1344, 768), "9:16": (768, 1344), "4:3": (1152, 864), "3:4": (864, 1152),
           "3:2": (1216, 832), "2:3": (832, 1216)}


def _flag(value) -> str | None:
    """A query flag the gateway reads as its value: "true", or absent (its default, false)."""
    return "true" if value else None


class _PollinationsChat(OpenAICompatAdapter):
    """The gateway's OpenAI-compatible chat (not registered: reached through PollinationsAdapter)."""

    name = "pollinations"


@register
class PollinationsAdapter(Adapter):
    name = "pollinations"

    def _get(self, kind: str, prompt: str, params: dict, read_timeout: float):
        if not prompt:
            raise InvalidInput("A prompt is required")
        if len(prompt) > MAX_PROMPT_CHARS:
            raise InvalidInput(f"pollinations takes prompts up to {MAX_PROMPT_CHARS} characters")
        channel = self.channel
        url = f"{(channel.base_url or DEFAULT_BASE_URL).rstrip('/')}/{kind}/{quote(prompt, safe='')}"
        return http.request(channel, "GET", url, params={k: v for k, v in params.items() if v is not None},
                            headers=http.bearer(channel.api_key), read_timeout=read_timeout, provider=self.name)

    def submit(self, job: Job) -> ProviderResult:
        if job.modality in ("image", "video"):
            return self._media(job)
        if job.modality == "speech":
            return self._speech(job)
        if job.modality == "text":
            return self._text(job) if self._simple_text() else self._chat().submit(job)
        raise ModelUnavailable(f"The pollinations adapter does not serve {job.modality} models")

    def stream_chat(self, job: Job) -> Iterator[ChatChunk]:
        if self._simple_text():
            yield from super().stream_chat(job)
        else:
            yield from self._chat().stream_chat(job)

    def _simple_text(self) -> bool:
        return (self.channel.options or {}).get("text_endpoint") == "simple"

    def _chat(self) -> _PollinationsChat:
        base = (self.channel.base_url or DEFAULT_BASE_URL).rstrip("/") + "/v1"
        return _PollinationsChat(replace(self.channel, base_url=base))

    def _speech(self, job: Job) -> ProviderResult:
        params = job.params
        text = params.get("input") or params.get("text") or params.get("prompt") or ""
        query = {"model": job.upstream_model, "voice": params.get("voice") or "alloy",
                 "private": _flag((self.channel.options or {}).get("private", True))}
        response = self._get("text", text, query, read_timeout=180)
        mime = response.headers.get("content-type", "").split(";")[0].strip()
        if not mime.startswith("audio/") or not response.content:
            raise http.bad_response(f"expected audio, got {mime or 'nothing'!r}", provider=self.name)
        return ProviderResult(status=ProviderResult.SUCCEEDED, outputs=[OutputFile(mime=mime, data=response.content)],
                              usage={"characters": len(text)})

    def _media(self, job: Job) -> ProviderResult:
        params, options = job.params, self.channel.options or {}
        width, height = self._dimensions(params)
        query = {
            "model": job.upstream_model, "width": width, "height": height, "seed": params.get("seed"),
            "negative_prompt": params.get("negative_prompt") or None,
            "private": _flag(options.get("private", True)), "nologo": _flag(options.get("nologo", True)),
            "enhance": _flag(params.get("enhance", options.get("enhance", False))),
            "safe": _flag(options.get("safe", False)),
        }
        if params.get("quality"):
            query["quality"] = params["quality"]
        images = list(params.get("image_urls") or []) + ([params["image_url"]] if params.get("image_url") else [])
        if images:  # reference images are fetched by pollinations itself; "|" cannot occur in a URL's parts
            query["image"] = "|".join(images)
        if job.modality == "video":
            query.update({"duration": params.get("duration"), "aspectRatio": params.get("aspect_ratio"),
                          "audio": _flag(params.get("generate_audio"))})
        read_timeout = 600 if job.modality == "video" else 180
        response = self._get("image", params.get("prompt") or "", query, read_timeout=read_timeout)
        mime = response.headers.get("content-type", "").split(";")[0].strip()
        wanted = "video/" if job.modality == "video" else "image/"
        if not mime.startswith(wanted) or not response.content:
            raise http.bad_response(f"expected {wanted}* content, got {mime or 'nothing'!r}", provider=self.name)
        output = OutputFile(mime=mime, data=response.content, width=width, height=height)
        if job.modality == "video":
            output.width = output.height = None  # the gateway picks the video's frame size
            output.duration = float(params["duration"]) if params.get("duration") else None
        return ProviderResult(status=ProviderResult.SUCCEEDED, outputs=[output])

    @staticmethod
    def _dimensions(params: dict) -> tuple[int | None, int | None]:
        if params.get("width") and params.get("height"):
            return int(params["width"]), int(params["height"])
        width, _, height = str(params.get("size") or "").partition("x")
        if width.isdigit() and height.isdigit():
            return int(width), int(height)
        return ASPECTS.get(params.get("aspect_ratio") or "", (None, None))

    def _text(self, job: Job) -> ProviderResult:
        params = job.params
        prompt = params.get("prompt") or params.get("input")
        if not prompt and params.get("messages"):
            prompt = next((m.get("content") for m in reversed(params["messages"]) if m.get("role") == "user"), "")
        query = {"model": job.upstream_model, "seed": params.get("seed"), "system": params.get("system"),
                 "temperature": params.get("temperature"),
                 "private": _flag((self.channel.options or {}).get("private", True))}
        response = self._get("text", prompt if isinstance(prompt, str) else "", query, read_timeout=120)
        return ProviderResult(status=ProviderResult.SUCCEEDED, text=response.text)

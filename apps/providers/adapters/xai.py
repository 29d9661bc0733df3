"""xAI's video API (Grok Imagine Video), asynchronously.

    POST {base}/videos/generations   {"model", "prompt", "duration", "aspect_ratio", "resolution",
                                      "image": {"url"}}          -> {"request_id"}
    GET  {base}/videos/{request_id}  -> {"status": "pending"} ... {"status": "done",
                                        "video": {"url", "duration"}, "model"} | {"status": "failed", "error"}
    Authorization: Bearer <key>; errors {"code", "error"}.

The wire format follows xAI's video guide as its clients use it (pollinations' xaiVideoModel,
Comfy Router's xai/grok-imagine-video-1.5 schema): durations 1 to 15 seconds, seven aspect
ratios, 480p to 1080p, an optional start image. The finished video is a public URL that
Atelier downloads itself."""
from __future__ import annotations

import re

from .. import http
from ..base import Adapter, ContentFiltered, InvalidInput, Job, ModelUnavailable, OutputFile, PermanentError, ProviderResult
from ..registry import register

DEFAULT_BASE_URL = "https://api.x.ai/v1"
REQUEST_ID = re.compile(r"^[\w-]{1,128}$")
POLL_AFTER = 5.0
PENDING = {"pending", "queued", "processing", "in_progress"}
DONE = {"done", "succeeded", "completed"}
FAILED = {"failed", "expired", "error"}
MODERATION_WORDS = ("moderation", "content policy", "safety", "violat")


@register
class XAIAdapter(Adapter):
    name = "xai"

    def _url(self, path: str) -> str:
        return f"{(self.channel.base_url or DEFAULT_BASE_URL).rstrip('/')}/{path}"

    def _json(self, method: str, path: str, **kwargs) -> dict:
        response = http.request(self.channel, method, self._url(path), headers=http.bearer(self.channel.api_key),
                                provider=self.name, **kwargs)
        body = http.json_body(response, provider=self.name)
        if not isinstance(body, dict):
            raise http.bad_response("the answer is not a JSON object", provider=self.name)
        return body

    def _body(self, job: Job) -> dict:
        params = job.params
        prompt = str(params.get("prompt") or "").strip()
        if not prompt:
            raise InvalidInput("A prompt is required.")
        body: dict = {"model": job.upstream_model, "prompt": prompt}
        for name, wire in (("duration", "duration"), ("aspect_ratio", "aspect_ratio"), ("resolution", "resolution")):
            if params.get(name) not in (None, ""):
                body[wire] = int(params[name]) if wire == "duration" else str(params[name])
        if params.get("image_url"):
            body["image"] = {"url": params["image_url"]}  # xAI fetches it itself
        return body

    def submit(self, job: Job) -> ProviderResult:
        if job.modality != "video":
            raise ModelUnavailable(f"The {self.name} adapter serves video models only")
        answer = self._json("POST", "videos/generations", json=self._body(job), read_timeout=60)
        request_id = answer.get("request_id") or answer.get("id")
        if not isinstance(request_id, str) or not REQUEST_ID.match(request_id):
            raise http.bad_response("the answer has no request_id", provider=self.name)
        return ProviderResult(status=ProviderResult.PENDING, upstream_id=request_id, poll_after=self._poll_after())

    def poll(self, job: Job, upstream_id: str) -> ProviderResult:
        if not REQUEST_ID.match(upstream_id or ""):
            raise InvalidInput(f"{upstream_id!r} is not an xAI request id")
        answer = self._json("GET", f"videos/{upstream_id}", read_timeout=30)
        status = str(answer.get("status") or "").lower()
        progress = answer.get("progress")
        progress = int(progress) if isinstance(progress, (int, float)) else None
        if status in PENDING:
            return ProviderResult(status=ProviderResult.PENDING, upstream_id=upstream_id, progress=progress,
                                  poll_after=self._poll_after())
        if status in DONE:
            video = answer.get("video") if isinstance(answer.get("video"), dict) else {}
            url = video.get("url")
            if not isinstance(url, str) or not url.startswith(("https://", "http://")):
                raise PermanentError("xai: the video is done but has no URL", code="upstream_no_output")
            duration = video.get("duration")
            return ProviderResult(status=ProviderResult.SUCCEEDED, upstream_id=upstream_id, progress=100, outputs=[
                OutputFile(mime="video/mp4", url=url,
                           duration=float(duration) if isinstance(duration, (int, float)) else None)])
        if status in FAILED:
            message = http.error_details(answer.get("error") or "the video failed")[0] or "the video failed"
            if any(word in message.lower() for word in MODERATION_WORDS):
                raise ContentFiltered(f"xai: {message}")
            code = "upstream_expired" if status == "expired" else "upstream_failed"
            raise PermanentError(f"xai: {message}", code=code)
        raise http.bad_response(f"unknown video status {status!r}", provider=self.name)

    def _poll_after(self) -> float:
        return float(self.channel.options.get("poll_after") or POLL_AFTER)

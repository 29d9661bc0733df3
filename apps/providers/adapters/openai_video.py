"""OpenAI's Videos API (Sora): POST /videos (multipart), GET /videos/{id} until the status is
completed or failed, then GET /videos/{id}/content for the MP4. Cancel deletes the video
(DELETE /videos/{id}), the only way the API offers to drop a job."""
from __future__ import annotations

import mimetypes
import re

from .. import http
from ..base import (
    ContentFiltered,
    InvalidInput,
    Job,
    ModelUnavailable,
    NotFound,
    OutputFile,
    PermanentError,
    ProviderResult,
)
from ..inputs import source_bytes
from ..registry import register
from .openai import OpenAIAdapter

VIDEO_ID = re.compile(r"^[\w-]{1,128}$")
# Sizes Sora takes, by (aspect ratio, resolution), for catalog entries that speak in those terms.
SIZES = {("9:16", "720p"): "720x1280", ("16:9", "720p"): "1280x720", ("9:16", "1080p"): "1080x1920",
         ("16:9", "1080p"): "1920x1080", ("9:16", "1792p"): "1024x1792", ("16:9", "1792p"): "1792x1024"}
POLL_AFTER = 5.0  # Sora renders take minutes; polling faster only burns rate limit
CONTENT_CODES = ("moderation", "content_policy", "safety")


@register
class OpenAIVideoAdapter(OpenAIAdapter):
    name = "openai_video"
    supports_cancel = True

    def submit(self, job: Job) -> ProviderResult:
        if job.modality != "video":
            raise ModelUnavailable(f"The {self.name} adapter only serves video models")
        params = job.params
        fields = {"model": job.upstream_model, "prompt": params.get("prompt") or ""}
        seconds = params.get("seconds") or params.get("duration")
        if seconds is not None:
            fields["seconds"] = str(int(seconds))
        size = params.get("size") or SIZES.get((params.get("aspect_ratio"), params.get("resolution") or "720p"))
        if size:
            fields["size"] = size
        files = [(name, (None, value)) for name, value in fields.items()]
        if params.get("image_url"):
            data, mime = source_bytes(job, params["image_url"])
            mime = mime if mime.startswith("image/") else "image/png"
            extension = (mimetypes.guess_extension(mime) or ".png").lstrip(".")
            files.append(("input_reference", (f"reference.{extension}", data, mime)))
        video = self.call_json("POST", "videos", files=files, read_timeout=120)
        if not isinstance(video.get("id"), str) or not VIDEO_ID.match(video["id"]):
            raise http.bad_response("the video job has no usable id", provider=self.name)
        return self._result(job, video)

    def poll(self, job: Job, upstream_id: str) -> ProviderResult:
        if not VIDEO_ID.match(upstream_id or ""):
            raise NotFound(f"{upstream_id!r} is not a video id")
        return self._result(job, self.call_json("GET", f"videos/{upstream_id}", read_timeout=30))

    def cancel(self, job: Job, upstream_id: str) -> None:
        if not VIDEO_ID.match(upstream_id or ""):
            return
        try:
            self.call("DELETE", f"videos/{upstream_id}", read_timeout=30)
        except NotFound:  # already gone
            return

    def _result(self, job: Job, video: dict) -> ProviderResult:
        status = video.get("status")
        progress = video.get("progress")
        progress = int(progress) if isinstance(progress, (int, float)) else None
        if status in ("queued", "in_progress"):
            return ProviderResult(status=ProviderResult.PENDING, upstream_id=video["id"], poll_after=POLL_AFTER,
                                  progress=progress)
        if status == "completed":
            response = self.call("GET", f"videos/{video['id']}/content", params={"variant": "video"},
                                 read_timeout=300)
            if not response.content:
                raise PermanentError(f"{self.name}: the finished video is empty", code="upstream_no_output")
            width, _, height = str(video.get("size") or "").partition("x")
            try:
                duration = float(video.get("seconds")) if video.get("seconds") else None
            except ValueError:
                duration = None
            output = OutputFile(mime="video/mp4", data=response.content,
                                width=int(width) if width.isdigit() else None,
                                height=int(height) if height.isdigit() else None, duration=duration)
            return ProviderResult(status=ProviderResult.SUCCEEDED, upstream_id=video["id"], outputs=[output],
                                  progress=100)
        if status == "failed":
            error = video.get("error") or {}
            message, code = http.error_details({"error": error}) if error else ("the render failed", "")
            if any(marker in f"{code} {message}".lower() for marker in CONTENT_CODES):
                raise ContentFiltered(f"{self.name}: {message}")
            if code in ("invalid_request", "invalid_input"):
                raise InvalidInput(f"{self.name}: {message}")
            raise PermanentError(f"{self.name}: {message}", code="upstream_failed")
        raise http.bad_response(f"unknown video status {status!r}", provider=self.name)

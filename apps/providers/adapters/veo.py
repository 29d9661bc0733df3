"""Veo video generation through the Gemini API's long-running operations.

    POST {base}/models/{model}:predictLongRunning
         {"instances": [{"prompt", "image"?, "lastFrame"?, "referenceImages"?}],
          "parameters": {"aspectRatio", "durationSeconds", "resolution", "negativePrompt", ...}}
      -> {"name": "models/{model}/operations/{id}"}
    GET  {base}/{operation name}
      -> {"done": false} | {"done": true, "response": {"generateVideoResponse": {"generatedSamples":
         [{"video": {"uri"}}], "raiMediaFilteredCount", "raiMediaFilteredReasons"}}} | {"done": true, "error"}

The video URI only answers with the API key, and OutputFile(url=...) is fetched by Atelier
without channel credentials, so the adapter downloads the video itself: the key goes only to
the channel's own origin, any redirect (to Google's storage) is followed by safe_http without
it, and the size is capped."""
from __future__ import annotations

import base64
import re
from urllib.parse import urljoin, urlsplit

import httpx

from .. import http
from ..base import (
    Adapter,
    AuthError,
    ContentFiltered,
    InvalidInput,
    Job,
    OutputFile,
    PermanentError,
    ProviderResult,
    RouteUnsupported,
    TransientError,
)
from ..inputs import inline_sources
from ..registry import register
from ..safe_http import FetchRefused, safe_get
from .gemini import MODEL_ID, google_base, google_send, image_bytes, source_urls

OPERATION = re.compile(r"^models/[\w.-]+/operations/[\w-]+$")
MAX_VIDEO_BYTES = 512 * 1024 * 1024
MAX_REDIRECTS = 5
POLL_AFTER = 10.0  # Veo takes from about 30 seconds to a few minutes
# Atelier's names -> the parameters the Gemini API takes for Veo (google-genai's
# _GenerateVideosConfig_to_mldev): seed, fps, generate_audio and compression are Vertex-only
# there, and the Gemini API's Veo always makes audio, so none of those is sent.
PARAMETERS = {"aspect_ratio": "aspectRatio", "negative_prompt": "negativePrompt", "resolution": "resolution",
              "person_generation": "personGeneration", "duration": "durationSeconds", "n": "sampleCount",
              "enhance_prompt": "enhancePrompt"}
INTEGER_PARAMETERS = {"durationSeconds", "sampleCount"}
# google.rpc.Code numbers in an operation's error.
RPC_INVALID_ARGUMENT, RPC_PERMISSION_DENIED, RPC_UNAUTHENTICATED = 3, 7, 16
SAFETY_WORDS = ("safety", "responsible ai", "filtered", "prohibited", "sensitive", "celebrity")


def _inline(url: str, label: str) -> dict:
    data, mime = image_bytes(url, label)
    return {"bytesBase64Encoded": base64.b64encode(data).decode(), "mimeType": mime}


@register
class VeoAdapter(Adapter):
    name = "veo"

    def _body(self, job: Job) -> dict:
        # The catalog's routes refuse these before a job gets here; a direct caller learns why
        # instead of getting a video that silently ignored them.
        if job.params.get("seed") not in (None, ""):
            raise RouteUnsupported("veo: the Gemini API takes no seed for Veo (Vertex AI does)")
        if job.params.get("generate_audio") is False:
            raise RouteUnsupported("veo: the Gemini API's Veo always generates audio")
        prompt = str(job.params.get("prompt") or "").strip()
        instance: dict = {"prompt": prompt} if prompt else {}
        params = inline_sources(job)  # own media as data: URIs, read from storage
        firsts = source_urls(params, "image_url")
        if firsts:
            instance["image"] = _inline(firsts[0], "Start image")
        lasts = source_urls(params, "end_image_url")
        if lasts:
            instance["lastFrame"] = _inline(lasts[0], "End image")
        references = source_urls(params, "media_urls", "reference_image_urls")
        if references:
            instance["referenceImages"] = [{"image": _inline(url, f"Reference image {i}"), "referenceType": "asset"}
                                           for i, url in enumerate(references, start=1)]
        if not instance:
            raise InvalidInput("A prompt or a start image is required.")
        parameters = {}
        for name, wire in PARAMETERS.items():
            value = job.params.get(name)
            if value is None or value == "":
                continue
            if wire in INTEGER_PARAMETERS:
                try:
                    value = int(str(value).rstrip("s"))
                except ValueError:
                    raise InvalidInput(f"{name} must be a whole number (got {value!r}).") from None
            parameters[wire] = value
        return {"instances": [instance], "parameters": parameters}

    def submit(self, job: Job) -> ProviderResult:
        if not MODEL_ID.match(job.upstream_model or ""):
            raise InvalidInput(f"{job.upstream_model!r} is not a Veo model id")
        answer = google_send(self, "POST", f"models/{job.upstream_model}:predictLongRunning", json=self._body(job),
                             read_timeout=60.0)
        name = answer.get("name")
        if not isinstance(name, str) or not OPERATION.match(name):
            raise http.bad_response("the answer has no operation name", provider=self.name)
        return ProviderResult(status=ProviderResult.PENDING, upstream_id=name, poll_after=self._poll_after())

    def poll(self, job: Job, upstream_id: str) -> ProviderResult:
        if not OPERATION.match(upstream_id or ""):
            raise InvalidInput(f"{upstream_id!r} is not a Veo operation name")
        operation = google_send(self, "GET", upstream_id, read_timeout=30.0)
        if not operation.get("done"):
            return ProviderResult(status=ProviderResult.PENDING, upstream_id=upstream_id, poll_after=self._poll_after())
        if operation.get("error"):
            raise self._operation_error(operation["error"])
        video_response = (operation.get("response") or {}).get("generateVideoResponse") or {}
        samples = [s for s in video_response.get("generatedSamples") or [] if isinstance(s, dict)]
        uris = [s["video"].get("uri") for s in samples if isinstance(s.get("video"), dict)]
        uris = [u for u in uris if isinstance(u, str) and u]
        if not uris:
            reasons = "; ".join(str(r) for r in video_response.get("raiMediaFilteredReasons") or [])
            if video_response.get("raiMediaFilteredCount") or reasons:
                message = f"veo filtered the video: {reasons or 'no reason given'}"
                raise ContentFiltered(message[: http.MAX_ERROR_MESSAGE])
            raise PermanentError("veo finished without a video", code="upstream_no_output")
        outputs = [OutputFile(mime="video/mp4", data=self._download(uri), meta={"upstream_uri": uri.split("?")[0]})
                   for uri in uris]
        return ProviderResult(status=ProviderResult.SUCCEEDED, outputs=outputs, upstream_id=upstream_id, progress=100)

    # ---- helpers --------------------------------------------------------------------------
    def _poll_after(self) -> float:
        return float(self.channel.options.get("poll_after") or POLL_AFTER)

    def _operation_error(self, error: dict) -> PermanentError:
        message = str(error.get("message") or "the operation failed")[: http.MAX_ERROR_MESSAGE]
        code = error.get("code")
        if any(word in message.lower() for word in SAFETY_WORDS):
            return ContentFiltered(f"veo: {message}")
        if code == RPC_INVALID_ARGUMENT:
            return InvalidInput(f"veo: {message}")
        if code in (RPC_PERMISSION_DENIED, RPC_UNAUTHENTICATED):
            return AuthError(f"veo: {message}")
        return PermanentError(f"veo: {message}", code="upstream_failed")

    def _max_bytes(self) -> int:
        return int(self.channel.options.get("max_download_bytes") or MAX_VIDEO_BYTES)

    def _download(self, uri: str) -> bytes:
        origin = urlsplit(google_base(self))
        url = uri
        for _ in range(MAX_REDIRECTS + 1):
            target = urlsplit(url)
            if target.scheme not in ("http", "https"):
                raise PermanentError(f"veo: video URI {url[:80]!r} is not http(s)", code="upstream_bad_output")
            if (target.scheme, target.netloc) != (origin.scheme, origin.netloc):
                return self._download_public(url)
            # Only the channel's own origin may see the key.
            with self._stream(url) as response:
                if response.is_redirect:
                    url = urljoin(url, response.headers.get("location", ""))
                    continue
                return self._read_capped(response)
        raise PermanentError("veo: too many redirects for the video", code="upstream_bad_output")

    def _stream(self, url: str):
        return http.stream(self.channel, "GET", url, read_timeout=120.0, provider=self.name,
                           headers={"x-goog-api-key": self.channel.api_key})

    def _read_capped(self, response: httpx.Response) -> bytes:
        limit = self._max_bytes()
        if int(response.headers.get("content-length") or 0) > limit:
            raise PermanentError(f"veo: the video is over {limit} bytes", code="output_too_large")
        chunks, total = [], 0
        try:
            for chunk in response.iter_bytes():
                total += len(chunk)
                if total > limit:
                    raise PermanentError(f"veo: the video is over {limit} bytes", code="output_too_large")
                chunks.append(chunk)
        except httpx.HTTPError as exc:
            raise http.error_for_transport(exc, provider=self.name) from exc
        return b"".join(chunks)

    def _download_public(self, url: str) -> bytes:
        try:
            body, _ = safe_get(url, max_bytes=self._max_bytes())
        except FetchRefused as exc:
            # safe_http refuses both places we must not go and bodies over the cap.
            code = "output_too_large" if "bytes" in str(exc) else "upstream_bad_output"
            raise PermanentError(f"veo: video download refused: {exc}", code=code) from exc
        except httpx.HTTPError as exc:
            raise http.error_for_transport(exc, provider=self.name) from exc
        except OSError as exc:  # an error status from the storage host: the next poll tries again
            raise TransientError(f"veo: video download failed: {exc}") from exc
        return body

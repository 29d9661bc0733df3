"""fal.ai through its queue API.

    POST {base}/{model_id}                         -> {request_id, status_url, response_url, cancel_url}
    GET  {base}/{owner}/{app}/requests/{id}/status -> 202 {status: IN_QUEUE|IN_PROGRESS, queue_position}
                                                      200 {status: COMPLETED[, error, error_type]}
    GET  {base}/{owner}/{app}/requests/{id}        -> the model's result ({"images": [...]}, {"video": {...}})
    PUT  {base}/{owner}/{app}/requests/{id}/cancel

A model id may carry an endpoint path ("fal-ai/flux/dev", "fal-ai/kling-video/v2/master/
text-to-video"); status, result and cancel live under owner/app only. Those URLs are rebuilt
from the channel's base URL rather than taken from the answer, so the key is only ever sent to
the configured host. Auth is `Authorization: Key <key>`.

The catalog names a model's text-to-X endpoint; with image inputs the adapter posts to the
sibling endpoint fal serves them at (image-to-video, first-last-frame-to-video, edit, ...), and
translates Atelier's shared parameter names into each model family's (num_images, image_size
presets for FLUX, "8s" durations for Veo, tail_image_url for Kling)."""
from __future__ import annotations

import base64
import binascii
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
    OutputFile,
    PermanentError,
    ProviderResult,
)
from ..registry import register

DEFAULT_BASE_URL = "https://queue.fal.run"
MODEL_ID = re.compile(r"^[\w.-]+/[\w.-]+(/[\w.-]+)*$")
REQUEST_ID = re.compile(r"^[\w-]{1,100}$")

# Atelier's parameter names -> fal's usual input names.
RENAMES = {"n": "num_images", "guidance": "guidance_scale", "input_image": "image_url", "media_urls": "image_urls"}
# Atelier-only fields (the form and the price use them) and ones fal models do not take.
DROPPED = {"mode", "fps", "output_quality", "sequential_image_generation"}
# FLUX on fal takes image_size presets rather than aspect ratios.
FLUX_SIZES = {"1:1": "square_hd", "4:3": "landscape_4_3", "3:4": "portrait_4_3", "16:9": "landscape_16_9",
              "9:16": "portrait_16_9"}
FLUX_SIZED = re.compile(r"^fal-ai/(flux/|flux-pro/v1\.1$|fast-sdxl)")
# Seedream 4 size tiers as fal names them.
SEEDREAM_TIERS = {"1K": "auto", "2K": "auto_2K", "4K": "auto_4K"}
VEO = re.compile(r"^fal-ai/veo3(\.1)?(/fast)?$")
POLL_AFTER = {"image": 1.0, "video": 5.0, "music": 3.0, "speech": 1.0, "text": 1.0}
# Where fal models put their files, in the order we look.
OUTPUT_KEYS = ("images", "image", "video", "videos", "audio", "audio_file", "audio_url", "file", "files", "output")
MODALITY_KEYS = {"image": ("images", "image"), "video": ("video", "videos"),
                 "music": ("audio", "audio_file", "audio_url"), "speech": ("audio", "audio_file", "audio_url")}
PROGRESS = re.compile(r"(\d{1,3})%")


def _app_path(model_id: str) -> str:
    owner, app, *_ = model_id.split("/")
    return f"{owner}/{app}"


def _megapixel_size(width: int, height: int) -> dict:
    """About one megapixel at the given aspect ratio, in multiples of 16."""
    scale = (1024 * 1024 / (width * height)) ** 0.5
    return {"width": round(width * scale / 16) * 16, "height": round(height * scale / 16) * 16}


def _minimax_speech(flat: dict) -> dict:
    """MiniMax speech on fal takes the voice under voice_setting (voice_id, speed, vol, pitch,
    emotion) and the encoding under audio_setting; flat fields are ignored there. The answer is
    asked for as a URL (audio.url), which is what the parser reads."""
    voice = {"voice": "voice_id", "speed": "speed", "volume": "vol", "pitch": "pitch", "emotion": "emotion"}
    audio = {"sample_rate": "sample_rate", "bitrate": "bitrate", "channel": "channel", "audio_format": "format"}
    payload = {k: v for k, v in flat.items() if k not in voice and k not in audio}
    voice_setting = {voice[k]: v for k, v in flat.items() if k in voice}
    audio_setting = {audio[k]: v for k, v in flat.items() if k in audio}
    if voice_setting:
        payload["voice_setting"] = voice_setting
    if audio_setting:
        payload["audio_setting"] = audio_setting
    payload["output_format"] = "url"
    return payload


def _mime_of(url: str, declared) -> str:
    if isinstance(declared, str) and "/" in declared:
        return declared.split(";")[0].strip()
    return mimetypes.guess_type(urlsplit(url).path)[0] or ""


def _data_uri(uri: str) -> tuple[bytes, str]:
    header, _, payload = uri.partition(",")
    try:
        return base64.b64decode(payload), header[5:].split(";")[0]
    except (binascii.Error, ValueError):
        raise PermanentError("fal: an inline output is not valid base64", code="upstream_bad_output") from None


def _content_policy(body) -> str | None:
    """fal's model errors are {"detail": [{"loc", "msg", "type"}]}; the type says content policy."""
    detail = body.get("detail") if isinstance(body, dict) else None
    for item in detail if isinstance(detail, list) else []:
        if isinstance(item, dict) and "content_policy" in str(item.get("type", "")):
            return str(item.get("msg") or "The content was flagged by the provider's content checker.")
    return None


@register
class FalAdapter(Adapter):
    name = "fal"
    supports_cancel = True

    # ---- wire ---------------------------------------------------------------------------
    def _send(self, method: str, path: str, *, final: bool = False, **kwargs) -> httpx.Response:
        """One call. `final`: the request already completed, so an error answer is its outcome."""
        url = f"{(self.channel.base_url or DEFAULT_BASE_URL).rstrip('/')}/{path}"
        headers = {"Authorization": f"Key {self.channel.api_key}"} if self.channel.api_key else {}
        try:
            response = http.client_for(url).request(method, url, headers=headers,
                                                    timeout=http.timeout_for(self.channel, 30.0), **kwargs)
        except httpx.HTTPError as exc:
            raise http.error_for_transport(exc, provider=self.name) from exc
        if response.status_code >= 400:
            try:
                body = response.json()
            except ValueError:
                body = response.text
            flagged = _content_policy(body) if response.status_code in (400, 422) else None
            if flagged:
                raise ContentFiltered(f"fal: {flagged}", status=response.status_code)
            error = http.error_for(response.status_code, body, response.headers, provider=self.name)
            infra_failure = (isinstance(body, dict) and body.get("error_type")) or response.headers.get(
                "x-fal-error-type")
            if final and response.status_code >= 500 and infra_failure:
                # fal already retried the request on fresh runners; this is its final answer.
                raise PermanentError(error.message, code="upstream_failed", status=response.status_code)
            raise error
        return response

    def _json(self, response: httpx.Response) -> dict:
        body = http.json_body(response, provider=self.name)
        if not isinstance(body, dict):
            raise http.bad_response("the answer is not a JSON object", provider=self.name)
        return body

    # ---- input ----------------------------------------------------------------------------
    def _input(self, job: Job, endpoint: str) -> dict:
        """fal models each have their own schema; translate Atelier's shared names into the ones
        the endpoint takes. options["input_map"][model] renames further per channel."""
        model = job.upstream_model
        renames = dict(RENAMES)
        if "kling-video" in model:
            renames["end_image_url"] = "tail_image_url"
        if endpoint.endswith("/first-last-frame-to-video"):
            renames.update(image_url="first_frame_url", end_image_url="last_frame_url")
        if model.startswith("fal-ai/imagen4"):
            renames["image_size"] = "resolution"
        if job.modality == "speech":
            renames["input"] = "text"  # fal's speech models read "text"
        if model.startswith("fal-ai/minimax-music"):
            renames["lyrics"] = "lyrics_prompt"
        renames.update((self.channel.options.get("input_map") or {}).get(model, {}))
        payload = {}
        for key, value in job.params.items():
            if value is None or value == "" or value == [] or key in DROPPED:
                continue
            if key == "size":
                width, _, height = str(value).partition("x")
                if width.isdigit() and height.isdigit():
                    payload[renames.get(key, "image_size")] = {"width": int(width), "height": int(height)}
                elif value in SEEDREAM_TIERS:
                    payload[renames.get(key, "image_size")] = SEEDREAM_TIERS[value]
                continue
            if key == "aspect_ratio":
                if value == "match_input_image":
                    continue  # fal's editing models follow the input image by default
                if FLUX_SIZED.match(model):
                    width, _, height = str(value).partition(":")
                    payload["image_size"] = FLUX_SIZES.get(value) or _megapixel_size(int(width), int(height))
                    continue
            if key == "duration":
                # fal takes durations as strings: "5" for most models, "8s" for Veo.
                value = f"{value}s" if VEO.match(model) else str(value)
            if key == "output_format":
                value = {"jpg": "jpeg"}.get(value, value)
                if value == "webp" and FLUX_SIZED.match(model):
                    continue  # FLUX on fal makes jpeg or png only; its default is jpeg
            if key == "safety_tolerance":
                value = str(value)
            if key == "seed" and isinstance(value, int) and value < 0:
                continue  # "random" is simply no seed on fal
            if key == "prompt_strength":
                if not job.params.get("image_url"):
                    continue  # only the image-to-image endpoint has a strength
                key = "strength"
            payload[renames.get(key, key)] = value
        if model.startswith("fal-ai/minimax/speech"):
            payload = _minimax_speech(payload)
        return payload

    def _endpoint(self, job: Job) -> str:
        """The catalog names a model's text-to-X endpoint; fal serves image inputs at siblings."""
        model, params = job.upstream_model, job.params
        start, end = bool(params.get("image_url")), bool(params.get("end_image_url"))
        references = bool(params.get("media_urls"))
        images = bool(params.get("image_urls"))
        if model.endswith("/text-to-video"):
            base = model[: -len("/text-to-video")]
            if start:
                return base + "/image-to-video"
            return base + "/reference-to-video" if references else model
        if VEO.match(model):
            if start and end and "veo3.1" in model:
                return model + "/first-last-frame-to-video"
            if start:
                return model + "/image-to-video"
            return model + "/reference-to-video" if references and "veo3.1" in model else model
        if model == "fal-ai/flux/dev" and start:
            return model + "/image-to-image"
        if model.endswith("/text-to-image") and images:
            return model[: -len("/text-to-image")] + "/edit"
        if model in ("fal-ai/nano-banana", "fal-ai/nano-banana-pro") and images:
            return model + "/edit"
        if model.startswith("fal-ai/flux-pro/kontext") and not params.get("input_image"):
            return model + "/text-to-image"
        return model

    # ---- the interface --------------------------------------------------------------------
    def submit(self, job: Job) -> ProviderResult:
        if not MODEL_ID.match(job.upstream_model or ""):
            raise InvalidInput(f"{job.upstream_model!r} is not a fal model id (owner/app[/path])")
        endpoint = self._endpoint(job)
        queued = self._json(self._send("POST", endpoint, json=self._input(job, endpoint)))
        request_id = queued.get("request_id")
        if not isinstance(request_id, str) or not REQUEST_ID.match(request_id):
            raise http.bad_response("the queue answer has no request_id", provider=self.name)
        return ProviderResult(status=ProviderResult.PENDING, upstream_id=request_id, poll_after=self._poll_after(job))

    def poll(self, job: Job, upstream_id: str) -> ProviderResult:
        base = self._request_path(job, upstream_id)
        status = self._json(self._send("GET", f"{base}/status", params={"logs": 1}))
        state = status.get("status")
        if state in ("IN_QUEUE", "IN_PROGRESS"):
            return ProviderResult(status=ProviderResult.PENDING, upstream_id=upstream_id,
                                  poll_after=self._poll_after(job), progress=self._progress(status))
        if state in ("FAILED", "CANCELED", "CANCELLED") or (state == "COMPLETED" and status.get("error")):
            self._raise_failure(status)
        if state != "COMPLETED":
            raise http.bad_response(f"unknown queue status {state!r}", provider=self.name)
        result = self._json(self._send("GET", base, final=True))
        outputs = self._outputs(result, job.modality)
        return ProviderResult(status=ProviderResult.SUCCEEDED, outputs=outputs, upstream_id=upstream_id, progress=100,
                              usage=self._usage(status))

    def cancel(self, job: Job, upstream_id: str) -> None:
        try:
            self._send("PUT", f"{self._request_path(job, upstream_id)}/cancel")
        except InvalidInput:
            return  # 400 ALREADY_COMPLETED: nothing left to stop

    # ---- helpers --------------------------------------------------------------------------
    def _request_path(self, job: Job, upstream_id: str) -> str:
        if not MODEL_ID.match(job.upstream_model or "") or not REQUEST_ID.match(upstream_id or ""):
            raise InvalidInput(f"cannot address fal request {upstream_id!r} of {job.upstream_model!r}")
        return f"{_app_path(job.upstream_model)}/requests/{upstream_id}"

    def _poll_after(self, job: Job) -> float:
        return float(self.channel.options.get("poll_after") or POLL_AFTER.get(job.modality, 2.0))

    def _progress(self, status: dict) -> int | None:
        messages = [str(log.get("message", "")) for log in status.get("logs") or [] if isinstance(log, dict)]
        found = PROGRESS.findall(" ".join(messages))
        return min(99, int(found[-1])) if found else None

    def _usage(self, status: dict) -> dict:
        metrics = status.get("metrics") or {}
        seconds = metrics.get("inference_time")
        return {"inference_time": seconds} if isinstance(seconds, (int, float)) else {}

    def _raise_failure(self, status: dict) -> None:
        message = str(status.get("error") or "the request failed")[: http.MAX_ERROR_MESSAGE]
        kind = str(status.get("error_type") or "")
        if "cancel" in kind or status.get("status") in ("CANCELED", "CANCELLED"):
            raise PermanentError(f"fal: {message}", code="upstream_canceled")
        if "content_policy" in kind:
            raise ContentFiltered(f"fal: {message}")
        raise PermanentError(f"fal: {message}" + (f" ({kind})" if kind else ""), code="upstream_failed")

    def _outputs(self, result: dict, modality: str) -> list[OutputFile]:
        files: list[dict] = []

        def collect(value):
            if isinstance(value, str) and value.startswith(("https://", "http://", "data:")):
                files.append({"url": value})
            elif isinstance(value, dict) and isinstance(value.get("url"), str):
                files.append(value)
            elif isinstance(value, list):
                for item in value:
                    collect(item)

        # A video model may also return a thumbnail image, a song its artwork: prefer the keys of
        # the job's own kind when the result has them.
        preferred = MODALITY_KEYS.get(modality, ())
        keys = [key for key in preferred if key in result] or [key for key in OUTPUT_KEYS if key in result]
        for key in keys:
            collect(result[key])
        flags = result.get("has_nsfw_concepts")
        if isinstance(flags, list) and isinstance(result.get("images"), list) and len(flags) == len(files):
            # The safety checker blacks out flagged images: drop them, and fail if nothing is left.
            files = [f for f, flagged in zip(files, flags) if not flagged]
            if not files:
                raise ContentFiltered("fal: every image was flagged by the safety checker")
        if not files:
            raise PermanentError("fal: the result has no output file", code="upstream_no_output")
        outputs = []
        for item in files:
            url = item["url"]
            data = None
            if url.startswith("data:"):  # sync_mode answers carry the file inline
                data, declared = _data_uri(url)
                item = {**item, "content_type": item.get("content_type") or declared}
                url = None
            elif not url.startswith(("https://", "http://")):
                raise PermanentError(f"fal: output URL {url[:60]!r} is not http(s)", code="upstream_bad_output")
            outputs.append(OutputFile(
                mime=_mime_of(url or "", item.get("content_type")), url=url, data=data,
                width=item.get("width") if isinstance(item.get("width"), int) else None,
                height=item.get("height") if isinstance(item.get("height"), int) else None,
                duration=item.get("duration") if isinstance(item.get("duration"), (int, float)) else None,
            ))
        return outputs


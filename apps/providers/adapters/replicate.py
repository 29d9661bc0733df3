"""Replicate's predictions API.

Official models run at POST /v1/models/{owner}/{name}/predictions (upstream_model
"owner/name"); any other model runs by version at POST /v1/predictions (upstream_model
"owner/name:version" or a bare 64-hex version id). A prediction is then read at
GET /v1/predictions/{id} until it is succeeded, failed or canceled.

Language models (modality "text") take a prompt and system_prompt and answer a list of text
pieces; streamed, the pieces arrive as server-sent events from the prediction's urls.stream.

Replicate models each have their own input schema; Atelier's common parameter names are
renamed to the names most models use, and a channel can rename more per upstream model with
options["input_map"] = {"owner/name": {"image_url": "start_image"}}.

OpenAI's models on Replicate run on the caller's own OpenAI account: they need the input
openai_api_key, taken from the (encrypted) key of the Atelier channel named in
options["openai_key_channel"], and take an aspect_ratio (1:1, 3:2, 2:3) instead of a size."""
from __future__ import annotations

import base64
import binascii
import json
import mimetypes
import re
from typing import Iterator
from urllib.parse import urlsplit

import httpx

from .. import http
from ..base import (
    Adapter,
    ChatChunk,
    ContentFiltered,
    InvalidInput,
    Job,
    OutputFile,
    PermanentError,
    ProviderResult,
    RouteUnsupported,
)
from ..registry import register
from ..safe_http import FetchRefused, check_url

DEFAULT_BASE_URL = "https://api.replicate.com/v1"
VERSION_ID = re.compile(r"^[0-9a-f]{64}$")
MODEL_NAME = re.compile(r"^[\w.-]+/[\w.-]+$")
PREDICTION_ID = re.compile(r"^[\w-]{1,100}$")

# Atelier's parameter names -> the input names most Replicate models take...
RENAMES = {
    "n": "num_outputs",
    "image_url": "image",
    "end_image_url": "end_image",
    "image_urls": "image_input",
    "media_urls": "reference_images",
    "audio_url": "audio",
}
# ...and where a model family names them otherwise (first matching prefix wins).
FAMILY_RENAMES = [
    ("kwaivgi/", {"image_url": "start_image", "end_image_url": "end_image"}),
    ("bytedance/seedance", {"end_image_url": "last_frame_image"}),
    ("google/veo", {"end_image_url": "last_frame"}),
    ("openai/gpt-image", {"n": "number_of_images", "image_urls": "input_images"}),
    ("black-forest-labs/flux-2", {"image_urls": "input_images"}),
    ("minimax/speech", {"voice": "voice_id"}),
    ("minimax/", {"image_url": "first_frame_image", "end_image_url": "last_frame_image"}),
]
# GPT Image sizes as the aspect ratios its Replicate models take (there is no "auto" there).
OPENAI_ASPECTS = {"1024x1024": "1:1", "1536x1024": "3:2", "1024x1536": "2:3"}
# What language models take besides the prompt.
TEXT_FIELDS = ("max_tokens", "temperature", "top_p", "presence_penalty", "frequency_penalty")
# Atelier-only fields no Replicate model takes (the price and the form use them)...
DROPPED = {"mode", "fps"}
# ...except where a model's own input has that name: these Klings' mode is standard (720p) or pro (1080p).
KEPT = {"kwaivgi/kling-v2.1": {"mode"}, "kwaivgi/kling-v3-video": {"mode"}}

# How long a prediction usually takes to be worth asking again, by modality (seconds).
POLL_AFTER = {"image": 1.0, "video": 5.0, "music": 3.0, "speech": 1.0, "text": 1.0}
# Replicate reports safety-checker rejections as a failed prediction with one of these.
CONTENT_FLAGS = ("nsfw", "flagged as sensitive", "(e005)", "safety", "content policy", "content moderation")
# tqdm progress bars in the logs: "50%|█████     | 25/50".
PROGRESS = re.compile(r"(\d{1,3})%\|")


def _split_model(upstream_model: str) -> tuple[str | None, str | None]:
    """(owner/name or None, version or None)."""
    name, _, version = upstream_model.strip().partition(":")
    if VERSION_ID.match(name) and not version:
        return None, name
    if not MODEL_NAME.match(name):
        raise RouteUnsupported(f"{upstream_model!r} is not a Replicate model (owner/name[:version])")
    if version and not VERSION_ID.match(version):
        raise RouteUnsupported(f"{version!r} is not a Replicate version id")
    return name, version or None


def guess_mime(url: str) -> str:
    """The type the URL's extension implies, or "" to let the download's Content-Type decide."""
    return mimetypes.guess_type(urlsplit(url).path)[0] or ""


def _token_usage(metrics: dict) -> dict:
    counts = {"input_tokens": metrics.get("input_token_count"), "output_tokens": metrics.get("output_token_count")}
    return {k: int(v) for k, v in counts.items() if isinstance(v, (int, float))}


def _event_message(data: str) -> str:
    try:
        body = json.loads(data)
    except ValueError:
        return data[: http.MAX_ERROR_MESSAGE]
    return http.error_details(body)[0] if isinstance(body, dict) else str(body)[: http.MAX_ERROR_MESSAGE]


def _is_content_flag(message: str) -> bool:
    lowered = message.lower()
    return any(flag in lowered for flag in CONTENT_FLAGS)


@register
class ReplicateAdapter(Adapter):
    name = "replicate"
    supports_cancel = True

    # ---- wire ---------------------------------------------------------------------------
    def _base(self) -> str:
        return (self.channel.base_url or DEFAULT_BASE_URL).rstrip("/")

    def _send(self, method: str, path: str, *, extra_headers: dict | None = None, read_timeout: float = 30.0,
              **kwargs) -> dict:
        url = f"{self._base()}/{path.lstrip('/')}"
        headers = {**http.bearer(self.channel.api_key), **(extra_headers or {})}
        try:
            response = http.client_for(url).request(
                method, url, headers=headers, timeout=http.timeout_for(self.channel, read_timeout), **kwargs
            )
        except httpx.HTTPError as exc:
            raise http.error_for_transport(exc, provider=self.name) from exc
        http.raise_for_status(response, provider=self.name)
        body = http.json_body(response, provider=self.name)
        if not isinstance(body, dict):
            raise http.bad_response("a prediction is not a JSON object", provider=self.name)
        return body

    # ---- input ----------------------------------------------------------------------------
    def _input(self, job: Job, model_name: str | None) -> dict:
        renames = dict(RENAMES)
        for prefix, family in FAMILY_RENAMES:
            if (model_name or "").startswith(prefix):
                renames.update(family)
                break
        if job.modality == "speech":
            renames["input"] = "text"  # Replicate's speech models read "text"
        renames.update((self.channel.options.get("input_map") or {}).get(model_name or "", {}))
        byok = (model_name or "").startswith("openai/")
        payload = {"openai_api_key": self._openai_key()} if byok else {}
        dropped = DROPPED - KEPT.get(model_name or "", set())
        for key, value in job.params.items():
            if value is None or value == "" or value == [] or key in dropped:
                continue
            if key == "size" and byok:
                if value not in OPENAI_ASPECTS:
                    raise RouteUnsupported(f"replicate: {model_name} takes 1:1, 3:2 or 2:3, not size {value!r}")
                payload["aspect_ratio"] = OPENAI_ASPECTS[value]
                continue
            if key == "size":
                # "1024x768" is width and height to Replicate models; "2K" is a size tier they take as is.
                width, _, height = str(value).partition("x")
                if width.isdigit() and height.isdigit():
                    payload.update(width=int(width), height=int(height))
                    continue
            payload[renames.get(key, key)] = value
        return payload

    def _openai_key(self) -> str:
        """The OpenAI key an openai/* model on Replicate bills: the named Atelier channel's."""
        from ..router import channel_config

        name = self.channel.options.get("openai_key_channel")
        other = channel_config(name) if name else None
        if other is None or not other.api_key:
            raise PermanentError("replicate: OpenAI's models on Replicate need your OpenAI key: set the channel "
                                 "option openai_key_channel to a channel that holds it", code="channel_misconfigured")
        return other.api_key

    def _text_input(self, job: Job) -> dict:
        """Replicate's language models take a prompt and a system_prompt, not a chat: a
        messages list is written out as a transcript."""
        params = job.params
        payload = {k: params[k] for k in TEXT_FIELDS if params.get(k) not in (None, "")}
        if params.get("stop"):
            payload["stop_sequences"] = str(params["stop"])
        messages = params.get("messages") or []
        if not messages:
            payload["prompt"] = str(params.get("prompt") or "")
            if params.get("system"):
                payload["system_prompt"] = str(params["system"])
            return payload
        system, turns = [], []
        for message in messages:
            content = message.get("content")
            if isinstance(content, list):
                content = " ".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
            if message.get("role") in ("system", "developer"):
                system.append(str(content))
            else:
                turns.append(f"{'Assistant' if message.get('role') == 'assistant' else 'User'}: {content}")
        if system:
            payload["system_prompt"] = "\n\n".join(system)
        payload["prompt"] = "\n\n".join(turns + ["Assistant:"]) if len(turns) > 1 else turns[0].partition(": ")[2]
        return payload

    # ---- the interface --------------------------------------------------------------------
    def _create(self, job: Job, *, stream: bool = False) -> dict:
        model_name, version = _split_model(job.upstream_model)
        payload = self._text_input(job) if job.modality == "text" else self._input(job, model_name)
        body: dict = {"input": payload}
        if stream:
            body["stream"] = True
        if version:
            path = "predictions"
            body["version"] = version
        else:
            path = f"models/{model_name}/predictions"
        headers = {}
        wait = self.channel.options.get("prefer_wait")
        read_timeout = 30.0
        if wait:
            # Replicate holds the request open up to `wait` seconds (1..60) and answers with the
            # finished prediction when it is quick: one round trip instead of a poll.
            wait = max(1, min(60, int(wait)))
            headers["Prefer"] = f"wait={wait}"
            read_timeout = wait + 15.0
        return self._send("POST", path, json=body, extra_headers=headers, read_timeout=read_timeout)

    def submit(self, job: Job) -> ProviderResult:
        return self._result(job, self._create(job))

    def stream_chat(self, job: Job) -> Iterator[ChatChunk]:
        """Language models stream tokens as server-sent events from the prediction's urls.stream:
        "output" events carry text, "error" a message, "done" the end. The stream URL is
        unguessable and needs no key, so none is sent there."""
        if job.modality != "text":
            yield from super().stream_chat(job)
            return
        prediction = self._create(job, stream=True)
        stream_url = (prediction.get("urls") or {}).get("stream")
        if not isinstance(stream_url, str):
            result = self._result(job, prediction)  # a model without streaming
            yield ChatChunk(delta=result.text or "", finish_reason="stop", usage=result.usage or None)
            return
        try:
            check_url(stream_url)
        except FetchRefused as exc:
            raise PermanentError(f"replicate: stream URL refused: {exc}", code="upstream_bad_output") from exc
        headers = {"Accept": "text/event-stream", "Cache-Control": "no-store"}
        try:
            with http.client_for(stream_url).stream("GET", stream_url, headers=headers,
                                                    timeout=http.timeout_for(self.channel, 120.0)) as reply:
                if reply.status_code >= 400:
                    reply.read()
                    http.raise_for_status(reply, provider=self.name)
                for event, data in http.iter_sse(reply):
                    if event == "output" and data:
                        yield ChatChunk(delta=data)
                    elif event == "error":
                        message = _event_message(data)
                        if _is_content_flag(message):
                            raise ContentFiltered(f"replicate: {message}")
                        raise PermanentError(f"replicate: {message}", code="upstream_failed")
                    elif event == "done":
                        if "canceled" in data:
                            raise PermanentError("replicate: the prediction was canceled upstream",
                                                 code="upstream_canceled")
                        break
        except httpx.HTTPError as exc:
            raise http.error_for_transport(exc, provider=self.name) from exc
        # Token counts are in the prediction's metrics once it is done.
        final = self._send("GET", f"predictions/{prediction['id']}")
        yield ChatChunk(finish_reason="stop", usage=_token_usage(final.get("metrics") or {}) or None)

    def poll(self, job: Job, upstream_id: str) -> ProviderResult:
        if not PREDICTION_ID.match(upstream_id or ""):
            raise InvalidInput(f"{upstream_id!r} is not a Replicate prediction id")
        return self._result(job, self._send("GET", f"predictions/{upstream_id}"))

    def cancel(self, job: Job, upstream_id: str) -> None:
        if not PREDICTION_ID.match(upstream_id or ""):
            return
        self._send("POST", f"predictions/{upstream_id}/cancel")

    # ---- output ---------------------------------------------------------------------------
    def _result(self, job: Job, prediction: dict) -> ProviderResult:
        prediction_id = prediction.get("id")
        status = prediction.get("status")
        if not prediction_id or not isinstance(prediction_id, str):
            raise http.bad_response("the prediction has no id", provider=self.name)
        if status in ("starting", "processing"):
            return ProviderResult(
                status=ProviderResult.PENDING, upstream_id=prediction_id, progress=self._progress(prediction),
                poll_after=float(self.channel.options.get("poll_after") or POLL_AFTER.get(job.modality, 2.0)),
            )
        if status == "succeeded" and job.modality == "text":
            output = prediction.get("output")
            text = "".join(output) if isinstance(output, list) else str(output or "")
            return ProviderResult(status=ProviderResult.SUCCEEDED, text=text, upstream_id=prediction_id,
                                  usage=_token_usage(prediction.get("metrics") or {}), progress=100)
        if status == "succeeded":
            outputs = self._outputs(prediction.get("output"))
            if not outputs:
                raise PermanentError("Replicate finished without any output file", code="upstream_no_output")
            metrics = prediction.get("metrics") or {}
            seconds = metrics.get("predict_time")
            usage = {"predict_time": seconds} if isinstance(seconds, (int, float)) else {}
            return ProviderResult(status=ProviderResult.SUCCEEDED, outputs=outputs, upstream_id=prediction_id,
                                  usage=usage, progress=100)
        if status == "failed":
            message = str(prediction.get("error") or "the prediction failed")[: http.MAX_ERROR_MESSAGE]
            if _is_content_flag(message):
                raise ContentFiltered(f"replicate: {message}")
            raise PermanentError(f"replicate: {message}", code="upstream_failed")
        if status in ("canceled", "aborted"):
            raise PermanentError("replicate: the prediction was canceled upstream", code="upstream_canceled")
        raise http.bad_response(f"unknown prediction status {status!r}", provider=self.name)

    def _progress(self, prediction: dict) -> int | None:
        found = PROGRESS.findall(prediction.get("logs") or "")
        return min(99, int(found[-1])) if found else None

    def _outputs(self, output) -> list[OutputFile]:
        """Output is a URL, a list of URLs, or (some models) an object holding them."""
        urls: list[str] = []

        def collect(value):
            if isinstance(value, str) and value.startswith(("https://", "http://", "data:")):
                urls.append(value)
            elif isinstance(value, list):
                for item in value:
                    collect(item)
            elif isinstance(value, dict):
                for item in value.values():
                    collect(item)

        collect(output)
        files = []
        for url in urls:
            if url.startswith("data:"):  # sync-mode answers may inline small files
                header, _, payload = url.partition(",")
                try:
                    data = base64.b64decode(payload)
                except (binascii.Error, ValueError):
                    raise PermanentError("replicate: an inline output is not valid base64",
                                         code="upstream_bad_output") from None
                files.append(OutputFile(mime=header[5:].split(";")[0], data=data))
            else:
                files.append(OutputFile(mime=guess_mime(url), url=url))
        return files


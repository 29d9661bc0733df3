"""A ComfyUI server (usually a local GPU box): txt2img through its HTTP API, asynchronously.

submit: POST /prompt with an API-format graph (CheckpointLoaderSimple -> CLIPTextEncode x2 ->
EmptyLatentImage -> KSampler -> VAEDecode -> SaveImage; the checkpoint file is the route's
upstream model) -> prompt_id. poll: GET /history/{prompt_id} ({} until it has run), then each
SaveImage output is downloaded from GET /view. Validation failures (400 with node_errors)
are InvalidInput. cancel: drop it from the queue and interrupt it if running.
options: steps, cfg, sampler_name, scheduler (defaults for the graph), timeout."""
from __future__ import annotations

import hashlib
import uuid

from .. import http
from ..base import Adapter, InvalidInput, Job, ModelUnavailable, NotFound, OutputFile, PermanentError, ProviderResult
from ..registry import register

DEFAULT_BASE_URL = "http://127.0.0.1:8188"
DEFAULTS = {"steps": 20, "cfg": 7.0, "sampler_name": "euler", "scheduler": "normal"}
POLL_AFTER = 1.0
CLIENT_ID = str(uuid.uuid4())  # ComfyUI groups websocket progress by client; one id per process is enough


def _dimensions(params: dict) -> tuple[int, int]:
    width, _, height = str(params.get("size") or "").partition("x")
    if width.isdigit() and height.isdigit():
        return int(width), int(height)
    return int(params.get("width") or 1024), int(params.get("height") or 1024)


def _seed(job: Job) -> int:
    """ComfyUI needs a seed; one derived from the job id makes a resubmitted job draw the same image."""
    if job.params.get("seed") is not None:
        return int(job.params["seed"])
    return int.from_bytes(hashlib.sha256(job.id.encode()).digest()[:6], "big")


def txt2img_graph(job: Job, options: dict) -> dict:
    params = job.params
    width, height = _dimensions(params)
    setting = {name: params.get(name, options.get(name, default)) for name, default in DEFAULTS.items()}
    if params.get("cfg_scale") is not None:
        setting["cfg"] = params["cfg_scale"]
    if params.get("sampler"):
        setting["sampler_name"] = params["sampler"]
    return {
        "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": job.upstream_model}},
        "6": {"class_type": "CLIPTextEncode", "inputs": {"text": params.get("prompt") or "", "clip": ["4", 1]}},
        "7": {"class_type": "CLIPTextEncode",
              "inputs": {"text": params.get("negative_prompt") or "", "clip": ["4", 1]}},
        "5": {"class_type": "EmptyLatentImage",
              "inputs": {"width": width, "height": height, "batch_size": int(params.get("n") or 1)}},
        "3": {"class_type": "KSampler", "inputs": {
            "seed": _seed(job), "steps": int(setting["steps"]), "cfg": float(setting["cfg"]),
            "sampler_name": setting["sampler_name"], "scheduler": setting["scheduler"], "denoise": 1.0,
            "model": ["4", 0], "positive": ["6", 0], "negative": ["7", 0], "latent_image": ["5", 0]}},
        "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}},
        "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "atelier", "images": ["8", 0]}},
    }


@register
class ComfyUIAdapter(Adapter):
    name = "comfyui"
    supports_cancel = True

    def _url(self, path: str) -> str:
        return f"{(self.channel.base_url or DEFAULT_BASE_URL).rstrip('/')}/{path}"

    def _call(self, method: str, path: str, **kwargs):
        return http.request(self.channel, method, self._url(path), headers=http.bearer(self.channel.api_key),
                            provider=self.name, **kwargs)

    def _json(self, method: str, path: str, **kwargs):
        return http.json_body(self._call(method, path, **kwargs), provider=self.name)

    def submit(self, job: Job) -> ProviderResult:
        if job.modality != "image":
            raise ModelUnavailable("The comfyui adapter only serves image models")
        if not job.params.get("prompt"):
            raise InvalidInput("A prompt is required")
        graph = txt2img_graph(job, self.channel.options or {})
        body = self._json("POST", "prompt", json={"prompt": graph, "client_id": CLIENT_ID}, read_timeout=30)
        prompt_id = body.get("prompt_id") if isinstance(body, dict) else None
        if not isinstance(prompt_id, str) or not prompt_id:
            raise http.bad_response("the queued prompt has no prompt_id", provider=self.name)
        if body.get("node_errors"):  # queued, but some nodes were rejected: it would fail later
            message, _ = http.error_details({"error": "invalid graph", "node_errors": body["node_errors"]})
            raise InvalidInput(f"comfyui: {message}")
        return ProviderResult(status=ProviderResult.PENDING, upstream_id=prompt_id, poll_after=POLL_AFTER)

    def poll(self, job: Job, upstream_id: str) -> ProviderResult:
        history = self._json("GET", f"history/{upstream_id}", read_timeout=30)
        if not isinstance(history, dict):
            raise http.bad_response("the history is not an object", provider=self.name)
        entry = history.get(upstream_id)
        if entry is None:
            return self._not_in_history(upstream_id)
        status = entry.get("status") or {}
        messages = status.get("messages") or []
        if status.get("status_str") == "error":
            raise self._execution_error(messages)
        if not status.get("completed"):
            return ProviderResult(status=ProviderResult.PENDING, upstream_id=upstream_id, poll_after=POLL_AFTER)
        outputs = []
        width, height = _dimensions(job.params)
        for node_output in (entry.get("outputs") or {}).values():
            for image in node_output.get("images") or []:
                if image.get("type") != "output":
                    continue  # previews and temp files are intermediate
                response = self._call("GET", "view", params={"filename": image.get("filename", ""),
                                                             "subfolder": image.get("subfolder", ""),
                                                             "type": "output"}, read_timeout=60)
                mime = response.headers.get("content-type", "").split(";")[0].strip()
                if not mime.startswith("image/"):
                    raise http.bad_response(f"/view answered {mime or 'nothing'!r}", provider=self.name)
                outputs.append(OutputFile(mime=mime, data=response.content, width=width, height=height,
                                          meta={"filename": image.get("filename")}))
        if not outputs:
            raise PermanentError("comfyui finished without any saved image", code="upstream_no_output")
        return ProviderResult(status=ProviderResult.SUCCEEDED, upstream_id=upstream_id, outputs=outputs, progress=100)

    def _not_in_history(self, upstream_id: str) -> ProviderResult:
        """Not run yet, or lost: a prompt neither queued nor in history will never finish
        (ComfyUI keeps its queue in memory, so a restart forgets it)."""
        queue = self._json("GET", "queue", read_timeout=30)
        queued = [item[1] for name in ("queue_running", "queue_pending")
                  for item in (queue.get(name) or []) if isinstance(item, list) and len(item) > 1]
        if upstream_id in queued:
            running = any(item[1] == upstream_id for item in queue.get("queue_running") or [])
            return ProviderResult(status=ProviderResult.PENDING, upstream_id=upstream_id, poll_after=POLL_AFTER,
                                  progress=None if running else 0)
        # It may have finished between the two calls: look once more before giving up on it.
        if upstream_id in (self._json("GET", f"history/{upstream_id}", read_timeout=30) or {}):
            return ProviderResult(status=ProviderResult.PENDING, upstream_id=upstream_id, poll_after=0.5)
        raise NotFound(f"comfyui no longer knows prompt {upstream_id} (was the server restarted?)")

    @staticmethod
    def _execution_error(messages: list) -> PermanentError:
        for kind, data in (m for m in messages if isinstance(m, list) and len(m) == 2):
            if kind == "execution_error":
                return PermanentError(f"comfyui: {data.get('node_type', 'a node')} failed: "
                                      f"{data.get('exception_message', 'unknown error')}".strip()[:500],
                                      code="upstream_failed")
            if kind == "execution_interrupted":
                return PermanentError("comfyui: the prompt was interrupted", code="upstream_canceled")
        return PermanentError("comfyui: the prompt failed", code="upstream_failed")

    def cancel(self, job: Job, upstream_id: str) -> None:
        self._call("POST", "queue", json={"delete": [upstream_id]}, read_timeout=15)
        self._call("POST", "interrupt", json={"prompt_id": upstream_id}, read_timeout=15)

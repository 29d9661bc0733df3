"""A ComfyUI server (usually a local GPU box), through its HTTP API, asynchronously.

submit: POST /prompt with an API-format graph built from the params -> prompt_id. The route's
upstream model is the checkpoint file. Built-in graphs:
    image: CheckpointLoaderSimple -> CLIPTextEncode x2 -> EmptyLatentImage -> KSampler ->
           VAEDecode -> SaveImage; with image_url the source is uploaded (POST /upload/image)
           and LoadImage -> VAEEncode replaces the empty latent (denoise = prompt_strength).
           FLUX checkpoints get FLUX's sampler defaults (cfg 1, simple scheduler).
    music: ACE-Step (TextEncodeAceStepAudio, EmptyAceStepLatentAudio, VAEDecodeAudio, SaveAudio).
A channel can replace the graph for a model: options.workflows = {checkpoint: API-format graph}
whose string inputs "$prompt", "$negative_prompt", "$seed", "$width", "$height", "$steps",
"$cfg", "$n", "$duration", "$lyrics", "$image" are filled in (typed) per job.
poll: GET /history/{prompt_id} ({} until it has run); saved files come from GET /view.
Validation failures (400 with node_errors) are InvalidInput. cancel: drop it from the queue
and interrupt it if running. options: steps, cfg, sampler_name, scheduler, workflows, timeout."""
from __future__ import annotations

import copy
import hashlib
import mimetypes
import uuid

from .. import http
from ..base import Adapter, InvalidInput, Job, ModelUnavailable, NotFound, OutputFile, PermanentError, ProviderResult
from ..inputs import source_bytes
from ..registry import register

DEFAULT_BASE_URL = "http://127.0.0.1:8188"
DEFAULTS = {"steps": 20, "cfg": 7.0, "sampler_name": "euler", "scheduler": "normal"}
FLUX_DEFAULTS = {"steps": 20, "cfg": 1.0, "sampler_name": "euler", "scheduler": "simple"}
ACE_DEFAULTS = {"steps": 50, "cfg": 5.0, "sampler_name": "euler", "scheduler": "simple"}
POLL_AFTER = 1.0
CLIENT_ID = str(uuid.uuid4())  # ComfyUI groups websocket progress by client; one id per process is enough
# About one megapixel, sides multiples of 64 (what SDXL and FLUX were trained on).
ASPECT_SIZES = {"1:1": (1024, 1024), "16:9": (1344, 768), "9:16": (768, 1344), "21:9": (1536, 640),
                "9:21": (640, 1536), "3:2": (1216, 832), "2:3": (832, 1216), "4:3": (1152, 896),
                "3:4": (896, 1152), "5:4": (1152, 896), "4:5": (896, 1152)}
OUTPUT_KINDS = {"images": "image/", "audio": "audio/", "gifs": "video/", "videos": "video/"}
# The catalog's scheduler names (diffusers/Replicate style) as ComfyUI (sampler, scheduler) pairs.
SCHEDULERS = {"DPMSolverMultistep": ("dpmpp_2m", "normal"), "K_EULER": ("euler", "normal"),
              "K_EULER_ANCESTRAL": ("euler_ancestral", "normal"), "DDIM": ("ddim", "ddim_uniform"),
              "PNDMScheduler": ("euler", "normal"), "KarrasDPM": ("dpmpp_2m", "karras"),
              "HeunDiscrete": ("heun", "normal")}


def _dimensions(params: dict) -> tuple[int, int]:
    width, _, height = str(params.get("size") or "").partition("x")
    if width.isdigit() and height.isdigit():
        return int(width), int(height)
    if params.get("aspect_ratio") in ASPECT_SIZES:
        return ASPECT_SIZES[params["aspect_ratio"]]
    return int(params.get("width") or 1024), int(params.get("height") or 1024)


def _seed(job: Job) -> int:
    """ComfyUI needs a seed; one derived from the job id makes a resubmitted job draw the same image."""
    if job.params.get("seed") is not None:
        return int(job.params["seed"])
    return int.from_bytes(hashlib.sha256(job.id.encode()).digest()[:6], "big")


def _is_flux(job: Job) -> bool:
    return job.modality == "image" and "flux" in job.upstream_model.lower()


def _sampling(job: Job, options: dict) -> dict:
    """steps, cfg, sampler_name, scheduler: params win over channel options over model defaults."""
    checkpoint = job.upstream_model.lower()
    if job.modality == "music":
        defaults = ACE_DEFAULTS
    elif _is_flux(job):
        defaults = dict(FLUX_DEFAULTS, steps=4 if "schnell" in checkpoint else 20)
    else:
        defaults = DEFAULTS
    params = dict(job.params)
    if params.get("scheduler") in SCHEDULERS:
        params["sampler_name"], params["scheduler"] = SCHEDULERS[params["scheduler"]]
    if _is_flux(job):
        params.pop("guidance_scale", None)  # FLUX takes guidance through a FluxGuidance node, not cfg
    aliases = {"steps": ("steps", "num_inference_steps"), "cfg": ("cfg", "cfg_scale", "guidance_scale"),
               "sampler_name": ("sampler", "sampler_name"), "scheduler": ("scheduler",)}
    setting = {}
    for name, default in defaults.items():
        given = next((params[alias] for alias in aliases[name] if params.get(alias) is not None), None)
        setting[name] = given if given is not None else options.get(name, default)
    return {"steps": int(setting["steps"]), "cfg": float(setting["cfg"]), "sampler_name": setting["sampler_name"],
            "scheduler": setting["scheduler"]}


def _ksampler(job: Job, sampling: dict, latent: list, negative: list, denoise: float = 1.0,
              positive: list | None = None) -> dict:
    return {"class_type": "KSampler", "inputs": {
        "seed": _seed(job), **sampling, "denoise": denoise, "model": ["4", 0], "positive": positive or ["6", 0],
        "negative": negative, "latent_image": latent}}


def image_graph(job: Job, options: dict, source: str | None = None) -> dict:
    """txt2img, or img2img from an uploaded source image (its name on the server)."""
    params = job.params
    width, height = _dimensions(params)
    graph = {
        "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": job.upstream_model}},
        "6": {"class_type": "CLIPTextEncode", "inputs": {"text": params.get("prompt") or "", "clip": ["4", 1]}},
        "7": {"class_type": "CLIPTextEncode",
              "inputs": {"text": params.get("negative_prompt") or "", "clip": ["4", 1]}},
        "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}},
        "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "atelier", "images": ["8", 0]}},
    }
    positive = ["6", 0]
    if _is_flux(job) and params.get("guidance_scale") is not None:
        graph["12"] = {"class_type": "FluxGuidance",
                       "inputs": {"conditioning": ["6", 0], "guidance": float(params["guidance_scale"])}}
        positive = ["12", 0]
    if source:
        strength = params.get("prompt_strength", params.get("strength"))
        graph["10"] = {"class_type": "LoadImage", "inputs": {"image": source}}
        graph["11"] = {"class_type": "VAEEncode", "inputs": {"pixels": ["10", 0], "vae": ["4", 2]}}
        graph["3"] = _ksampler(job, _sampling(job, options), ["11", 0], ["7", 0],
                               denoise=float(strength if strength is not None else 0.8), positive=positive)
    else:
        graph["5"] = {"class_type": "EmptyLatentImage",
                      "inputs": {"width": width, "height": height, "batch_size": int(params.get("n") or 1)}}
        graph["3"] = _ksampler(job, _sampling(job, options), ["5", 0], ["7", 0], positive=positive)
    return graph


def _lyrics(params: dict) -> str:
    # ACE-Step marks an instrumental track with the [inst] tag instead of lyrics.
    return "[inst]" if params.get("instrumental") or not params.get("lyrics") else params["lyrics"]


def music_graph(job: Job, options: dict) -> dict:
    """ACE-Step text to music: tags (the prompt) and lyrics in, a FLAC file out."""
    params = job.params
    return {
        "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": job.upstream_model}},
        "6": {"class_type": "TextEncodeAceStepAudio", "inputs": {
            "tags": params.get("prompt") or "", "lyrics": _lyrics(params), "lyrics_strength": 0.99, "clip": ["4", 1]}},
        "7": {"class_type": "ConditioningZeroOut", "inputs": {"conditioning": ["6", 0]}},
        "5": {"class_type": "EmptyAceStepLatentAudio",
              "inputs": {"seconds": float(params.get("duration") or 30), "batch_size": 1}},
        "3": _ksampler(job, _sampling(job, options), ["5", 0], ["7", 0]),
        "8": {"class_type": "VAEDecodeAudio", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}},
        "9": {"class_type": "SaveAudio", "inputs": {"filename_prefix": "audio/atelier", "audio": ["8", 0]}},
    }


def fill_workflow(template: dict, job: Job, options: dict, source: str | None) -> dict:
    """A channel's own graph with "$name" inputs replaced by this job's values."""
    params = job.params
    width, height = _dimensions(params)
    sampling = _sampling(job, options)
    values = {"prompt": params.get("prompt") or "", "negative_prompt": params.get("negative_prompt") or "",
              "seed": _seed(job), "width": width, "height": height, "steps": sampling["steps"],
              "cfg": sampling["cfg"], "n": int(params.get("n") or 1),
              "duration": float(params.get("duration") or 30), "lyrics": _lyrics(params), "image": source or ""}
    graph = copy.deepcopy(template)
    for node in graph.values():
        inputs = node.get("inputs") or {}
        for name, value in inputs.items():
            if isinstance(value, str) and value.startswith("$") and value[1:] in values:
                inputs[name] = values[value[1:]]
    return graph


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
        if job.modality not in ("image", "music"):
            raise ModelUnavailable(f"The comfyui adapter does not serve {job.modality} models")
        if not job.params.get("prompt"):
            raise InvalidInput("A prompt is required")
        graph = self.graph(job)
        body = self._json("POST", "prompt", json={"prompt": graph, "client_id": CLIENT_ID}, read_timeout=30)
        prompt_id = body.get("prompt_id") if isinstance(body, dict) else None
        if not isinstance(prompt_id, str) or not prompt_id:
            raise http.bad_response("the queued prompt has no prompt_id", provider=self.name)
        if body.get("node_errors"):  # queued, but some nodes were rejected: it would fail later
            message, _ = http.error_details({"error": "invalid graph", "node_errors": body["node_errors"]})
            raise InvalidInput(f"comfyui: {message}")
        return ProviderResult(status=ProviderResult.PENDING, upstream_id=prompt_id, poll_after=POLL_AFTER)

    def graph(self, job: Job) -> dict:
        options = self.channel.options or {}
        source = self._upload(job, job.params["image_url"]) if job.params.get("image_url") else None
        template = (options.get("workflows") or {}).get(job.upstream_model)
        if template:
            return fill_workflow(template, job, options, source)
        if job.modality == "music":
            return music_graph(job, options)
        return image_graph(job, options, source)

    def _upload(self, job: Job, url: str) -> str:
        """Put a source image in ComfyUI's input folder; returns the name LoadImage takes."""
        data, mime = source_bytes(job, url)
        mime = mime if mime.startswith("image/") else "image/png"
        extension = mimetypes.guess_extension(mime) or ".png"
        name = f"atelier-{hashlib.sha256(data).hexdigest()[:16]}{extension}"  # same bytes, same file
        answer = self._json("POST", "upload/image", files={"image": (name, data, mime)},
                            data={"type": "input", "overwrite": "true"}, read_timeout=60)
        if not isinstance(answer, dict) or not answer.get("name"):
            raise http.bad_response("the upload answer has no name", provider=self.name)
        return f"{answer['subfolder']}/{answer['name']}" if answer.get("subfolder") else answer["name"]

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
        width, height = _dimensions(job.params) if job.modality == "image" else (None, None)
        for node_output in (entry.get("outputs") or {}).values():
            for kind, prefix in OUTPUT_KINDS.items():
                for saved in node_output.get(kind) or []:
                    if saved.get("type") != "output":
                        continue  # previews and temp files are intermediate
                    outputs.append(self._download(saved, prefix, width, height))
        if not outputs:
            raise PermanentError("comfyui finished without any saved file", code="upstream_no_output")
        return ProviderResult(status=ProviderResult.SUCCEEDED, upstream_id=upstream_id, outputs=outputs, progress=100)

    def _download(self, saved: dict, prefix: str, width, height) -> OutputFile:
        response = self._call("GET", "view", params={"filename": saved.get("filename", ""),
                                                     "subfolder": saved.get("subfolder", ""), "type": "output"},
                              read_timeout=120)
        mime = response.headers.get("content-type", "").split(";")[0].strip()
        if mime in ("", "application/octet-stream"):  # older servers do not type /view answers
            mime = mimetypes.guess_type(saved.get("filename", ""))[0] or ""
        if not mime.startswith(prefix) or not response.content:
            raise http.bad_response(f"/view answered {mime or 'nothing'!r}", provider=self.name)
        return OutputFile(mime=mime, data=response.content, width=width, height=height,
                          meta={"filename": saved.get("filename")})

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

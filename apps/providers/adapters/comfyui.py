"""A ComfyUI server (usually a local GPU box), through its HTTP API, asynchronously.

submit: POST /prompt with an API-format graph built from the params -> prompt_id. The route's
upstream model is the main model file; how it is loaded follows the model family, as
ComfyUI's own example workflows do:
    SDXL / SD 1.5 and all-in-one checkpoints: CheckpointLoaderSimple (model, CLIP and VAE);
    FLUX.1:    UNETLoader (models/diffusion_models) + DualCLIPLoader (clip_l, t5xxl, type flux)
               + VAELoader (ae), EmptySD3LatentImage, FluxGuidance, cfg 1;
    SD 3.5:    CheckpointLoaderSimple (MMDiT + VAE) + TripleCLIPLoader (clip_g, clip_l, t5xxl),
               EmptySD3LatentImage;
    Qwen-Image: UNETLoader + CLIPLoader (Qwen2.5-VL, type qwen_image) + VAELoader,
               ModelSamplingAuraFlow, EmptySD3LatentImage;
    Wan 2.2 A14B (video): two UNETLoaders (high- and low-noise experts) with ModelSamplingSD3,
               CLIPLoader (umt5_xxl, type wan), VAELoader, EmptyHunyuanLatentVideo, two
               KSamplerAdvanced passes, CreateVideo -> SaveVideo;
    ACE-Step (music): its all-in-one checkpoint with the ACE-Step audio nodes.
Text encoder and VAE file names default to the ones those examples use; options.files
renames them ({"t5xxl": "t5xxl_fp8_e4m3fn.safetensors", ...}) and options.all_in_one lists
more single-file checkpoints (flux1-dev-fp8.safetensors style). Other video models need a
channel graph: a video job without one is refused before anything is sent.
With image_url the source is uploaded (POST /upload/image) and LoadImage -> VAEEncode replaces
the empty latent (denoise = prompt_strength).
A channel can replace the graph for a model: options.workflows = {model file: API-format graph}
whose string inputs "$prompt", "$negative_prompt", "$seed", "$width", "$height", "$steps",
"$cfg", "$n", "$duration", "$lyrics", "$image", "$frames", "$fps" are filled in (typed) per job.
poll: GET /history/{prompt_id} ({} until it has run); saved files come from GET /view (a
SaveVideo result sits under "images" with "animated": [true]).
Validation failures (400 with node_errors) are InvalidInput; a model file the server does not
have belongs to the route (RouteUnsupported: another channel may have it). cancel: drop it
from the queue and interrupt it if running. options: steps, cfg, sampler_name, scheduler,
files, all_in_one, workflows, timeout."""
from __future__ import annotations

import copy
import hashlib
import mimetypes
import uuid

from .. import http
from ..base import (
    Adapter,
    InvalidInput,
    Job,
    ModelUnavailable,
    NotFound,
    OutputFile,
    PermanentError,
    ProviderResult,
    RouteUnsupported,
)
from ..inputs import source_bytes
from ..registry import register

DEFAULT_BASE_URL = "http://127.0.0.1:8188"
DEFAULTS = {"steps": 20, "cfg": 7.0, "sampler_name": "euler", "scheduler": "normal"}
FAMILY_DEFAULTS = {
    "flux": {"steps": 20, "cfg": 1.0, "sampler_name": "euler", "scheduler": "simple"},
    "sd3": {"steps": 28, "cfg": 4.5, "sampler_name": "euler", "scheduler": "sgm_uniform"},
    "qwen_image": {"steps": 20, "cfg": 2.5, "sampler_name": "euler", "scheduler": "simple"},
    "wan": {"steps": 20, "cfg": 3.5, "sampler_name": "euler", "scheduler": "simple"},
    "ace": {"steps": 50, "cfg": 5.0, "sampler_name": "euler", "scheduler": "simple"},
}
# Companion files, named as ComfyUI's example workflows name them (options.files renames).
FILES = {"clip_l": "clip_l.safetensors", "clip_g": "clip_g.safetensors", "t5xxl": "t5xxl_fp16.safetensors",
         "flux_vae": "ae.safetensors", "qwen_text_encoder": "qwen_2.5_vl_7b_fp8_scaled.safetensors",
         "qwen_vae": "qwen_image_vae.safetensors", "wan_text_encoder": "umt5_xxl_fp8_e4m3fn_scaled.safetensors",
         "wan_vae": "wan_2.1_vae.safetensors"}
# Single-file checkpoints that carry their own text encoders and VAE (Comfy-Org repackages).
ALL_IN_ONE = {"flux1-dev-fp8.safetensors", "flux1-schnell-fp8.safetensors", "sd3.5_large_fp8_scaled.safetensors"}
QWEN_SHIFT = 3.1
WAN_SHIFT = 8.0
POLL_AFTER = 1.0
CLIENT_ID = str(uuid.uuid4())  # ComfyUI groups websocket progress by client; one id per process is enough
# About one megapixel, sides multiples of 64 (what SDXL and FLUX were trained on).
ASPECT_SIZES = {"1:1": (1024, 1024), "16:9": (1344, 768), "9:16": (768, 1344), "21:9": (1536, 640),
                "9:21": (640, 1536), "3:2": (1216, 832), "2:3": (832, 1216), "4:3": (1152, 896),
                "3:4": (896, 1152), "5:4": (1152, 896), "4:5": (896, 1152)}
VIDEO_HEIGHTS = {"480p": 480, "580p": 576, "720p": 720}
OUTPUT_KINDS = {"images": "image/", "audio": "audio/", "gifs": "video/", "videos": "video/"}
# The catalog's scheduler names (diffusers/Replicate style) as ComfyUI (sampler, scheduler) pairs.
SCHEDULERS = {"DPMSolverMultistep": ("dpmpp_2m", "normal"), "K_EULER": ("euler", "normal"),
              "K_EULER_ANCESTRAL": ("euler_ancestral", "normal"), "DDIM": ("ddim", "ddim_uniform"),
              "PNDM": ("euler", "normal"), "KarrasDPM": ("dpmpp_2m", "karras"),
              "HeunDiscrete": ("heun", "normal")}
# node_errors of these types on a loader mean the server lacks the file: the route's problem.
MISSING_FILE_ERRORS = {"value_not_in_list"}
LOADERS = {"CheckpointLoaderSimple", "UNETLoader", "CLIPLoader", "DualCLIPLoader", "TripleCLIPLoader", "VAELoader"}


def family(job: Job) -> str:
    """Which loading layout the model file needs (see the module docstring)."""
    name = job.upstream_model.lower()
    if job.modality == "music":
        return "ace"
    if job.modality == "video":
        return "wan" if "wan2.2" in name else ""
    if "flux" in name:
        return "flux"
    if "sd3" in name:
        return "sd3"
    if "qwen_image" in name or "qwen-image" in name:
        return "qwen_image"
    return "checkpoint"


def _dimensions(params: dict) -> tuple[int, int]:
    width, _, height = str(params.get("size") or "").partition("x")
    if width.isdigit() and height.isdigit():
        return int(width), int(height)
    if params.get("aspect_ratio") in ASPECT_SIZES:
        return ASPECT_SIZES[params["aspect_ratio"]]
    return int(params.get("width") or 1024), int(params.get("height") or 1024)


def _video_dimensions(params: dict) -> tuple[int, int]:
    """Frame size from resolution and aspect ratio, sides multiples of 16 (Wan's latent grid)."""
    short = VIDEO_HEIGHTS.get(str(params.get("resolution") or "720p"), 720)
    a, _, b = str(params.get("aspect_ratio") or "16:9").partition(":")
    ratio = float(a) / float(b) if a.isdigit() and b.isdigit() else 16 / 9
    long = int(round(short * max(ratio, 1 / ratio) / 16) * 16)
    return (long, short) if ratio >= 1 else (short, long)


def _frames(params: dict) -> int:
    """Wan takes 4k+1 frames."""
    frames = int(params.get("num_frames") or 81)
    return max(5, (frames - 1) // 4 * 4 + 1)


def _seed(job: Job) -> int:
    """ComfyUI needs a seed; one derived from the job id makes a resubmitted job draw the same image."""
    if job.params.get("seed") is not None:
        return int(job.params["seed"])
    return int.from_bytes(hashlib.sha256(job.id.encode()).digest()[:6], "big")


def _guidance(params: dict):
    """FLUX's distilled guidance: the catalog calls it guidance, some clients guidance_scale."""
    value = params.get("guidance", params.get("guidance_scale"))
    return float(value) if value is not None else None


def _sampling(job: Job, options: dict) -> dict:
    """steps, cfg, sampler_name, scheduler: params win over channel options over model defaults."""
    kind = family(job)
    defaults = dict(FAMILY_DEFAULTS.get(kind, DEFAULTS))
    if kind == "flux" and "schnell" in job.upstream_model.lower():
        defaults["steps"] = 4
    params = dict(job.params)
    if params.get("scheduler") in SCHEDULERS:
        params["sampler_name"], params["scheduler"] = SCHEDULERS[params["scheduler"]]
    if kind == "flux":
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
              positive: list | None = None, model: list | None = None) -> dict:
    return {"class_type": "KSampler", "inputs": {
        "seed": _seed(job), **sampling, "denoise": denoise, "model": model or ["4", 0],
        "positive": positive or ["6", 0], "negative": negative, "latent_image": latent}}


def _file(options: dict, name: str) -> str:
    return (options.get("files") or {}).get(name) or FILES[name]


def _loaders(job: Job, options: dict) -> tuple[dict, list, list, list]:
    """(nodes, model ref, clip ref, vae ref) that load the route's model file as its family needs."""
    checkpoint = job.upstream_model
    kind = family(job)
    all_in_one = ALL_IN_ONE | set(options.get("all_in_one") or [])
    if kind in ("checkpoint", "ace") or checkpoint in all_in_one:
        return ({"4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": checkpoint}}},
                ["4", 0], ["4", 1], ["4", 2])
    if kind == "sd3":  # the MMDiT checkpoint holds the VAE, not the three text encoders
        return ({"4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": checkpoint}},
                 "13": {"class_type": "TripleCLIPLoader", "inputs": {
                     "clip_name1": _file(options, "clip_g"), "clip_name2": _file(options, "clip_l"),
                     "clip_name3": _file(options, "t5xxl")}}},
                ["4", 0], ["13", 0], ["4", 2])
    nodes = {"4": {"class_type": "UNETLoader", "inputs": {"unet_name": checkpoint, "weight_dtype": "default"}}}
    if kind == "flux":
        nodes["13"] = {"class_type": "DualCLIPLoader", "inputs": {
            "clip_name1": _file(options, "clip_l"), "clip_name2": _file(options, "t5xxl"), "type": "flux"}}
        nodes["14"] = {"class_type": "VAELoader", "inputs": {"vae_name": _file(options, "flux_vae")}}
        return nodes, ["4", 0], ["13", 0], ["14", 0]
    nodes["13"] = {"class_type": "CLIPLoader", "inputs": {
        "clip_name": _file(options, "qwen_text_encoder"), "type": "qwen_image"}}
    nodes["14"] = {"class_type": "VAELoader", "inputs": {"vae_name": _file(options, "qwen_vae")}}
    nodes["15"] = {"class_type": "ModelSamplingAuraFlow", "inputs": {"model": ["4", 0], "shift": QWEN_SHIFT}}
    return nodes, ["15", 0], ["13", 0], ["14", 0]


def image_graph(job: Job, options: dict, source: str | None = None) -> dict:
    """txt2img, or img2img from an uploaded source image (its name on the server)."""
    params = job.params
    kind = family(job)
    width, height = _dimensions(params)
    graph, model, clip, vae = _loaders(job, options)
    graph.update({
        "6": {"class_type": "CLIPTextEncode", "inputs": {"text": params.get("prompt") or "", "clip": clip}},
        "7": {"class_type": "CLIPTextEncode", "inputs": {"text": params.get("negative_prompt") or "", "clip": clip}},
        "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": vae}},
        "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "atelier", "images": ["8", 0]}},
    })
    positive = ["6", 0]
    if kind == "flux" and _guidance(params) is not None:
        graph["12"] = {"class_type": "FluxGuidance", "inputs": {"conditioning": ["6", 0], "guidance": _guidance(params)}}
        positive = ["12", 0]
    sampling = _sampling(job, options)
    if source:
        strength = params.get("prompt_strength", params.get("strength"))
        graph["10"] = {"class_type": "LoadImage", "inputs": {"image": source}}
        graph["11"] = {"class_type": "VAEEncode", "inputs": {"pixels": ["10", 0], "vae": vae}}
        graph["3"] = _ksampler(job, sampling, ["11", 0], ["7", 0], positive=positive, model=model,
                               denoise=float(strength if strength is not None else 0.8))
    else:
        # FLUX, SD3 and Qwen-Image sample a 16-channel latent; SDXL and SD 1.5 a 4-channel one.
        latent = "EmptyLatentImage" if kind == "checkpoint" else "EmptySD3LatentImage"
        graph["5"] = {"class_type": latent,
                      "inputs": {"width": width, "height": height, "batch_size": int(params.get("n") or 1)}}
        graph["3"] = _ksampler(job, sampling, ["5", 0], ["7", 0], positive=positive, model=model)
    return graph


def video_graph(job: Job, options: dict) -> dict:
    """Wan 2.2 A14B text to video: the high-noise expert takes the first half of the steps, the
    low-noise expert the rest (ComfyUI's Wan 2.2 template)."""
    params = job.params
    high = job.upstream_model
    low = high.replace("high_noise", "low_noise")
    if low == high:
        raise RouteUnsupported(f"comfyui: {high!r} is not a Wan 2.2 high-noise model file")
    width, height = _video_dimensions(params)
    sampling = _sampling(job, options)
    split = sampling["steps"] // 2

    def advanced(model: list, latent: list, first: bool) -> dict:
        return {"class_type": "KSamplerAdvanced", "inputs": {
            "model": model, "add_noise": "enable" if first else "disable", "noise_seed": _seed(job),
            "steps": sampling["steps"], "cfg": sampling["cfg"], "sampler_name": sampling["sampler_name"],
            "scheduler": sampling["scheduler"], "positive": ["6", 0], "negative": ["7", 0], "latent_image": latent,
            "start_at_step": 0 if first else split, "end_at_step": split if first else 10000,
            "return_with_leftover_noise": "enable" if first else "disable"}}

    return {
        "4": {"class_type": "UNETLoader", "inputs": {"unet_name": high, "weight_dtype": "default"}},
        "16": {"class_type": "UNETLoader", "inputs": {"unet_name": low, "weight_dtype": "default"}},
        "17": {"class_type": "ModelSamplingSD3", "inputs": {"model": ["4", 0], "shift": WAN_SHIFT}},
        "18": {"class_type": "ModelSamplingSD3", "inputs": {"model": ["16", 0], "shift": WAN_SHIFT}},
        "13": {"class_type": "CLIPLoader", "inputs": {"clip_name": _file(options, "wan_text_encoder"), "type": "wan"}},
        "14": {"class_type": "VAELoader", "inputs": {"vae_name": _file(options, "wan_vae")}},
        "6": {"class_type": "CLIPTextEncode", "inputs": {"text": params.get("prompt") or "", "clip": ["13", 0]}},
        "7": {"class_type": "CLIPTextEncode", "inputs": {"text": params.get("negative_prompt") or "", "clip": ["13", 0]}},
        "5": {"class_type": "EmptyHunyuanLatentVideo",
              "inputs": {"width": width, "height": height, "length": _frames(params), "batch_size": 1}},
        "3": advanced(["17", 0], ["5", 0], first=True),
        "19": advanced(["18", 0], ["3", 0], first=False),
        "8": {"class_type": "VAEDecode", "inputs": {"samples": ["19", 0], "vae": ["14", 0]}},
        "20": {"class_type": "CreateVideo", "inputs": {"images": ["8", 0],
                                                        "fps": float(params.get("frames_per_second") or 16)}},
        "9": {"class_type": "SaveVideo", "inputs": {"video": ["20", 0], "filename_prefix": "video/atelier",
                                                     "format": "auto", "codec": "auto"}},
    }


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
              "duration": float(params.get("duration") or 30), "lyrics": _lyrics(params), "image": source or "",
              "frames": _frames(params), "fps": float(params.get("frames_per_second") or params.get("fps") or 16)}
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
        if job.modality not in ("image", "music", "video"):
            raise ModelUnavailable(f"The comfyui adapter does not serve {job.modality} models")
        if not job.params.get("prompt"):
            raise InvalidInput("A prompt is required")
        graph = self.graph(job)
        try:
            body = self._json("POST", "prompt", json={"prompt": graph, "client_id": CLIENT_ID}, read_timeout=30)
        except InvalidInput as exc:
            raise self._refusal(exc) from exc
        prompt_id = body.get("prompt_id") if isinstance(body, dict) else None
        if not isinstance(prompt_id, str) or not prompt_id:
            raise http.bad_response("the queued prompt has no prompt_id", provider=self.name)
        if body.get("node_errors"):  # queued, but some nodes were rejected: it would fail later
            message, _ = http.error_details({"error": "invalid graph", "node_errors": body["node_errors"]})
            raise InvalidInput(f"comfyui: {message}")
        return ProviderResult(status=ProviderResult.PENDING, upstream_id=prompt_id, poll_after=POLL_AFTER)

    def graph(self, job: Job) -> dict:
        options = self.channel.options or {}
        template = (options.get("workflows") or {}).get(job.upstream_model)
        if job.modality == "video" and not template and family(job) != "wan":
            # Never hand a video job to an image graph: without a video graph this route cannot serve it.
            raise RouteUnsupported(f"comfyui: no video graph for {job.upstream_model!r}; give the channel one "
                                   "in options.workflows")
        if job.modality == "video" and job.params.get("image_url") and not template:
            raise RouteUnsupported("comfyui: the built-in Wan 2.2 graph is text to video only")
        source = self._upload(job, job.params["image_url"]) if job.params.get("image_url") else None
        if template:
            return fill_workflow(template, job, options, source)
        if job.modality == "music":
            return music_graph(job, options)
        if job.modality == "video":
            return video_graph(job, options)
        return image_graph(job, options, source)

    def _refusal(self, exc: InvalidInput) -> InvalidInput:
        """A loader whose file is not on this server belongs to the route: another channel may have it.
        The 400's node_errors name it; ComfyUI lists the files it does have."""
        node_errors = exc.body.get("node_errors") if isinstance(exc.body, dict) else None
        for info in (node_errors or {}).values():
            if not isinstance(info, dict) or info.get("class_type") not in LOADERS:
                continue
            if any(isinstance(e, dict) and e.get("type") in MISSING_FILE_ERRORS for e in info.get("errors") or []):
                return RouteUnsupported(f"{exc.message} (a model file this ComfyUI server does not have)",
                                        status=exc.status)
        return exc

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
                if kind == "images" and node_output.get("animated") and any(node_output["animated"]):
                    prefix = "video/"  # SaveVideo reports its file under "images", marked animated
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

"""ComfyUI's server API: POST /prompt queues an API-format workflow graph and answers its
prompt_id (or 400 with node_errors); GET /history/{prompt_id} is {} until the prompt has run,
then holds its outputs (filename, subfolder, type) and status; GET /view serves the files;
GET /queue lists running and pending prompts; POST /queue {"delete": [...]} and POST /interrupt
cancel. The fake validates graphs the way ComfyUI's validate_inputs does, for the node types
Atelier's graphs use: every required input, link targets and their output types, enum and
file choices (each loader lists its own model folder) and ranges. A checkpoint without
text encoders (SD 3.5 Large's) fails when run if its CLIP output is used; SaveVideo results
come under "images" with "animated": [true], as core ComfyUI reports them."""
from __future__ import annotations

from . import media
from .core import FakeRequest, FakeResponse, error_format, route, state

# The model folders of a box with the files Atelier's catalog names (ComfyUI lists each loader's
# choices from its folder: a file in another folder is "not in list", as on a real server).
FOLDERS = {
    "checkpoints": ["sd_xl_base_1.0.safetensors", "v1-5-pruned-emaonly.safetensors", "ace_step_v1_3.5b.safetensors",
                    "sd3.5_large.safetensors", "flux1-dev-fp8.safetensors"],
    "diffusion_models": ["flux1-schnell.safetensors", "flux1-dev.safetensors", "qwen_image_fp8_e4m3fn.safetensors",
                         "wan2.2_t2v_high_noise_14B_fp8_scaled.safetensors",
                         "wan2.2_t2v_low_noise_14B_fp8_scaled.safetensors"],
    "text_encoders": ["clip_l.safetensors", "clip_g.safetensors", "t5xxl_fp16.safetensors",
                      "qwen_2.5_vl_7b_fp8_scaled.safetensors", "umt5_xxl_fp8_e4m3fn_scaled.safetensors"],
    "vae": ["ae.safetensors", "qwen_image_vae.safetensors", "wan_2.1_vae.safetensors"],
}
CHECKPOINTS = FOLDERS["checkpoints"]
# Checkpoints that hold a diffusion model and a VAE but no text encoders: their CLIP output is
# None, and encoding with it fails when the prompt runs (ComfyUI's "clip input is invalid").
WITHOUT_CLIP = {"sd3.5_large.safetensors"}
SAMPLERS = ["euler", "euler_ancestral", "heun", "dpmpp_2m", "dpmpp_2m_sde", "ddim", "uni_pc"]
SCHEDULERS = ["normal", "karras", "exponential", "sgm_uniform", "simple", "ddim_uniform", "beta"]
CLIP_TYPES = ["stable_diffusion", "stable_cascade", "sd3", "stable_audio", "mochi", "ltxv", "pixart", "cosmos",
              "lumina2", "wan", "hidream", "chroma", "ace", "omnigen2", "qwen_image", "hunyuan_image"]
DUAL_CLIP_TYPES = ["sdxl", "sd3", "flux", "hunyuan_video", "hidream"]
MAX = 16384


def _link(kind):
    return ("link", kind)


def _int(low, high, step=1):
    return ("int", low, high, step)


def _float(low, high):
    return ("float", low, high)


def _choice(*values):
    return ("enum", list(values))


def _file(folder):
    return ("file", folder)


STRING = ("string",)
SAMPLING = {"seed": _int(0, 2 ** 64 - 1), "steps": _int(1, 10000), "cfg": _float(0, 100),
            "sampler_name": ("enum", SAMPLERS), "scheduler": ("enum", SCHEDULERS)}
# class_type -> (required inputs, output types), from the nodes' INPUT_TYPES / RETURN_TYPES.
NODES = {
    "CheckpointLoaderSimple": ({"ckpt_name": _file("checkpoints")}, ("MODEL", "CLIP", "VAE")),
    "UNETLoader": ({"unet_name": _file("diffusion_models"),
                    "weight_dtype": _choice("default", "fp8_e4m3fn", "fp8_e4m3fn_fast", "fp8_e5m2")}, ("MODEL",)),
    "CLIPLoader": ({"clip_name": _file("text_encoders"), "type": ("enum", CLIP_TYPES)}, ("CLIP",)),
    "DualCLIPLoader": ({"clip_name1": _file("text_encoders"), "clip_name2": _file("text_encoders"),
                        "type": ("enum", DUAL_CLIP_TYPES)}, ("CLIP",)),
    "TripleCLIPLoader": ({"clip_name1": _file("text_encoders"), "clip_name2": _file("text_encoders"),
                          "clip_name3": _file("text_encoders")}, ("CLIP",)),
    "VAELoader": ({"vae_name": _file("vae")}, ("VAE",)),
    "CLIPTextEncode": ({"text": STRING, "clip": _link("CLIP")}, ("CONDITIONING",)),
    "FluxGuidance": ({"conditioning": _link("CONDITIONING"), "guidance": _float(0, 100)}, ("CONDITIONING",)),
    "ModelSamplingAuraFlow": ({"model": _link("MODEL"), "shift": _float(0, 100)}, ("MODEL",)),
    "ModelSamplingSD3": ({"model": _link("MODEL"), "shift": _float(0, 100)}, ("MODEL",)),
    "EmptyLatentImage": ({"width": _int(16, MAX, 8), "height": _int(16, MAX, 8), "batch_size": _int(1, 4096)},
                         ("LATENT",)),
    "EmptySD3LatentImage": ({"width": _int(16, MAX, 16), "height": _int(16, MAX, 16), "batch_size": _int(1, 4096)},
                            ("LATENT",)),
    "EmptyHunyuanLatentVideo": ({"width": _int(16, MAX, 16), "height": _int(16, MAX, 16), "length": _int(1, MAX, 4),
                                 "batch_size": _int(1, 4096)}, ("LATENT",)),
    "KSampler": ({**SAMPLING, "model": _link("MODEL"), "positive": _link("CONDITIONING"),
                  "negative": _link("CONDITIONING"), "latent_image": _link("LATENT"), "denoise": _float(0, 1)},
                 ("LATENT",)),
    "KSamplerAdvanced": ({"model": _link("MODEL"), "add_noise": _choice("enable", "disable"),
                          "noise_seed": _int(0, 2 ** 64 - 1), "steps": _int(1, 10000), "cfg": _float(0, 100),
                          "sampler_name": ("enum", SAMPLERS), "scheduler": ("enum", SCHEDULERS),
                          "positive": _link("CONDITIONING"), "negative": _link("CONDITIONING"),
                          "latent_image": _link("LATENT"), "start_at_step": _int(0, 10000),
                          "end_at_step": _int(0, 10000), "return_with_leftover_noise": _choice("disable", "enable")},
                         ("LATENT",)),
    "VAEDecode": ({"samples": _link("LATENT"), "vae": _link("VAE")}, ("IMAGE",)),
    "VAEEncode": ({"pixels": _link("IMAGE"), "vae": _link("VAE")}, ("LATENT",)),
    "LoadImage": ({"image": STRING}, ("IMAGE", "MASK")),
    "SaveImage": ({"images": _link("IMAGE"), "filename_prefix": STRING}, ()),
    "CreateVideo": ({"images": _link("IMAGE"), "fps": _float(1, 120)}, ("VIDEO",)),
    "SaveVideo": ({"video": _link("VIDEO"), "filename_prefix": STRING, "format": _choice("auto", "mp4"),
                   "codec": _choice("auto", "h264")}, ()),
    "TextEncodeAceStepAudio": ({"tags": STRING, "lyrics": STRING, "lyrics_strength": _float(0, 10),
                                "clip": _link("CLIP")}, ("CONDITIONING",)),
    "ConditioningZeroOut": ({"conditioning": _link("CONDITIONING")}, ("CONDITIONING",)),
    "EmptyAceStepLatentAudio": ({"seconds": _float(1, 1000), "batch_size": _int(1, 4096)}, ("LATENT",)),
    "VAEDecodeAudio": ({"samples": _link("LATENT"), "vae": _link("VAE")}, ("AUDIO",)),
    "SaveAudio": ({"audio": _link("AUDIO"), "filename_prefix": STRING}, ()),
}
OUTPUT_NODES = {"SaveImage", "SaveAudio", "SaveVideo"}


@error_format("comfyui")
def comfy_error(status: int, message: str, code: str = "") -> FakeResponse:
    return FakeResponse(status=status, json={"error": {"type": code or "server_error", "message": message,
                                                       "details": "", "extra_info": {}}, "node_errors": {}})


def _node_error(node_id: str, class_type: str, kind: str, message: str, details: str) -> dict:
    return {node_id: {"errors": [{"type": kind, "message": message, "details": details, "extra_info": {}}],
                      "dependent_outputs": [], "class_type": class_type}}


def _check_value(name: str, spec: tuple, value, graph: dict) -> tuple[str, str, str] | None:
    """(error type, message, details) when `value` does not fit the input's spec, as ComfyUI's
    validate_inputs words it."""
    kind = spec[0]
    if kind == "link":
        if not isinstance(value, list) or len(value) != 2:
            return "invalid_input_type", "Value is not a link", f"{name}: {value!r}"
        source = graph.get(str(value[0]))
        if source is None:
            return "bad_linked_input", "Bad linked input", f"{name}: node {value[0]} does not exist"
        outputs = NODES.get(source.get("class_type"), ({}, ()))[1]
        if not isinstance(value[1], int) or not 0 <= value[1] < len(outputs):
            return "bad_linked_input", "Bad linked input", f"{name}: output {value[1]} of node {value[0]} does not exist"
        if outputs[value[1]] != spec[1]:
            return ("return_type_mismatch", "Return type mismatch between linked nodes",
                    f"{name}, received_type({outputs[value[1]]}) mismatch input_type({spec[1]})")
        return None
    if isinstance(value, list):
        return None  # a link into a widget input (converted widget): ComfyUI allows it
    if kind in ("enum", "file"):
        choices = spec[1] if kind == "enum" else FOLDERS[spec[1]]
        if value not in choices:
            return "value_not_in_list", "Value not in list", f"{name}: '{value}' not in {choices}"
        return None
    if kind == "string":
        return None if isinstance(value, str) else ("invalid_input_type", "Value is not a string", f"{name}: {value!r}")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (kind == "int" and not isinstance(value, int)):
        return "invalid_input_type", f"Failed to convert an input value to a {kind.upper()} value", f"{name}, {value}"
    low, high = spec[1], spec[2]
    if value < low:
        return "value_smaller_than_min", f"Value {value} smaller than min of {low}", f"{name}"
    if value > high:
        return "value_bigger_than_max", f"Value {value} bigger than max of {high}", f"{name}"
    return None  # like ComfyUI, a step is a widget hint, not checked


def _validate(graph: dict) -> tuple[dict, dict]:
    """(error, node_errors), both empty when the graph is fine."""
    if not isinstance(graph, dict) or not graph:
        return {"type": "invalid_prompt", "message": "Cannot execute because the prompt is empty.", "details": "",
                "extra_info": {}}, {}
    node_errors: dict = {}
    for node_id, node in graph.items():
        class_type = node.get("class_type")
        if class_type not in NODES:
            return {"type": "invalid_prompt", "message": f"Cannot execute because node {class_type} does not exist.",
                    "details": f"Node ID '#{node_id}'", "extra_info": {}}, {}
        inputs = node.get("inputs") or {}
        for name, spec in NODES[class_type][0].items():
            if name not in inputs:
                node_errors.update(_node_error(node_id, class_type, "required_input_missing",
                                               "Required input is missing", name))
                continue
            problem = _check_value(name, spec, inputs[name], graph)
            if problem:
                node_errors.update(_node_error(node_id, class_type, *problem))
        if class_type == "LoadImage" and f"comfyui:input/{inputs.get('image')}" not in state.files:
            node_errors.update(_node_error(node_id, class_type, "custom_validation_failed",
                                           "Custom validation failed for node", f"image - Invalid image file: "
                                           f"{inputs.get('image')}"))
    if not any(node.get("class_type") in OUTPUT_NODES for node in graph.values()):
        return {"type": "prompt_no_outputs", "message": "Prompt has no outputs", "details": "", "extra_info": {}}, {}
    if node_errors:
        return {"type": "prompt_outputs_failed_validation", "message": "Prompt outputs failed validation",
                "details": "", "extra_info": {}}, node_errors
    return {}, {}


def _missing_clip(graph: dict) -> dict | None:
    """The node that encodes with the CLIP of a checkpoint that has none: it fails when run."""
    for node_id, node in graph.items():
        clip = (node.get("inputs") or {}).get("clip")
        if isinstance(clip, list) and clip[1] == 1:
            loader = graph.get(str(clip[0])) or {}
            if loader.get("class_type") == "CheckpointLoaderSimple" and loader["inputs"].get("ckpt_name") in WITHOUT_CLIP:
                return {"node_id": node_id, "node_type": node["class_type"]}
    return None


def _auth(req: FakeRequest) -> FakeResponse | None:
    # Stock ComfyUI has no auth; deployments put a Bearer-checking proxy in front. "bad" keys get its 401.
    if req.bearer().startswith("bad"):
        return FakeResponse(status=401, body=b"401: Unauthorized", content_type="text/plain")
    return None


@route("POST", r"^/prompt$", name="comfyui.prompt")
def queue_prompt(req: FakeRequest) -> FakeResponse:
    denied = _auth(req)
    if denied:
        return denied
    body = req.json() or {}
    error, node_errors = _validate(body.get("prompt"))
    if error:
        return FakeResponse(status=400, json={"error": error, "node_errors": node_errors})
    graph = body["prompt"]
    with state.lock:
        number = sum(1 for job in state.jobs.values() if job["route"] == "comfyui")
    job = state.create_job("comfyui", graph=graph, number=number, client_id=body.get("client_id"))
    return FakeResponse(json={"prompt_id": job["id"], "number": number, "node_errors": {}})


def _save(subfolder: str, filename: str, data: bytes, mime: str) -> dict:
    with state.lock:
        state.files[f"comfyui:output/{subfolder + '/' if subfolder else ''}{filename}"] = (data, mime)
    return {"filename": filename, "subfolder": subfolder, "type": "output"}


def _finish(job: dict) -> None:
    """Write the SaveImage / SaveAudio outputs of a finished job (once)."""
    if job.get("outputs") is not None:
        return
    outputs = {}
    nodes = job["graph"].values()
    for node_id, node in job["graph"].items():
        prefix = node["inputs"].get("filename_prefix", "ComfyUI")
        subfolder, _, prefix = prefix.rpartition("/")
        if node["class_type"] == "SaveAudio":
            filename = f"{prefix}_{job['number'] + 1:05d}_.flac"
            outputs[node_id] = {"audio": [_save(subfolder, filename, media.audio("flac"), "audio/flac")]}
        elif node["class_type"] == "SaveVideo":
            # Core SaveVideo reports its file under "images", marked animated (comfy_api PreviewVideo).
            filename = f"{prefix}_{job['number'] + 1:05d}_.mp4"
            outputs[node_id] = {"images": [_save(subfolder, filename, media.mp4(), "video/mp4")], "animated": [True]}
        elif node["class_type"] == "SaveImage":
            latent = next((n["inputs"] for n in nodes if n["class_type"] in ("EmptyLatentImage", "EmptySD3LatentImage")),
                          {"width": 512, "height": 512, "batch_size": 1})  # img2img: the source's size
            images = []
            for index in range(int(latent.get("batch_size", 1))):
                filename = f"{prefix}_{job['number'] * 8 + index + 1:05d}_.png"
                data = media.png(max(8, latent["width"] // 16), max(8, latent["height"] // 16), f"{job['id']}{index}")
                images.append(_save(subfolder, filename, data, "image/png"))
            outputs[node_id] = {"images": images}
    job["outputs"] = outputs


@route("GET", r"^/history/(?P<id>[\w-]+)$", name="comfyui.history")
def history(req: FakeRequest) -> FakeResponse:
    denied = _auth(req)
    if denied:
        return denied
    job = state.jobs.get(req.match["id"])
    if job is None or job["route"] != "comfyui":
        return FakeResponse(json={})
    phase = state.advance(job)
    if phase == "pending":
        return FakeResponse(json={})
    started = ["execution_start", {"prompt_id": job["id"], "timestamp": int(job["created_at"] * 1000)}]
    no_clip = _missing_clip(job["graph"]) if phase == "succeeded" else None
    if no_clip:
        status = {"status_str": "error", "completed": False, "messages": [started, ["execution_error", {
            "prompt_id": job["id"], **no_clip, "exception_type": "RuntimeError",
            "exception_message": "ERROR: clip input is invalid: None\n\nIf the clip is from a checkpoint loader node "
                                 "your checkpoint does not contain a valid clip or text encoder model.",
            "traceback": []}]]}
        outputs = {}
    elif phase == "succeeded":
        _finish(job)
        status = {"status_str": "success", "completed": True,
                  "messages": [started, ["execution_success", {"prompt_id": job["id"]}]]}
        outputs = job["outputs"]
    elif phase == "canceled":
        status = {"status_str": "error", "completed": False,
                  "messages": [started, ["execution_interrupted", {"prompt_id": job["id"], "node_id": "3",
                                                                    "node_type": "KSampler"}]]}
        outputs = {}
    else:
        status = {"status_str": "error", "completed": False, "messages": [started, ["execution_error", {
            "prompt_id": job["id"], "node_id": "3", "node_type": "KSampler", "exception_type": "torch.OutOfMemoryError",
            "exception_message": "Allocation on device 0 would exceed allowed memory. (out of memory)",
            "traceback": []}]]}
        outputs = {}
    return FakeResponse(json={job["id"]: {"prompt": [job["number"], job["id"], job["graph"], {}, ["9"]],
                                          "outputs": outputs, "status": status, "meta": {}}})


@route("POST", r"^/upload/image$", name="comfyui.upload")
def upload(req: FakeRequest) -> FakeResponse:
    denied = _auth(req)
    if denied:
        return denied
    fields, files = req.multipart()
    if not files.get("image"):
        return FakeResponse(status=400, body=b"", content_type="text/plain")
    name, data, mime = files["image"][0]
    subfolder = fields.get("subfolder", "")
    with state.lock:
        state.files[f"comfyui:input/{subfolder + '/' if subfolder else ''}{name}"] = (data, mime)
    return FakeResponse(json={"name": name, "subfolder": subfolder, "type": fields.get("type", "input")})


@route("GET", r"^/view$", name="comfyui.view")
def view(req: FakeRequest) -> FakeResponse:
    denied = _auth(req)
    if denied:
        return denied
    filename, subfolder, kind = req.arg("filename", ""), req.arg("subfolder", ""), req.arg("type", "output")
    if "/" in filename or ".." in filename or ".." in subfolder:
        return FakeResponse(status=403, body=b"", content_type="text/plain")
    item = state.files.get(f"comfyui:{kind}/{subfolder + '/' if subfolder else ''}{filename}")
    if item is None:
        return FakeResponse(status=404, body=b"404: Not Found", content_type="text/plain")
    return FakeResponse(body=item[0], content_type=item[1])


@route("GET", r"^/queue$", name="comfyui.queue")
def queue(req: FakeRequest) -> FakeResponse:
    with state.lock:
        waiting = [job for job in state.jobs.values() if job["route"] == "comfyui" and job.get("outputs") is None
                   and not job.get("canceled")]
    entries = [[job["number"], job["id"], job["graph"], {}, ["9"]] for job in waiting]
    return FakeResponse(json={"queue_running": entries[:1], "queue_pending": entries[1:]})


@route("POST", r"^/queue$", name="comfyui.queue_edit")
def queue_edit(req: FakeRequest) -> FakeResponse:
    for prompt_id in (req.json() or {}).get("delete", []):
        if prompt_id in state.jobs:
            state.jobs[prompt_id]["canceled"] = True
    return FakeResponse(body=b"", content_type="text/plain")


@route("POST", r"^/interrupt$", name="comfyui.interrupt")
def interrupt(req: FakeRequest) -> FakeResponse:
    prompt_id = (req.json() or {}).get("prompt_id") if req.body else None
    if prompt_id in state.jobs:
        state.jobs[prompt_id]["canceled"] = True
    return FakeResponse(body=b"", content_type="text/plain")


@route("GET", r"^/object_info/CheckpointLoaderSimple$", name="comfyui.object_info")
def object_info(req: FakeRequest) -> FakeResponse:
    return FakeResponse(json={"CheckpointLoaderSimple": {"input": {"required": {"ckpt_name": [CHECKPOINTS]}}}})

"""ComfyUI's server API: POST /prompt queues an API-format workflow graph and answers its
prompt_id (or 400 with node_errors); GET /history/{prompt_id} is {} until the prompt has run,
then holds its outputs (filename, subfolder, type) and status; GET /view serves the files;
GET /queue lists running and pending prompts; POST /queue {"delete": [...]} and POST /interrupt
cancel. The fake validates graphs against the handful of node types a txt2img graph uses."""
from __future__ import annotations

from . import media
from .core import FakeRequest, FakeResponse, error_format, route, state

CHECKPOINTS = ["sd_xl_base_1.0.safetensors", "v1-5-pruned-emaonly.safetensors", "flux1-schnell.safetensors",
               "flux1-dev.safetensors", "ace_step_v1_3.5b.safetensors"]
SAMPLERS = ["euler", "euler_ancestral", "heun", "dpmpp_2m", "dpmpp_2m_sde", "ddim", "uni_pc"]
SCHEDULERS = ["normal", "karras", "exponential", "sgm_uniform", "simple", "ddim_uniform"]
# class_type -> required inputs (links are [node_id, output_index]).
NODES = {
    "CheckpointLoaderSimple": ["ckpt_name"],
    "CLIPTextEncode": ["text", "clip"],
    "EmptyLatentImage": ["width", "height", "batch_size"],
    "KSampler": ["seed", "steps", "cfg", "sampler_name", "scheduler", "denoise", "model", "positive", "negative",
                 "latent_image"],
    "VAEDecode": ["samples", "vae"],
    "SaveImage": ["images"],
    "LoadImage": ["image"],
    "FluxGuidance": ["conditioning", "guidance"],
    "VAEEncode": ["pixels", "vae"],
    "TextEncodeAceStepAudio": ["tags", "lyrics", "lyrics_strength", "clip"],
    "ConditioningZeroOut": ["conditioning"],
    "EmptyAceStepLatentAudio": ["seconds", "batch_size"],
    "VAEDecodeAudio": ["samples", "vae"],
    "SaveAudio": ["audio"],
}
OUTPUT_NODES = {"SaveImage", "SaveAudio"}


@error_format("comfyui")
def comfy_error(status: int, message: str, code: str = "") -> FakeResponse:
    return FakeResponse(status=status, json={"error": {"type": code or "server_error", "message": message,
                                                       "details": "", "extra_info": {}}, "node_errors": {}})


def _node_error(node_id: str, class_type: str, kind: str, message: str, details: str) -> dict:
    return {node_id: {"errors": [{"type": kind, "message": message, "details": details, "extra_info": {}}],
                      "dependent_outputs": [], "class_type": class_type}}


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
        for name in NODES[class_type]:
            if name not in inputs:
                node_errors.update(_node_error(node_id, class_type, "required_input_missing",
                                               "Required input is missing", name))
            elif isinstance(inputs[name], list) and str(inputs[name][0]) not in graph:
                node_errors.update(_node_error(node_id, class_type, "bad_linked_input", "Bad linked input",
                                               f"{name}: node {inputs[name][0]} does not exist"))
        if class_type == "CheckpointLoaderSimple" and inputs.get("ckpt_name") not in CHECKPOINTS:
            node_errors.update(_node_error(node_id, class_type, "value_not_in_list", "Value not in list",
                                           f"ckpt_name: '{inputs.get('ckpt_name')}' not in {CHECKPOINTS}"))
        if class_type == "EmptyLatentImage":
            for name in ("width", "height"):
                value = inputs.get(name)
                if not isinstance(value, int) or not 16 <= value <= 16384 or value % 8:
                    kind = "value_bigger_than_max" if isinstance(value, int) and value > 16384 else "invalid_input_type"
                    node_errors.update(_node_error(node_id, class_type, kind,
                                                   "Value out of range or not a multiple of 8", f"{name}: {value}"))
        if class_type == "LoadImage" and f"comfyui:input/{inputs.get('image')}" not in state.files:
            node_errors.update(_node_error(node_id, class_type, "custom_validation_failed",
                                           "Custom validation failed for node", f"image - Invalid image file: "
                                           f"{inputs.get('image')}"))
        if class_type == "KSampler":
            for name, choices in (("sampler_name", SAMPLERS), ("scheduler", SCHEDULERS)):
                if inputs.get(name) not in choices:
                    node_errors.update(_node_error(node_id, class_type, "value_not_in_list", "Value not in list",
                                                   f"{name}: '{inputs.get(name)}' not in {choices}"))
    if not any(node.get("class_type") in OUTPUT_NODES for node in graph.values()):
        return {"type": "prompt_no_outputs", "message": "Prompt has no outputs", "details": "", "extra_info": {}}, {}
    if node_errors:
        return {"type": "prompt_outputs_failed_validation", "message": "Prompt outputs failed validation",
                "details": "", "extra_info": {}}, node_errors
    return {}, {}


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
        elif node["class_type"] == "SaveImage":
            latent = next((n["inputs"] for n in nodes if n["class_type"] == "EmptyLatentImage"),
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
    if phase == "succeeded":
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

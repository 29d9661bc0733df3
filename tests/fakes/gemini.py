"""Fake Gemini API image generation (https://ai.google.dev/gemini-api/docs/image-generation).

    POST /v1beta/models/{model}:generateContent   (x-goog-api-key header or ?key=)

Answers synchronously with base64 PNGs in candidates[0].content.parts[].inlineData. Errors are
Google's {"error": {"code", "message", "status", "details"}}; a key containing "invalid" or
starting with "bad" is a 400 with reason API_KEY_INVALID, as the real API answers. Prompts steer
the other outcomes: "forbidden" -> promptFeedback.blockReason, "unsafe image" -> finishReason IMAGE_SAFETY,
"just talk" -> a text-only answer, "quota" -> 429 with RetryInfo. "pro" models also send a
draft image in a thought part first, like the thinking image models do.

Without responseModalities the answer is text (chat): the model echoes the last user turn,
prefixed with the system instruction's first word when there is one; AUDIO answers raw PCM
(audio/L16;codec=pcm;rate=24000) as the TTS models do. streamGenerateContent?alt=sse sends the
same text answer word by word as server-sent events."""
from __future__ import annotations

import base64

from . import media
from .core import FakeRequest, FakeResponse, error_format, route, sse

STATUS_NAMES = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
                429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE", 504: "DEADLINE_EXCEEDED"}
ASPECT_RATIOS = {"1:1": (64, 64), "2:3": (42, 64), "3:2": (64, 42), "3:4": (48, 64), "4:3": (64, 48),
                 "4:5": (52, 64), "5:4": (64, 52), "9:16": (36, 64), "16:9": (64, 36), "21:9": (64, 28)}
IMAGE_SIZES = {"1K", "2K", "4K"}
# Nano Banana 2 (gemini-3.1-flash-image) adds extra-wide and extra-tall ratios.
WIDE_RATIOS = {"1:4": (16, 64), "4:1": (64, 16), "1:8": (8, 64), "8:1": (64, 8)}
# Shut down on the Gemini API (deprecations page): they answer 404 like any unknown model.
SHUT_DOWN = {"gemini-2.5-flash-image", "gemini-2.5-flash-image-preview", "gemini-3-pro-image-preview",
             "gemini-2.5-pro", "gemini-2.5-flash", "gemini-2.5-flash-lite", "gemini-2.0-flash"}


def shut_down(model: str) -> FakeResponse | None:
    if model in SHUT_DOWN:
        return google_error(404, f"models/{model} is not found for API version v1beta, or is not supported for "
                                 "generateContent. Call ListModels to see the list of available models and their "
                                 "supported methods.")
    return None


def google_error(status: int, message: str, code: str = "", details: list | None = None) -> FakeResponse:
    error = {"code": status, "message": message, "status": code or STATUS_NAMES.get(status, "UNKNOWN")}
    if details:
        error["details"] = details
    return FakeResponse(status=status, json={"error": error})


error_format("gemini")(google_error)


def refused(req: FakeRequest) -> FakeResponse | None:
    """Google's answers for a missing or wrong API key."""
    key = req.headers.get("x-goog-api-key") or req.arg("key") or ""
    if not key:
        return google_error(403, "Method doesn't allow unregistered callers (callers without established "
                                 "identity). Please use API Key or other form of API consumer identity to call "
                                 "this API.")
    if "invalid" in key or key.startswith("bad"):
        return google_error(400, "API key not valid. Please pass a valid API key.", details=[{
            "@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID",
            "domain": "googleapis.com"}])
    return None


def _image_part(width: int, height: int, seed: str, thought: bool = False) -> dict:
    part = {"inlineData": {"mimeType": "image/png", "data": base64.b64encode(media.png(width, height, seed)).decode()}}
    if thought:
        part["thought"] = True
    return part


@route("POST", r"^/v1beta/models/(?P<model>[\w.-]+):generateContent$", name="gemini.generate")
def generate(req: FakeRequest) -> FakeResponse:
    denied = refused(req) or shut_down(req.match["model"])
    if denied:
        return denied
    body = req.json()
    contents = body.get("contents") if isinstance(body, dict) else None
    if not contents:
        return google_error(400, "* GenerateContentRequest.contents: contents is not specified")
    parts = [p for c in contents for p in c.get("parts", [])]
    prompt = " ".join(str(p.get("text", "")) for p in parts).lower()
    for part in parts:
        inline = part.get("inline_data") or part.get("inlineData")
        if inline is not None:
            try:
                base64.b64decode(inline.get("data", ""), validate=True)
            except ValueError:
                return google_error(400, "Invalid value at 'contents[0].parts[0].inline_data.data' (TYPE_BYTES), "
                                         "Base64 decoding failed")
    config = body.get("generationConfig") or {}
    modalities = [str(m).upper() for m in config.get("responseModalities") or ["TEXT"]]
    if "AUDIO" in modalities:
        return _speech(req, prompt, config)
    if "IMAGE" not in modalities:
        return _text(req, prompt, body)
    image_config = config.get("imageConfig") or {}
    ratio = image_config.get("aspectRatio", "1:1")
    ratios = {**ASPECT_RATIOS, **(WIDE_RATIOS if req.match["model"].startswith("gemini-3.1-flash") else {})}
    if ratio not in ratios:
        return google_error(400, f"Unsupported aspect ratio: {ratio}")
    if "imageSize" in image_config and image_config["imageSize"] not in IMAGE_SIZES:
        return google_error(400, f"Unsupported image size: {image_config['imageSize']}")
    usage = {"promptTokenCount": 12, "candidatesTokenCount": 1290, "totalTokenCount": 1302}
    if "quota" in prompt:
        return google_error(429, "You exceeded your current quota, please check your plan and billing details.",
                            details=[{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "3s"}])
    if "forbidden" in prompt:
        return FakeResponse(json={"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"},
                                  "usageMetadata": {"promptTokenCount": 12, "totalTokenCount": 12}})
    if "unsafe image" in prompt:
        return FakeResponse(json={"candidates": [{"finishReason": "IMAGE_SAFETY", "index": 0}], "usageMetadata": usage})
    if "just talk" in prompt:
        return FakeResponse(json={"candidates": [{"content": {"role": "model", "parts": [
            {"text": "I can describe it instead: a quiet harbour at dawn."}]}, "finishReason": "STOP"}],
            "usageMetadata": usage})
    width, height = ratios[ratio]
    answer_parts = []
    if "pro" in req.match["model"]:
        answer_parts.append(_image_part(8, 8, "draft", thought=True))
    answer_parts += [{"text": "Here is the image you asked for."}, _image_part(width, height, prompt)]
    return FakeResponse(json={
        "candidates": [{"content": {"role": "model", "parts": answer_parts}, "finishReason": "STOP", "index": 0}],
        "usageMetadata": usage, "modelVersion": req.match["model"], "responseId": "fake-response",
    })


IMAGEN_RATIOS = {"1:1": (64, 64), "3:4": (48, 64), "4:3": (64, 48), "9:16": (36, 64), "16:9": (64, 36)}


@route("POST", r"^/v1beta/models/(?P<model>imagen-[\w.-]+):predict$", name="gemini.predict")
def imagen(req: FakeRequest) -> FakeResponse:
    """Imagen on the Gemini API: {"instances": [{"prompt"}], "parameters": {...}} -> {"predictions": [...]}.
    A prompt containing "forbidden" gets an empty answer, as when the safety filter removes every image."""
    denied = refused(req)
    if denied:
        return denied
    body = req.json()
    instances = body.get("instances") if isinstance(body, dict) else None
    if not instances or not str(instances[0].get("prompt", "")).strip():
        return google_error(400, "* PredictRequest.instances[0].prompt: prompt is required")
    parameters = body.get("parameters") or {}
    count = parameters.get("sampleCount", 4)
    if not isinstance(count, int) or not 1 <= count <= 4:
        return google_error(400, f"sampleCount must be between 1 and 4 (got {count!r}).")
    ratio = parameters.get("aspectRatio", "1:1")
    if ratio not in IMAGEN_RATIOS:
        return google_error(400, f"Unsupported aspect ratio: {ratio}")
    if parameters.get("sampleImageSize", "1K") not in {"1K", "2K"}:
        return google_error(400, f"Unsupported sampleImageSize: {parameters['sampleImageSize']}")
    prompt = str(instances[0]["prompt"])
    if "forbidden" in prompt.lower():
        return FakeResponse(json={})
    width, height = IMAGEN_RATIOS[ratio]
    predictions = [{"bytesBase64Encoded": base64.b64encode(media.png(width, height, f"{prompt}{i}")).decode(),
                    "mimeType": "image/png"} for i in range(count)]
    return FakeResponse(json={"predictions": predictions})


def _reply(prompt: str, body: dict) -> str:
    system = " ".join(p.get("text", "") for p in (body.get("systemInstruction") or {}).get("parts", []))
    last = next((c for c in reversed(body["contents"]) if c.get("role", "user") == "user"), body["contents"][-1])
    said = " ".join(str(p.get("text", "")) for p in last.get("parts", []) if "text" in p)
    images = sum(1 for p in last.get("parts", []) if "inline_data" in p or "inlineData" in p)
    prefix = f"[{system.split()[0]}] " if system.split() else ""
    seen = f" (and {images} image{'s' if images != 1 else ''})" if images else ""
    return f"{prefix}You said: {said}{seen}"


def _text_usage(body: dict, reply: str) -> dict:
    prompt_tokens = sum(len(str(p.get("text", "")).split()) for c in body["contents"] for p in c.get("parts", []))
    return {"promptTokenCount": prompt_tokens, "candidatesTokenCount": len(reply.split()), "thoughtsTokenCount": 3,
            "totalTokenCount": prompt_tokens + len(reply.split()) + 3}


def _text(req: FakeRequest, prompt: str, body: dict) -> FakeResponse:
    if "forbidden" in prompt:
        return FakeResponse(json={"promptFeedback": {"blockReason": "SAFETY"}})
    reply = _reply(prompt, body)
    return FakeResponse(json={"candidates": [{"content": {"role": "model", "parts": [
        {"text": "thinking it over", "thought": True}, {"text": reply}]}, "finishReason": "STOP", "index": 0}],
        "usageMetadata": _text_usage(body, reply), "modelVersion": req.match["model"]})


def _speech(req: FakeRequest, prompt: str, config: dict) -> FakeResponse:
    voice = ((config.get("speechConfig") or {}).get("voiceConfig") or {}).get("prebuiltVoiceConfig", {})
    if voice.get("voiceName") not in {"Kore", "Puck", "Zephyr", "Charon", "Fenrir", "Leda", "Orus", "Aoede"}:
        return google_error(400, f"Voice name {voice.get('voiceName')!r} is not supported.")
    pcm = media.audio("pcm", seconds=0.5, rate=24000)
    return FakeResponse(json={"candidates": [{"content": {"role": "model", "parts": [{"inlineData": {
        "mimeType": "audio/L16;codec=pcm;rate=24000", "data": base64.b64encode(pcm).decode()}}]},
        "finishReason": "STOP", "index": 0}], "usageMetadata": {"promptTokenCount": len(prompt.split())}})


@route("POST", r"^/v1beta/models/(?P<model>[\w.-]+):streamGenerateContent$", name="gemini.stream")
def stream(req: FakeRequest) -> FakeResponse:
    denied = refused(req) or shut_down(req.match["model"])
    if denied:
        return denied
    if req.arg("alt") != "sse":
        return google_error(400, "This fake streams server-sent events only: add ?alt=sse.")
    body = req.json()
    if not isinstance(body, dict) or not body.get("contents"):
        return google_error(400, "* GenerateContentRequest.contents: contents is not specified")
    reply = _reply("", body)
    words = reply.split(" ")
    events = [{"candidates": [{"content": {"role": "model", "parts": [{"text": word + (" " if i < len(words) - 1
                                                                                      else "")}]}, "index": 0}]}
              for i, word in enumerate(words)]
    events[-1]["candidates"][0]["finishReason"] = "STOP"
    events[-1]["usageMetadata"] = _text_usage(body, reply)
    return FakeResponse(stream=sse(events, done=False), content_type="text/event-stream")

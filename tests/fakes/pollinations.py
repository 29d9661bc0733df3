"""pollinations.ai gateway (gen.pollinations.ai): GET /image/{prompt} answers the image (or,
for video models, the MP4) itself; GET /text/{prompt} answers plain text (or MP3 for the
openai-audio model). Its OpenAI-compatible POST /v1/chat/completions is served by the openai
fake module (route openai.chat), which speaks the same wire format. Keys come as a
Bearer header or ?key=. Errors: {"status", "success": false, "error": {"code", "message", ...}}.
Keys starting with "bad" are refused (401); ones starting with "broke" have no pollen (402).

Query flags are read the way the gateway's zod schema reads them (z.coerce.boolean): any
non-empty string is true, "false" included (interpret() shows what a query meant). With safe on,
a prompt containing "forbidden" is blocked. Text model names are the enum of reference 002."""
from __future__ import annotations

from urllib.parse import unquote

from . import media
from .core import FakeRequest, FakeResponse, error_format, route

IMAGE_MODELS = {"flux", "turbo", "gptimage", "kontext", "seedream", "nanobanana", "nanobanana-pro"}
VIDEO_MODELS = {"veo", "seedance"}
TEXT_MODELS = {"openai", "openai-fast", "openai-large", "qwen-coder", "mistral", "openai-audio", "gemini", "gemini-fast",
               "deepseek", "grok", "gemini-search", "chickytutor", "midijourney", "claude-fast", "claude",
               "claude-large", "perplexity-fast", "perplexity-reasoning", "kimi", "gemini-large", "nova-fast", "glm",
               "minimax", "nomnom"}
FLAGS = ("enhance", "nologo", "private", "nofeed", "safe", "transparent", "audio")


def coerce_boolean(raw: str | None) -> bool:
    """zod's z.coerce.boolean on a query string: Boolean(value), so "false" is true."""
    return bool(raw)


def interpret(query: dict) -> dict:
    """The flags a request's query sets, as the gateway reads them (query values are lists)."""
    return {name: coerce_boolean((query.get(name) or [None])[0]) for name in FLAGS}
VOICES = {"alloy", "echo", "fable", "onyx", "nova", "shimmer", "coral", "sage", "ash"}
CODES = {400: "BAD_REQUEST", 401: "UNAUTHORIZED", 402: "PAYMENT_REQUIRED", 403: "FORBIDDEN", 404: "NOT_FOUND",
         429: "RATE_LIMITED", 500: "INTERNAL_ERROR"}


@error_format("pollinations")
def pollinations_error(status: int, message: str, code: str = "", field_errors: dict | None = None) -> FakeResponse:
    details = {"name": "", "stack": ""}
    if status == 400:
        details.update({"formErrors": [], "fieldErrors": field_errors or {}})
    return FakeResponse(status=status, json={
        "status": status, "success": False,
        "error": {"code": code or CODES.get(status, "INTERNAL_ERROR"), "message": message, "timestamp": "",
                  "details": details, "requestId": "req_fake", "cause": None}})


def _auth(req: FakeRequest) -> FakeResponse | None:
    key = req.bearer() or req.arg("key", "")
    if not key or key.startswith("bad"):
        return pollinations_error(401, "You need to authenticate by providing a session cookie or Authorization "
                                       "header (Bearer token).")
    if key.startswith("broke"):
        return pollinations_error(402, "Insufficient pollen balance.")
    return None


def _int_arg(req: FakeRequest, name: str, default: int, low: int, high: int) -> int | FakeResponse:
    raw = req.arg(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        return pollinations_error(400, "Something was wrong with the input data, check the details for more info.",
                                  field_errors={name: [f"Expected an integer between {low} and {high}"]})
    return value


@route("GET", r"^/image/(?P<prompt>.+)$", name="pollinations.image")
def image(req: FakeRequest) -> FakeResponse:
    denied = _auth(req)
    if denied:
        return denied
    if req.match["prompt"] == "models":
        return FakeResponse(json=[{"name": m, "output_modalities": ["video" if m in VIDEO_MODELS else "image"]}
                                  for m in sorted(IMAGE_MODELS | VIDEO_MODELS)])
    prompt = unquote(req.match["prompt"])
    model = req.arg("model", "flux")
    if model not in IMAGE_MODELS | VIDEO_MODELS:
        return pollinations_error(400, f"Model {model} not found", field_errors={"model": ["Invalid enum value"]})
    if "forbidden" in prompt.lower() and coerce_boolean(req.arg("safe")):
        return pollinations_error(400, "Prompt blocked by the safety filter: NSFW content detected", "CONTENT_POLICY")
    width = _int_arg(req, "width", 1024, 16, 2048)
    height = _int_arg(req, "height", 1024, 16, 2048)
    for value in (width, height):
        if isinstance(value, FakeResponse):
            return value
    if model in VIDEO_MODELS:
        return FakeResponse(body=media.mp4(64, 64, 1.0), content_type="video/mp4")
    small = (max(8, width // 16), max(8, height // 16))  # same shape, a fraction of the pixels
    if model == "gptimage":
        return FakeResponse(body=media.png(*small, prompt), content_type="image/png")
    return FakeResponse(body=media.jpeg(*small, prompt), content_type="image/jpeg")


@route("GET", r"^/text/(?P<prompt>.+)$", name="pollinations.text")
def text(req: FakeRequest) -> FakeResponse:
    denied = _auth(req)
    if denied:
        return denied
    if req.match["prompt"] == "models":
        return FakeResponse(json=[{"name": m} for m in sorted(TEXT_MODELS)])
    model = req.arg("model", "openai")
    if model not in TEXT_MODELS:
        return pollinations_error(400, f"Model {model} not found", field_errors={"model": ["Invalid enum value"]})
    prompt = unquote(req.match["prompt"])
    if model == "openai-audio":  # text to speech through the text endpoint
        voice = req.arg("voice", "alloy")
        if voice not in VOICES:
            return pollinations_error(400, f"Voice {voice} not found", field_errors={"voice": ["Invalid enum value"]})
        return FakeResponse(body=media.audio("mp3"), content_type="audio/mpeg")
    answer = f"Echo: {prompt}"
    if req.arg("system"):
        answer = f"[{unquote(req.arg('system'))}] {answer}"
    return FakeResponse(body=answer.encode(), content_type="text/plain; charset=utf-8")

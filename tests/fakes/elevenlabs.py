"""ElevenLabs: text to speech (POST /v1/text-to-speech/{voice_id}), music (POST /v1/music) and
sound effects (POST /v1/sound-generation). The key travels in the xi-api-key header; errors
are {"detail": {"status": ..., "message": ...}} (validation errors: FastAPI's detail list)."""
from __future__ import annotations

from . import media
from .core import FakeRequest, FakeResponse, error_format, route

VOICES = {"21m00Tcm4TlvDq8ikWAM": "Rachel", "pNInz6obpgDQGcFmaJgB": "Adam", "ErXwobaYiN019PkySvjV": "Antoni",
          "TxGEqnHWrfWFTfGW9XTc": "Josh", "EXAVITQu4vr4xnSDxMaL": "Sarah", "JBFqnCBsd6RMkjVDRZzb": "George",
          "FGY2WhTYpPnrIDTdsKH5": "Laura", "pFZP5JQG7iQjIQuC4Bku": "Lily"}
MODELS = {"eleven_multilingual_v2", "eleven_flash_v2_5", "eleven_turbo_v2_5", "eleven_v3"}
FORMATS = {"mp3_22050_32": ("mp3", "audio/mpeg"), "mp3_44100_128": ("mp3", "audio/mpeg"),
           "mp3_44100_192": ("mp3", "audio/mpeg"), "pcm_16000": ("pcm", "audio/pcm"),
           "pcm_22050": ("pcm", "audio/pcm"), "pcm_24000": ("pcm", "audio/pcm"), "pcm_44100": ("pcm", "audio/pcm"),
           "wav_44100": ("wav", "audio/wav"), "opus_48000_128": ("opus", "audio/ogg")}
MAX_CHARACTERS = 10000


@error_format("elevenlabs")
def elevenlabs_error(status: int, message: str, code: str = "") -> FakeResponse:
    if status == 422:
        return FakeResponse(status=422, json={"detail": [{"loc": ["body"], "msg": message, "type": "value_error"}]})
    return FakeResponse(status=status, json={"detail": {"status": code or {401: "invalid_api_key", 429:
                                                        "too_many_concurrent_requests"}.get(status, "error"),
                                                        "message": message}})


def _auth(req: FakeRequest) -> FakeResponse | None:
    key = req.headers.get("xi-api-key", "")
    if not key or key.startswith("bad"):
        return elevenlabs_error(401, "Invalid API key", "invalid_api_key")
    if key.startswith("broke"):
        return elevenlabs_error(401, "This request exceeds your quota of 10000. You have 0 credits remaining.",
                                "quota_exceeded")
    return None


def _format(req: FakeRequest) -> tuple[str, str] | FakeResponse:
    name = req.arg("output_format", "mp3_44100_128")
    if name not in FORMATS:
        return FakeResponse(status=422, json={"detail": [{"loc": ["query", "output_format"], "type": "enum",
                                                         "msg": f"Input should be one of {', '.join(FORMATS)}"}]})
    return FORMATS[name]


def _audio(req: FakeRequest, characters: int | None = None) -> FakeResponse:
    fmt = _format(req)
    if isinstance(fmt, FakeResponse):
        return fmt
    headers = {"request-id": "req_fake"}
    if characters is not None:
        headers["x-character-count"] = str(characters)
    return FakeResponse(body=media.audio(fmt[0]), content_type=fmt[1], headers=headers)


@route("POST", r"^/v1/text-to-speech/(?P<voice>[^/]+?)(?P<stream>/stream)?$", name="elevenlabs.tts")
def text_to_speech(req: FakeRequest) -> FakeResponse:
    denied = _auth(req)
    if denied:
        return denied
    if req.match["voice"] not in VOICES:
        return elevenlabs_error(404, f"A voice with the voice_id {req.match['voice']} was not found.",
                                "voice_not_found")
    body = req.json() or {}
    text = body.get("text")
    if not text:
        return FakeResponse(status=422, json={"detail": [{"loc": ["body", "text"], "msg": "Field required",
                                                         "type": "missing"}]})
    if len(text) > MAX_CHARACTERS:
        return elevenlabs_error(400, f"Text is too long: {len(text)} characters, the limit is {MAX_CHARACTERS}.",
                                "text_too_long")
    model = body.get("model_id") or "eleven_multilingual_v2"
    if model not in MODELS:
        return elevenlabs_error(400, f"A model with model ID {model} does not exist.", "model_not_found")
    settings = body.get("voice_settings") or {}
    for name in ("stability", "similarity_boost", "style"):
        if name in settings and not 0 <= float(settings[name]) <= 1:
            return FakeResponse(status=422, json={"detail": [{"loc": ["body", "voice_settings", name],
                                                             "msg": "Input should be less than or equal to 1",
                                                             "type": "less_than_equal"}]})
    return _audio(req, characters=len(text))


@route("POST", r"^/v1/music$", name="elevenlabs.music")
def music(req: FakeRequest) -> FakeResponse:
    denied = _auth(req)
    if denied:
        return denied
    body = req.json() or {}
    if not body.get("prompt") and not body.get("composition_plan"):
        return elevenlabs_error(400, "Either prompt or composition_plan is required.", "invalid_request")
    length = body.get("music_length_ms")
    if length is not None and not 3000 <= int(length) <= 300000:
        return FakeResponse(status=422, json={"detail": [{"loc": ["body", "music_length_ms"],
                                                         "msg": "Input should be between 3000 and 300000",
                                                         "type": "value_error"}]})
    if "forbidden" in (body.get("prompt") or "").lower():
        return elevenlabs_error(400, "The prompt violates our Terms of Service (content policy).", "bad_prompt")
    return _audio(req)


@route("POST", r"^/v1/sound-generation$", name="elevenlabs.sound")
def sound(req: FakeRequest) -> FakeResponse:
    denied = _auth(req)
    if denied:
        return denied
    body = req.json() or {}
    if not body.get("text"):
        return FakeResponse(status=422, json={"detail": [{"loc": ["body", "text"], "msg": "Field required",
                                                         "type": "missing"}]})
    return _audio(req)


@route("GET", r"^/v1/voices$", name="elevenlabs.voices")
def voices(req: FakeRequest) -> FakeResponse:
    denied = _auth(req)
    if denied:
        return denied
    return FakeResponse(json={"voices": [{"voice_id": k, "name": v, "category": "premade"} for k, v in VOICES.items()]})

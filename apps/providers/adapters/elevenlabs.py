"""ElevenLabs: text to speech, music and sound effects; all synchronous, audio bytes back.

    speech: POST /v1/text-to-speech/{voice_id}?output_format=...  {text, model_id, voice_settings}
    music:  POST /v1/music?output_format=...  {prompt, music_length_ms, model_id}
            (upstream model "sound-effects": POST /v1/sound-generation {text, duration_seconds})
The key goes in xi-api-key. A voice is given by id or by premade name; options.voice_map adds
names (e.g. an account's cloned voices), options.default_voice changes the default."""
from __future__ import annotations

import re

from .. import http
from ..base import Adapter, InvalidInput, Job, ModelUnavailable, OutputFile, ProviderResult
from ..registry import register

DEFAULT_BASE_URL = "https://api.elevenlabs.io"
VOICE_ID = re.compile(r"^[A-Za-z0-9]{20}$")
# ElevenLabs' premade voices (names as the catalog offers them, matched case-insensitively).
PREMADE_VOICES = {
    "rachel": "21m00Tcm4TlvDq8ikWAM", "sarah": "EXAVITQu4vr4xnSDxMaL", "laura": "FGY2WhTYpPnrIDTdsKH5",
    "charlie": "IKne3meq5aSn9XLyUdCD", "george": "JBFqnCBsd6RMkjVDRZzb", "callum": "N2lVS1w4EtoT3dr4eOWO",
    "liam": "TX3LPaxmHKxFdv7VOQHJ", "charlotte": "XB0fDUnXU5powFXDhCwa", "alice": "Xb7hH8MSUJpSbSDYk0k2",
    "matilda": "XrExE9yKIg1WjnnlVkGX", "will": "bIHbv24MWmeRgasZH58o", "jessica": "cgSgspJ2msm6clMCkdW9",
    "eric": "cjVigY5qzO86Huf0OWal", "chris": "iP95p4xoKVk53GoZ742B", "brian": "nPczCjzI2devNBz1zQrb",
    "daniel": "onwK4e9ZLuTAKqWW03F9", "lily": "pFZP5JQG7iQjIQuC4Bku", "adam": "pNInz6obpgDQGcFmaJgB",
    "antoni": "ErXwobaYiN019PkySvjV", "josh": "TxGEqnHWrfWFTfGW9XTc",
}
# Atelier's short format names -> ElevenLabs' codec_samplerate[_bitrate] names.
FORMATS = {"mp3": "mp3_44100_128", "pcm": "pcm_24000", "wav": "wav_44100", "opus": "opus_48000_128"}
MIME_BY_CODEC = {"mp3": "audio/mpeg", "pcm": "audio/pcm", "wav": "audio/wav", "opus": "audio/ogg",
                 "ulaw": "audio/basic"}
VOICE_SETTINGS = ("stability", "similarity_boost", "style", "use_speaker_boost", "speed")


@register
class ElevenLabsAdapter(Adapter):
    name = "elevenlabs"

    def _post(self, path: str, body: dict, output_format: str, read_timeout: float) -> tuple[bytes, str, dict]:
        url = f"{(self.channel.base_url or DEFAULT_BASE_URL).rstrip('/')}/{path}"
        headers = {"xi-api-key": self.channel.api_key, "Accept": "audio/*"} if self.channel.api_key else {}
        response = http.request(self.channel, "POST", url, json=body, params={"output_format": output_format},
                                headers=headers, read_timeout=read_timeout, provider=self.name)
        mime = response.headers.get("content-type", "").split(";")[0].strip()
        if mime in ("", "application/octet-stream"):  # untyped bytes: trust the format we asked for
            mime = MIME_BY_CODEC.get(output_format.split("_")[0], "")
        if not response.content or not mime.startswith("audio/"):
            raise http.bad_response("expected audio in the answer", provider=self.name)
        return response.content, mime, response.headers

    @staticmethod
    def _output_format(params: dict) -> str:
        requested = params.get("output_format") or params.get("response_format") or "mp3"
        return requested if "_" in requested else FORMATS.get(requested, requested)

    def _voice(self, params: dict) -> str:
        options = self.channel.options or {}
        voice = str(params.get("voice_id") or params.get("voice") or options.get("default_voice") or "rachel")
        mapped = (options.get("voice_map") or {}).get(voice) or PREMADE_VOICES.get(voice.lower())
        if mapped:
            return mapped
        if VOICE_ID.match(voice):
            return voice
        raise InvalidInput(f"Unknown ElevenLabs voice {voice!r}: give a voice id or one of "
                           f"{', '.join(sorted(PREMADE_VOICES))}")

    def submit(self, job: Job) -> ProviderResult:
        if job.modality == "speech":
            return self._speech(job)
        if job.modality == "music":
            return self._music(job)
        raise ModelUnavailable(f"The elevenlabs adapter does not serve {job.modality} models")

    def _speech(self, job: Job) -> ProviderResult:
        params = job.params
        text = params.get("input") or params.get("text") or params.get("prompt")
        if not text:
            raise InvalidInput("Speech needs input text")
        body = {"text": text, "model_id": job.upstream_model}
        settings = {name: params[name] for name in VOICE_SETTINGS if params.get(name) is not None}
        if settings:
            body["voice_settings"] = settings
        for name in ("seed", "language_code"):
            if params.get(name) is not None:
                body[name] = params[name]
        data, mime, headers = self._post(f"v1/text-to-speech/{self._voice(params)}", body,
                                         self._output_format(params), read_timeout=180)
        characters = headers.get("x-character-count")
        usage = {"characters": int(characters) if characters and characters.isdigit() else len(text)}
        return ProviderResult(status=ProviderResult.SUCCEEDED, outputs=[OutputFile(mime=mime, data=data)], usage=usage)

    def _music(self, job: Job) -> ProviderResult:
        params = job.params
        prompt = params.get("prompt") or ""
        if not prompt:
            raise InvalidInput("Music needs a prompt")
        duration = params.get("duration")
        if job.upstream_model == "sound-effects":
            body = {"text": prompt}
            if duration is not None:
                body["duration_seconds"] = float(duration)
            if params.get("prompt_influence") is not None:
                body["prompt_influence"] = float(params["prompt_influence"])
            path = "v1/sound-generation"
        else:
            body = {"prompt": prompt, "model_id": job.upstream_model}
            if duration is not None:
                body["music_length_ms"] = int(float(duration) * 1000)
            if params.get("instrumental") is not None:
                body["force_instrumental"] = bool(params["instrumental"])
            path = "v1/music"
        data, mime, _ = self._post(path, body, self._output_format(params), read_timeout=600)
        output = OutputFile(mime=mime, data=data, duration=float(duration) if duration is not None else None)
        return ProviderResult(status=ProviderResult.SUCCEEDED, outputs=[output])

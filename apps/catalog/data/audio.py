"""Music and speech models.

Music shares prompt, duration (seconds), lyrics, instrumental, title; speech shares input,
voice, speed, response_format. Adapters translate (ElevenLabs music_length_ms, Stable Audio
seconds_total, MiniMax voice_id, ElevenLabs voice ids below)."""
from .common import boolean, entry, enum, integer, negative_prompt, number, prompt, route, seed, text

# ElevenLabs premade voices: the form offers names, the adapter sends the id.
ELEVENLABS_VOICES = {
    "Rachel": "21m00Tcm4TlvDq8ikWAM",
    "Sarah": "EXAVITQu4vr4xnSDxMaL",
    "Laura": "FGY2WhTYpPnrIDTdsKH5",
    "Charlie": "IKne3meq5aSn9XLyUdCD",
    "George": "JBFqnCBsd6RMkjVDRZzb",
    "Callum": "N2lVS1w4EtoT3dr4eOWO",
    "Liam": "TX3LPaxmHKxFdv7VOQHJ",
    "Charlotte": "XB0fDUnXU5powFXDhCwa",
    "Alice": "Xb7hH8MSUJpSbSDYk0k2",
    "Matilda": "XrExE9yKIg1WjnnlVkGX",
    "Will": "bIHbv24MWmeRgasZH58o",
    "Jessica": "cgSgspJ2msm6clMCkdW9",
    "Eric": "cjVigY5qzO86Huf0OWal",
    "Chris": "iP95p4xoKVk53GoZ742B",
    "Brian": "nPczCjzI2devNBz1zQrb",
    "Daniel": "onwK4e9ZLuTAKqWW03F9",
    "Lily": "pFZP5JQG7iQjIQuC4Bku",
    "Adam": "pNInz6obpgDQGcFmaJgB",
}
ELEVENLABS_FORMATS = ["mp3_44100_128", "mp3_44100_192", "mp3_22050_32", "pcm_16000", "pcm_22050", "pcm_24000",
                      "pcm_44100", "ulaw_8000", "opus_48000_128"]
OPENAI_VOICES = ["alloy", "ash", "coral", "echo", "fable", "onyx", "nova", "sage", "shimmer"]
OPENAI_FORMATS = ["mp3", "opus", "aac", "flac", "wav", "pcm"]
GEMINI_VOICES = ["Kore", "Puck", "Zephyr", "Charon", "Fenrir", "Leda", "Orus", "Aoede", "Callirrhoe", "Autonoe",
                 "Enceladus", "Iapetus", "Umbriel", "Algieba", "Despina", "Erinome", "Algenib", "Rasalgethi",
                 "Laomedeia", "Achernar", "Alnilam", "Schedar", "Gacrux", "Pulcherrima", "Achird", "Zubenelgenubi",
                 "Vindemiatrix", "Sadachbia", "Sadaltager", "Sulafat"]
MINIMAX_VOICES = ["Wise_Woman", "Friendly_Person", "Inspirational_girl", "Deep_Voice_Man", "Calm_Woman",
                  "Casual_Guy", "Lively_Girl", "Patient_Man", "Young_Knight", "Determined_Man", "Lovely_Girl",
                  "Decent_Boy", "Imposing_Manner", "Elegant_Man", "Abbess", "Sweet_Girl_2", "Exuberant_Girl"]
KOKORO_VOICES = ["af_heart", "af_bella", "af_nicole", "af_sarah", "af_sky", "am_adam", "am_michael", "bf_emma",
                 "bf_isabella", "bm_george", "bm_lewis"]


def _input(max_length: int) -> dict:
    return {"name": "input", "type": "text", "label": "Text", "required": True, "min_length": 1,
            "max_length": max_length, "widget": "textarea", "help": f"Up to {max_length:,} characters."}


def _speech_pricing(credits_per_1k: str) -> dict:
    return {"unit": "1k_chars", "credits": credits_per_1k, "text": "input"}


def _elevenlabs_fields(max_chars: int, speed: bool = True) -> list:
    fields = [
        _input(max_chars),
        enum("voice", list(ELEVENLABS_VOICES), default="Rachel", label="Voice"),
        number("stability", 0, 1, default=0.5, step=0.05, label="Stability", advanced=True,
               help="Lower is more expressive, higher more consistent."),
        number("similarity_boost", 0, 1, default=0.75, step=0.05, label="Similarity", advanced=True),
        number("style", 0, 1, default=0, step=0.05, label="Style exaggeration", advanced=True),
    ]
    if speed:
        fields.append(number("speed", 0.7, 1.2, default=1, step=0.05, label="Speed"))
    fields += [
        {"name": "language_code", "type": "string", "max_length": 5, "label": "Language (ISO 639-1)",
         "advanced": True, "help": "Optional, e.g. en, de, ja: enforces the language."},
        enum("response_format", ELEVENLABS_FORMATS, default="mp3_44100_128", label="Output format", advanced=True),
        seed(4_294_967_295),
    ]
    return fields


MUSIC = [
    entry(
        slug="minimax-music-1.5", name="MiniMax Music 1.5", vendor="MiniMax", modality="music", sort_order=10,
        description="Full songs with vocals up to about 4 minutes: describe the style in the prompt and write the "
        "lyrics with [verse] / [chorus] tags.",
        capabilities=["music", "lyrics"],
        fields=[
            prompt(max_length=300, label="Style") | {"min_length": 10,
                                                    "help": "Genre, mood, instruments: 10 to 300 characters."},
            text("lyrics", 600, label="Lyrics", required=True, min_length=10,
                 example="[verse]\nCity lights are calling\n[chorus]\nWe are shining, we are free",
                 help="10 to 600 characters; [intro] [verse] [chorus] [bridge] [outro] tags."),
            enum("sample_rate", [16000, 24000, 32000, 44100], default=44100, label="Sample rate", advanced=True),
            enum("bitrate", [32000, 64000, 128000, 256000], default=256000, label="Bitrate", advanced=True),
            enum("audio_format", ["mp3", "wav", "pcm"], default="mp3", label="Format", advanced=True),
        ],
        pricing={"unit": "song", "credits": "3.5"},
        aliases=["music-1.5", "minimax-music"],
        routes=[route("replicate", "minimax/music-1.5"), route("fal", "fal-ai/minimax-music/v1.5")],
    ),
    entry(
        slug="stable-audio-2.5", name="Stable Audio 2.5", vendor="Stability AI", modality="music", sort_order=20,
        description="Enterprise-grade instrumental music and sound design up to 190 seconds, generated in seconds.",
        capabilities=["music"],
        fields=[
            prompt(max_length=2000),
            integer("duration", 1, 190, default=190, label="Duration (seconds)"),
            integer("num_inference_steps", 4, 8, default=8, label="Steps", advanced=True),
            number("guidance_scale", 1, 25, default=1, step=0.5, label="Guidance scale", advanced=True),
            seed(),
        ],
        pricing={"unit": "song", "credits": "20"},
        aliases=["stable-audio"],
        routes=[route("fal", "fal-ai/stable-audio-25/text-to-audio"), route("replicate", "stability-ai/stable-audio-2.5")],
    ),
    entry(
        slug="lyria-2", name="Lyria 2", vendor="Google", modality="music", sort_order=30,
        description="Google DeepMind's high-fidelity instrumental music model: 30-second 48 kHz stereo clips.",
        capabilities=["music"],
        fields=[
            prompt(max_length=2000),
            negative_prompt(help="Instruments or moods to leave out."),
            seed(4_294_967_295),
        ],
        pricing={"unit": "song", "credits": "6"},
        aliases=["lyria-002"],
        routes=[route("replicate", "google/lyria-2"), route("fal", "fal-ai/lyria2")],
    ),
    entry(
        slug="elevenlabs-music", name="Eleven Music", vendor="ElevenLabs", modality="music", sort_order=40,
        description="Studio-grade songs in any genre, with or without vocals, 10 seconds to 5 minutes.",
        capabilities=["music", "lyrics"],
        fields=[
            prompt(max_length=2000),
            integer("duration", 10, 300, default=60, label="Duration (seconds)"),
            boolean("instrumental", False, label="Instrumental", help="No vocals."),
        ],
        pricing={"unit": "second", "credits": "1.5", "duration": "duration"},
        aliases=["music_v1", "eleven-music"],
        routes=[route("elevenlabs", "music_v1"), route("fal", "fal-ai/elevenlabs/music")],
    ),
    entry(
        slug="musicgen", name="MusicGen Stereo Large", vendor="Meta", modality="music", sort_order=50,
        description="Meta's open music model (AudioCraft): instrumental clips from a text description.",
        capabilities=["music"],
        fields=[
            prompt(max_length=1000),
            integer("duration", 1, 30, default=8, label="Duration (seconds)"),
            enum("model_version", ["stereo-large", "stereo-melody-large", "large", "melody-large"],
                 default="stereo-large", label="Model version", advanced=True),
            integer("top_k", 0, 1000, default=250, label="Top k", advanced=True),
            number("top_p", 0, 1, default=0, step=0.05, label="Top p", advanced=True),
            number("temperature", 0, 5, default=1, step=0.1, label="Temperature", advanced=True),
            integer("classifier_free_guidance", 1, 10, default=3, label="Guidance", advanced=True),
            enum("output_format", ["wav", "mp3"], default="wav", label="Format", advanced=True),
            seed(),
        ],
        pricing={"unit": "second", "credits": "0.5", "duration": "duration"},
        aliases=["musicgen-stereo-large"],
        routes=[route("replicate", "meta/musicgen:671ac645ce5e552cc63a54a2bbff63fcf798043055d2dac5fc9e36a837eedcfb")],
    ),
    entry(
        slug="ace-step", name="ACE-Step", vendor="ACE Studio", modality="music", sort_order=60,
        description="Open music foundation model: songs with lyrics from genre tags, up to 4 minutes, runs locally.",
        capabilities=["music", "lyrics"],
        fields=[
            prompt(max_length=1000, label="Tags") | {"help": "Comma-separated genre, mood and instrument tags."},
            text("lyrics", 4000, label="Lyrics", help="[verse] / [chorus] tags; leave empty for instrumental."),
            boolean("instrumental", False, label="Instrumental"),
            integer("duration", 5, 240, default=60, label="Duration (seconds)"),
            integer("num_inference_steps", 3, 60, default=27, label="Steps", advanced=True),
            seed(),
        ],
        rules=[{"if": {"instrumental": True, "lyrics": "*"}, "forbid": True, "field": "lyrics",
                "message": "An instrumental track has no lyrics: clear the lyrics or untick Instrumental."}],
        pricing={"unit": "second", "credits": "0.2", "duration": "duration"},
        routes=[route("fal", "fal-ai/ace-step"), route("comfyui", "ace_step_v1_3.5b.safetensors")],
    ),
]

SPEECH = [
    entry(
        slug="tts-1", name="OpenAI TTS-1", vendor="OpenAI", modality="speech", sort_order=10,
        description="OpenAI's low-latency text-to-speech with nine built-in voices.",
        capabilities=["text-to-speech", "streaming"],
        fields=[_input(4096), enum("voice", OPENAI_VOICES, default="alloy", label="Voice"),
                number("speed", 0.25, 4, default=1, step=0.05, label="Speed"),
                enum("response_format", OPENAI_FORMATS, default="mp3", label="Format", advanced=True)],
        pricing=_speech_pricing("1.5"),
        routes=[route("openai", "tts-1")],
    ),
    entry(
        slug="tts-1-hd", name="OpenAI TTS-1 HD", vendor="OpenAI", modality="speech", sort_order=11,
        description="The higher-quality OpenAI TTS model.",
        capabilities=["text-to-speech", "streaming"],
        fields=[_input(4096), enum("voice", OPENAI_VOICES, default="alloy", label="Voice"),
                number("speed", 0.25, 4, default=1, step=0.05, label="Speed"),
                enum("response_format", OPENAI_FORMATS, default="mp3", label="Format", advanced=True)],
        pricing=_speech_pricing("3"),
        routes=[route("openai", "tts-1-hd")],
    ),
    entry(
        slug="gpt-4o-mini-tts", name="GPT-4o mini TTS", vendor="OpenAI", modality="speech", sort_order=9,
        description="Steerable speech: tell the voice how to speak (tone, accent, pace) with instructions.",
        capabilities=["text-to-speech", "streaming"],
        fields=[_input(4096), enum("voice", [*OPENAI_VOICES, "ballad", "verse"], default="coral", label="Voice"),
                text("instructions", 4000, label="Instructions",
                     help="How to speak, e.g. 'Cheerful and fast, like a sports commentator.'"),
                enum("response_format", OPENAI_FORMATS, default="mp3", label="Format", advanced=True)],
        pricing=_speech_pricing("1.2"),
        aliases=["openai-audio"],
        routes=[route("openai", "gpt-4o-mini-tts"),
                route("pollinations", "openai-audio", unsupported=["instructions"])],
    ),
    entry(
        slug="elevenlabs-multilingual-v2", name="Eleven Multilingual v2", vendor="ElevenLabs", modality="speech",
        sort_order=20,
        description="ElevenLabs' most lifelike, emotionally rich speech in 29 languages.",
        capabilities=["text-to-speech", "streaming"],
        fields=_elevenlabs_fields(10000),
        pricing=_speech_pricing("18"),
        aliases=["eleven_multilingual_v2"],
        routes=[route("elevenlabs", "eleven_multilingual_v2"), route("fal", "fal-ai/elevenlabs/tts/multilingual-v2")],
    ),
    entry(
        slug="elevenlabs-flash-v2.5", name="Eleven Flash v2.5", vendor="ElevenLabs", modality="speech",
        sort_order=21,
        description="Ultra-low-latency ElevenLabs speech (about 75 ms) in 32 languages, for agents and live use.",
        capabilities=["text-to-speech", "streaming"],
        fields=_elevenlabs_fields(40000),
        pricing=_speech_pricing("9"),
        aliases=["eleven_flash_v2_5"],
        routes=[route("elevenlabs", "eleven_flash_v2_5")],
    ),
    entry(
        slug="elevenlabs-turbo-v2.5", name="Eleven Turbo v2.5", vendor="ElevenLabs", modality="speech",
        sort_order=22,
        description="Balanced quality and latency in 32 languages.",
        capabilities=["text-to-speech", "streaming"],
        fields=_elevenlabs_fields(40000),
        pricing=_speech_pricing("9"),
        aliases=["eleven_turbo_v2_5"],
        routes=[route("elevenlabs", "eleven_turbo_v2_5"), route("fal", "fal-ai/elevenlabs/tts/turbo-v2.5")],
    ),
    entry(
        slug="eleven-v3", name="Eleven v3", vendor="ElevenLabs", modality="speech", sort_order=23,
        description="ElevenLabs' most expressive model: audio tags like [whispers] or [laughs], 70+ languages.",
        capabilities=["text-to-speech"],
        fields=[f for f in _elevenlabs_fields(3000, speed=False) if f["name"] not in {"similarity_boost", "style"}],
        pricing=_speech_pricing("18"),
        aliases=["eleven_v3"],
        routes=[route("elevenlabs", "eleven_v3"), route("fal", "fal-ai/elevenlabs/tts/eleven-v3")],
    ),
    entry(
        slug="gemini-2.5-flash-tts", name="Gemini 2.5 Flash TTS", vendor="Google", modality="speech",
        sort_order=30,
        description="Controllable Gemini speech: 30 voices, style set in plain language, 24 languages.",
        capabilities=["text-to-speech"],
        fields=[_input(32000), enum("voice", GEMINI_VOICES, default="Kore", label="Voice"),
                text("instructions", 2000, label="Style instructions",
                     help="e.g. 'Say cheerfully:' or 'Read slowly, in a spooky whisper'.")],
        pricing=_speech_pricing("1"),
        aliases=["gemini-2.5-flash-preview-tts"],
        routes=[route("gemini", "gemini-2.5-flash-preview-tts")],
    ),
    entry(
        slug="minimax-speech-02-hd", name="MiniMax Speech-02 HD", vendor="MiniMax", modality="speech",
        sort_order=40,
        description="High-fidelity multilingual speech with emotion control and pitch/speed/volume tuning.",
        capabilities=["text-to-speech"],
        fields=[
            _input(5000),
            enum("voice", MINIMAX_VOICES, default="Wise_Woman", label="Voice"),
            number("speed", 0.5, 2, default=1, step=0.05, label="Speed"),
            integer("pitch", -12, 12, default=0, label="Pitch (semitones)", advanced=True),
            number("volume", 0, 10, default=1, step=0.1, label="Volume", advanced=True),
            enum("emotion", ["auto", "neutral", "happy", "sad", "angry", "fearful", "disgusted", "surprised"],
                 default="auto", label="Emotion"),
            enum("sample_rate", [8000, 16000, 22050, 24000, 32000, 44100], default=32000, label="Sample rate",
                 advanced=True),
        ],
        pricing=_speech_pricing("10"),
        aliases=["speech-02-hd"],
        routes=[route("replicate", "minimax/speech-02-hd"), route("fal", "fal-ai/minimax/speech-02-hd")],
    ),
    entry(
        slug="kokoro-82m", name="Kokoro 82M", vendor="hexgrad", modality="speech", sort_order=50,
        description="A tiny open-weights TTS model (82M parameters, Apache-2.0) that runs on a CPU; many servers "
        "expose it through an OpenAI-compatible /v1/audio/speech.",
        capabilities=["text-to-speech"],
        fields=[_input(5000), enum("voice", KOKORO_VOICES, default="af_heart", label="Voice"),
                number("speed", 0.5, 2, default=1, step=0.05, label="Speed"),
                enum("response_format", ["mp3", "wav", "opus", "flac"], default="mp3", label="Format", advanced=True)],
        pricing=_speech_pricing("0.2"),
        aliases=["kokoro"],
        routes=[route("openai_compat", "kokoro"),
                # Community model (by version); its voice list has no af_heart.
                route("replicate", "jaaari/kokoro-82m:f559560eb822dc509045f3921a1921234918b91739db4bf3daab2169b71c7a13",
                      rules=[{"if": {"voice": ["af_heart"]},
                              "message": "Kokoro on Replicate has no af_heart voice: pick another one."}])],
    ),
]

MODELS = MUSIC + SPEECH

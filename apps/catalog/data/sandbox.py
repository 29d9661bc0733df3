"""The built-in sandbox models: served locally with no network, so a fresh install works.

One model per modality, all `is_local`: image, video (text and image to video, start and end
frames), music (songs with title, lyrics and cover), speech (espeak-ng) and text (chat with
streaming). They are priced like real models so credits, holds and captures are exercised
end to end; the engines are in apps/providers/sandbox/."""
from apps.catalog.schema import FIELD_TYPES

from .common import CHECKED, chat_api_fields, enum, integer, prompt, seed

SANDBOX_NOTE = "Local sandbox model: generated on this server, no upstream provider involved."
# Chat models take an OpenAI-style `messages` list where the schema knows that field type;
# otherwise a prompt and an optional system prompt.
CHAT_MESSAGES = "messages" in FIELD_TYPES
SPEECH_VOICES = ["alloy", "ash", "coral", "echo", "fable", "onyx", "nova", "sage", "shimmer"]


def _field(name: str, kind: str, **extra) -> dict:
    return {"name": name, "type": kind, **extra}


def _text_fields() -> tuple[list, list]:
    fields = [
        prompt(max_length=20_000, required=not CHAT_MESSAGES),
        _field("system", "text", label="System prompt", max_length=10_000, widget="textarea", advanced=True,
               help="Instructions for the assistant."),
    ]
    rules = []
    if CHAT_MESSAGES:
        fields.append(_field("messages", "messages", label="Messages", max_items=200, max_length=60_000,
                             advanced=True, tools=True, help='A JSON chat: [{"role": "user", "content": "..."}]. '
                             "Use instead of prompt."))
        rules = [{"one_of": ["prompt", "messages"], "message": "Write a prompt (or send messages)."},
                 {"if": {"system": "*", "messages": "*"}, "forbid": True, "field": "system",
                  "message": "With messages, put the system prompt in the messages as a system message."}]
    fields += [
        integer("max_tokens", 1, 4096, default=512, label="Max output tokens",
                help="The answer stops after this many tokens."),
        _field("temperature", "number", min=0, max=2, default=1, step=0.05, label="Temperature", advanced=True,
               help="Changes the wording; the same conversation and temperature give the same answer."),
        _field("top_p", "number", min=0, max=1, default=1, step=0.05, label="Top p", advanced=True,
               help="Accepted for compatibility; the sandbox's wording does not depend on it."),
        _field("stop", "string", max_length=200, label="Stop sequence", advanced=True,
               help="The answer ends before this text."),
        seed(),
        *chat_api_fields(seed_field=False),
    ]
    return fields, rules


TEXT_FIELDS, TEXT_RULES = _text_fields()

MODELS = [
    {
        "slug": "sandbox-image",
        "name": "Sandbox Image",
        "vendor": "Atelier",
        "modality": "image",
        "is_local": True, "checked_at": CHECKED,
        "sort_order": 0,
        "description": "Abstract compositions drawn from the words of your prompt: shapes, palette and layout "
        "follow the prompt, and the same prompt, seed and size always give the same picture. " + SANDBOX_NOTE,
        "capabilities": ["text-to-image", "image-to-image"],
        "schema": {
            "fields": [
                prompt(max_length=2000),
                enum("size", ["1024x1024", "1536x1024", "1024x1536", "768x768", "512x512"], default="1024x1024",
                     label="Size"),
                integer("n", 1, 4, default=1, label="Images"),
                _field("image_url", "url", label="Source image", advanced=True,
                       help="Edit this image: the result keeps its layout and takes on the prompt."),
                _field("prompt_strength", "number", min=0, max=1, step=0.05, label="Prompt strength", advanced=True,
                       help="How much the prompt's picture covers the source image (with a source image)."),
                seed(),
            ]
        },
        "pricing": {"unit": "image", "credits": "1", "count": "n",
                    "multipliers": {"size": {"1536x1024": "1.5", "1024x1536": "1.5", "512x512": "0.5", "768x768": "0.75"}}},
        "limits": {"deadline_seconds": 120},
        "aliases": ["sandbox"],
        "routes": [{"adapter": "sandbox", "model": "image"}],
    },
    {
        "slug": "sandbox-video",
        "name": "Sandbox Video",
        "vendor": "Atelier",
        "modality": "video",
        "is_local": True, "checked_at": CHECKED,
        "sort_order": 1,
        "description": "H.264 clips at the size, length and frame rate you ask for. From text, a camera glides "
        "over a picture drawn from your prompt; from a start frame, the camera moves over your image and, with an "
        "end frame, dissolves into it. Same inputs, same clip. " + SANDBOX_NOTE,
        "capabilities": ["text-to-video", "image-to-video", "end-frame", "video-audio"],
        "schema": {
            "fields": [
                prompt(max_length=2000),
                _field("image_url", "url", label="Start frame", help="Optional image to animate (image to video)."),
                _field("end_image_url", "url", label="End frame", advanced=True,
                       help="Optional last frame; needs a start frame."),
                integer("duration", 1, 15, default=5, label="Duration (seconds)"),
                enum("aspect_ratio", ["16:9", "9:16", "1:1", "4:3", "3:4", "21:9"], default="16:9",
                     label="Aspect ratio"),
                enum("resolution", ["480p", "720p", "1080p"], default="720p", label="Resolution"),
                enum("fps", [24, 25, 30], default=24, label="Frames per second", advanced=True),
                _field("generate_audio", "boolean", default=False, label="Generate audio",
                       help="A quiet ambient track in the mood of the prompt."),
                seed(),
            ],
            "rules": [{"if": {"end_image_url": "*"}, "require": ["image_url"],
                       "message": "An end frame needs a start frame (image_url)."}],
        },
        "pricing": {"unit": "second", "credits": "0.5", "duration": "duration",
                    "multipliers": {"resolution": {"480p": "0.5", "1080p": "2"}},
                    "addons": {"generate_audio": {"true": "0.1"}}},
        "limits": {"deadline_seconds": 300},
        "aliases": ["sandbox-t2v"],
        "routes": [{"adapter": "sandbox", "model": "video"}],
    },
    {
        "slug": "sandbox-music",
        "name": "Sandbox Music",
        "vendor": "Atelier",
        "modality": "music",
        "is_local": True, "checked_at": CHECKED,
        "sort_order": 2,
        "description": "A synthesized song with a title, lyrics and cover art. Mood words set key and tempo "
        "(sad or dark: minor and slow; happy or dance: major and fast), genre words pick the instruments; "
        "\"in D minor\" or \"120 bpm\" are taken literally. No vocals: lyrics come as text. " + SANDBOX_NOTE,
        "capabilities": ["music", "lyrics"],
        "schema": {
            "fields": [
                prompt(max_length=1000),
                _field("style", "string", label="Style", max_length=200, help="Genre and mood, e.g. lofi, sad."),
                _field("title", "string", label="Title", max_length=80, advanced=True,
                       help="Leave empty for a title made from the prompt."),
                _field("lyrics", "text", label="Lyrics", max_length=3000, widget="textarea", advanced=True,
                       help="Leave empty for lyrics written from the prompt."),
                _field("instrumental", "boolean", default=False, label="Instrumental", help="No lyrics."),
                integer("duration", 10, 240, default=30, label="Duration (seconds)"),
                seed(),
            ],
            "rules": [{"if": {"instrumental": True, "lyrics": "*"}, "forbid": True, "field": "lyrics",
                       "message": "An instrumental song has no lyrics: clear the lyrics or untick Instrumental."}],
        },
        "pricing": {"unit": "song", "credits": "5"},
        "limits": {"deadline_seconds": 300},
        "aliases": [],
        "routes": [{"adapter": "sandbox", "model": "music"}],
    },
    {
        "slug": "sandbox-speech",
        "name": "Sandbox Speech",
        "vendor": "Atelier",
        "modality": "speech",
        "is_local": True, "checked_at": CHECKED,
        "sort_order": 3,
        "description": "Text to speech with espeak-ng, a small formant synthesizer: robotic but clear, with "
        "OpenAI-style voices and speed. Available only where espeak-ng is installed on the server "
        "(apt-get install espeak-ng); elsewhere it fails with model_unavailable. " + SANDBOX_NOTE,
        "capabilities": ["text-to-speech"],
        "schema": {
            "fields": [
                _field("input", "text", label="Text", required=True, min_length=1, max_length=4096,
                       widget="textarea"),
                enum("voice", SPEECH_VOICES, default="alloy", label="Voice"),
                _field("speed", "number", min=0.25, max=4, default=1, step=0.05, label="Speed"),
                enum("response_format", ["mp3", "wav"], default="mp3", label="Format", advanced=True),
            ]
        },
        "pricing": {"unit": "1k_chars", "credits": "1", "text": "input"},
        "limits": {"deadline_seconds": 120},
        "aliases": ["sandbox-tts"],
        "routes": [{"adapter": "sandbox", "model": "speech"}],
    },
    {
        "slug": "sandbox-text",
        "name": "Sandbox Text",
        "vendor": "Atelier",
        "modality": "text",
        "is_local": True, "checked_at": CHECKED,
        "sort_order": 4,
        "description": "A chat model that answers from the words of your message, token by token. It "
        "understands nothing, but it streams, counts tokens, respects max_tokens and stop, and is billed per "
        "token like a real model, so clients and agents can be tested without keys. " + SANDBOX_NOTE,
        "capabilities": ["chat", "streaming", "tools"],
        "schema": {"fields": TEXT_FIELDS, **({"rules": TEXT_RULES} if TEXT_RULES else {})},
        "pricing": {"unit": "1k_tokens", "input": "0.05", "output": "0.1", "max_output": "max_tokens",
                    "default_max_output": 512},
        "limits": {"deadline_seconds": 60, "context_window": 32000, "max_output_tokens": 4096},
        "aliases": ["sandbox-chat"],
        "routes": [{"adapter": "sandbox", "model": "text"}],
    },
]

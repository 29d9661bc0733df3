"""Video models. Shared names: prompt, negative_prompt, duration (seconds), aspect_ratio,
resolution, image_url (start frame), end_image_url (end frame), media_urls, generate_audio, seed.
Durations are integers in seconds even where an upstream wants "5s" or "8" as a string."""
from .common import (
    EXAMPLE_END_IMAGE,
    boolean,
    entry,
    enum,
    integer,
    negative_prompt,
    number,
    prompt,
    route,
    seed,
    url,
    url_list,
)

START_FRAME_HELP = "Start frame: the video begins on this image (image to video)."
END_FRAME_HELP = "End frame: the video ends on this image. Needs a start frame."
END_NEEDS_START = {"if": {"end_image_url": "*"}, "require": ["image_url"],
                   "message": "An end frame needs a start frame: set image_url too."}


def _start(required: bool = False) -> dict:
    return url("image_url", "Start frame", help=START_FRAME_HELP, required=required)


def _end() -> dict:
    return url("end_image_url", "End frame", help=END_FRAME_HELP, example=EXAMPLE_END_IMAGE)


PERSON_GENERATION = {
    "name": "person_generation", "type": "enum", "choices": ["allow_all", "allow_adult"], "label": "People",
    "advanced": True,
    "help": "Leave empty for the provider's default. On the Gemini API text to video takes allow_all, "
            "image to video allow_adult.",
}


def _veo_route(model: str) -> dict:
    """The Gemini API's Veo (google-genai maps no seed, fps or generate_audio there: audio is always
    on), with its personGeneration per mode."""
    return route("veo", model, unsupported=["seed"], rules=[
        {"if": {"generate_audio": False}, "message": "The Gemini API's Veo always generates audio."},
        {"if": {"person_generation": "allow_adult", "image_url": None},
         "message": "On the Gemini API, Veo text to video takes person_generation allow_all."},
        {"if": {"person_generation": "allow_all", "image_url": "*"},
         "message": "On the Gemini API, Veo image to video takes person_generation allow_adult."},
    ])


# Veo 3.1 and 3.1 Fast take the same inputs (Gemini API video guide).
VEO_31_FIELDS = [
    prompt(max_length=4000),
    negative_prompt(),
    enum("duration", [4, 6, 8], default=8, label="Duration (seconds)"),
    enum("aspect_ratio", ["16:9", "9:16"], default="16:9", label="Aspect ratio"),
    enum("resolution", ["720p", "1080p", "4k"], default="720p", label="Resolution"),
    boolean("generate_audio", True, label="Generate audio"),
    _start(),
    _end(),
    url_list("media_urls", "Reference images", 3, help="Up to 3 images of a subject to keep consistent."),
    PERSON_GENERATION,
    seed(4_294_967_295),
]
VEO_31_RULES = [
    END_NEEDS_START,
    {"if": {"resolution": ["1080p", "4k"], "duration": [4, 6]}, "forbid": True, "field": "resolution",
     "message": "1080p and 4k are available for 8-second clips only."},
    {"if": {"media_urls": "*", "image_url": "*"}, "forbid": True, "field": "media_urls",
     "message": "Use either reference images or a start frame, not both."},
]


def _seedance_2_fields(resolutions: list[str]) -> list[dict]:
    """Seedance 2.0 and 2.0 Fast take the same inputs; Fast stops at 720p and starts at 480p."""
    return [
        enum("mode", ["text-to-video", "image-to-video", "media-to-video"], default="text-to-video", label="Mode"),
        prompt(max_length=10000) | {"min_length": 3},
        enum("aspect_ratio", ["16:9", "9:16", "1:1", "4:3", "3:4", "21:9"], default="16:9", label="Aspect ratio"),
        integer("duration", 4, 15, default=5, label="Duration (seconds)"),
        enum("resolution", resolutions, default="720p", label="Resolution"),
        _start(),
        _end(),
        url_list("media_urls", "Reference media", 12, help="Required for media to video: up to 12 URLs."),
        boolean("generate_audio", True, label="Generate audio"),
        boolean("fixed_lens", False, label="Fixed lens", advanced=True),
        integer("seed", -1, 4_294_967_295, label="Seed", advanced=True, help="-1 picks a random seed."),
    ]


SEEDANCE_2_RULES = [
    {"if": {"mode": "image-to-video"}, "require": ["image_url"], "message": "Start frame is required for image to video."},
    {"if": {"mode": "media-to-video"}, "require": ["media_urls"],
     "message": "Reference media are required for media to video."},
    {"if": {"mode": "text-to-video", "image_url": "*"}, "forbid": True, "field": "image_url",
     "message": "A start frame needs mode image-to-video."},
    END_NEEDS_START,
]
SORA_RETIRED = ("OpenAI shut the Sora 2 models and the Videos API down on 2026-09-24 (OpenAI's Sora 2 model page); "
                "the resold Sora models on Replicate ran on it. Kept for history.")
SEEDANCE_2_FIXED_LENS = {"if": {"fixed_lens": True},
                         "message": "Seedance 2 on BytePlus Ark has no fixed-lens setting."}


def _seedance_1(max_prompt: int = 2000) -> list:
    return [
        prompt(max_length=max_prompt),
        integer("duration", 2, 12, default=5, label="Duration (seconds)"),
        enum("resolution", ["480p", "720p", "1080p"], default="1080p", label="Resolution"),
        enum("aspect_ratio", ["16:9", "4:3", "1:1", "3:4", "9:16", "21:9", "9:21"], default="16:9",
             label="Aspect ratio", help="Ignored with a start frame: the image decides."),
        enum("fps", [24], default=24, label="Frame rate", advanced=True),
        boolean("camera_fixed", False, label="Fixed camera"),
        _start(),
        _end(),
        seed(4_294_967_295),
    ]


MODELS = [
    entry(
        slug="seedance-1-pro", name="Seedance 1.0 Pro", vendor="ByteDance", modality="video", sort_order=10,
        description="ByteDance's multi-shot video model: 2 to 12 second clips up to 1080p from text or a start "
        "frame (with an optional end frame), smooth motion and strong prompt following.",
        capabilities=["text-to-video", "image-to-video", "end-frame"],
        fields=_seedance_1(),
        rules=[END_NEEDS_START],
        pricing={"unit": "second", "credits": "5.5", "duration": "duration",
                 "multipliers": {"resolution": {"480p": "0.45", "1080p": "2.25"}}},
        aliases=["seedance-1-0-pro", "seedance-1-0-pro-250528"],
        routes=[route("ark", "seedance-1-0-pro-250528"), route("replicate", "bytedance/seedance-1-pro"),
                route("fal", "fal-ai/bytedance/seedance/v1/pro/text-to-video", unsupported=["end_image_url"])],
    ),
    entry(
        slug="seedance-1-pro-fast", name="Seedance 1.0 Pro Fast", vendor="ByteDance", modality="video",
        sort_order=11,
        description="Seedance 1.0 Pro quality at about three times the speed and a fraction of the price.",
        capabilities=["text-to-video", "image-to-video"],
        fields=[f for f in _seedance_1() if f["name"] != "end_image_url"],
        pricing={"unit": "second", "credits": "2", "duration": "duration",
                 "multipliers": {"resolution": {"480p": "0.45", "1080p": "2.25"}}},
        # pollinations' "seedance" is this model (its seedanceVideoModel calls seedance-1-0-pro-fast-251015).
        aliases=["seedance-1-0-pro-fast", "seedance"],
        routes=[route("ark", "seedance-1-0-pro-fast-251015"), route("replicate", "bytedance/seedance-1-pro-fast"),
                route("pollinations", "seedance", rules=[
                    {"if": {"duration": [11, 12]}, "message": "pollinations' Seedance makes 2 to 10 second clips."}])],
    ),
    entry(
        slug="seedance-1-lite", name="Seedance 1.0 Lite", vendor="ByteDance", modality="video", sort_order=12,
        description="The budget Seedance: text or image to video, up to 4 reference images, 480p to 1080p.",
        capabilities=["text-to-video", "image-to-video", "end-frame", "media-to-video"],
        fields=[*_seedance_1(), url_list("media_urls", "Reference images", 4,
                                         help="1 to 4 reference images (not with a start frame).")],
        rules=[END_NEEDS_START,
               {"if": {"image_url": "*", "media_urls": "*"}, "forbid": True, "field": "media_urls",
                "message": "Use either a start frame or reference images, not both."}],
        pricing={"unit": "second", "credits": "3.6", "duration": "duration",
                 "multipliers": {"resolution": {"480p": "0.5", "1080p": "2"}}},
        aliases=["seedance-1-0-lite"],
        # The text-to-video id; the ark adapter sends the -i2v- twin when images come along.
        routes=[route("ark", "seedance-1-0-lite-t2v-250428", rules=[
                    {"if": {"media_urls": "*", "resolution": "1080p"},
                     "message": "Seedance 1.0 Lite takes reference images at 480p or 720p."}]),
                route("replicate", "bytedance/seedance-1-lite"),
                route("fal", "fal-ai/bytedance/seedance/v1/lite/text-to-video", unsupported=["media_urls"])],
    ),
    entry(
        slug="seedance-2", name="Seedance 2.0", vendor="ByteDance", modality="video", sort_order=5,
        description="ByteDance's newest video model: text, image (start and end frame) or media to video, 4 to 15 "
        "second clips with generated audio, up to 12 reference media.",
        capabilities=["text-to-video", "image-to-video", "end-frame", "media-to-video", "video-audio"],
        fields=_seedance_2_fields(["720p", "1080p"]),
        rules=SEEDANCE_2_RULES,
        pricing={"unit": "second", "credits": "10", "duration": "duration",
                 "multipliers": {"resolution": {"1080p": "2.25"}}, "addons": {"generate_audio": {"true": "2"}}},
        aliases=["seedance-2-0", "dreamina-seedance-2-0"],
        routes=[route("ark", "dreamina-seedance-2-0-260128", rules=[SEEDANCE_2_FIXED_LENS]),
                route("fal", "bytedance/seedance-2.0/text-to-video", unsupported=["seed"])],
    ),
    entry(
        slug="seedance-2-fast", name="Seedance 2.0 Fast", vendor="ByteDance", modality="video", sort_order=6,
        description="The faster, cheaper Seedance 2.0: the same text, frames and reference media with generated "
        "audio, 4 to 15 second clips at 480p or 720p.",
        capabilities=["text-to-video", "image-to-video", "end-frame", "media-to-video", "video-audio"],
        fields=_seedance_2_fields(["480p", "720p"]),
        rules=SEEDANCE_2_RULES,
        pricing={"unit": "second", "credits": "8", "duration": "duration",
                 "multipliers": {"resolution": {"480p": "0.45"}}, "addons": {"generate_audio": {"true": "1.6"}}},
        aliases=["seedance-2-0-fast", "dreamina-seedance-2-0-fast"],
        routes=[route("ark", "dreamina-seedance-2-0-fast-260128", rules=[SEEDANCE_2_FIXED_LENS])],
        note="BytePlus bills Seedance 2.0 per token; this per-second price follows its Fast-to-standard ratio "
        "(1.182 / 1.477 per 1K tokens on ComfyUI's partner pricing) against Seedance 2.0's.",
    ),
    entry(
        slug="grok-imagine-1.5-video", name="Grok Imagine Video 1.5", vendor="xAI", modality="video",
        sort_order=7,
        description="xAI's video model with native audio: text or a start image to 1 to 15 second clips at 480p "
        "to 1080p.",
        capabilities=["text-to-video", "image-to-video", "video-audio"],
        fields=[
            prompt(max_length=4000),
            integer("duration", 1, 15, default=8, label="Duration (seconds)"),
            enum("aspect_ratio", ["16:9", "9:16", "1:1", "4:3", "3:4", "3:2", "2:3"], default="16:9",
                 label="Aspect ratio"),
            enum("resolution", ["480p", "720p", "1080p"], default="720p", label="Resolution"),
            _start(),
        ],
        # $0.08 / $0.14 / $0.25 per second at 480p / 720p / 1080p.
        pricing={"unit": "second", "credits": "14", "duration": "duration",
                 "multipliers": {"resolution": {"480p": "0.58", "1080p": "1.79"}}},
        aliases=["grok-imagine-1.5-video-apimart", "grok-imagine-video-1.5"],
        routes=[route("xai", "grok-imagine-video-1.5")],
        note="Request fields from xAI's video API as its clients send them (model, prompt, duration, aspect_ratio, "
        "resolution, image); prices from resellers' listings of xAI's rates, not xAI's own pricing page.",
    ),
    entry(
        slug="veo-3", name="Veo 3", vendor="Google", modality="video", sort_order=20,
        description="Google DeepMind's video model with native audio (dialogue, effects, ambience), 720p or 1080p, "
        "4 to 8 second clips.",
        capabilities=["text-to-video", "image-to-video", "video-audio"],
        fields=[
            prompt(max_length=4000),
            negative_prompt(),
            enum("duration", [4, 6, 8], default=8, label="Duration (seconds)"),
            enum("aspect_ratio", ["16:9", "9:16"], default="16:9", label="Aspect ratio"),
            enum("resolution", ["720p", "1080p"], default="720p", label="Resolution"),
            boolean("generate_audio", True, label="Generate audio"),
            _start(),
            PERSON_GENERATION,
            seed(4_294_967_295),
        ],
        pricing={"unit": "second", "credits": "20", "duration": "duration",
                 "addons": {"generate_audio": {"true": "20"}}},
        aliases=["veo3", "veo-3.0-generate-001"],
        routes=[_veo_route("veo-3.0-generate-001"), route("replicate", "google/veo-3", unsupported=["person_generation"]),
                route("fal", "fal-ai/veo3", unsupported=["person_generation"])],
    ),
    entry(
        slug="veo-3-fast", name="Veo 3 Fast", vendor="Google", modality="video", sort_order=21,
        description="A faster, cheaper Veo 3 for iteration, with the same audio generation.",
        capabilities=["text-to-video", "image-to-video", "video-audio"],
        fields=[
            prompt(max_length=4000),
            negative_prompt(),
            enum("duration", [4, 6, 8], default=8, label="Duration (seconds)"),
            enum("aspect_ratio", ["16:9", "9:16"], default="16:9", label="Aspect ratio"),
            enum("resolution", ["720p", "1080p"], default="720p", label="Resolution"),
            boolean("generate_audio", True, label="Generate audio"),
            _start(),
            PERSON_GENERATION,
            seed(4_294_967_295),
        ],
        pricing={"unit": "second", "credits": "10", "duration": "duration",
                 "addons": {"generate_audio": {"true": "5"}}},
        aliases=["veo-3.0-fast-generate-001"],
        routes=[_veo_route("veo-3.0-fast-generate-001"),
                route("replicate", "google/veo-3-fast", unsupported=["person_generation"]),
                route("fal", "fal-ai/veo3/fast", unsupported=["person_generation"])],
    ),
    entry(
        slug="veo-3.1", name="Veo 3.1", vendor="Google", modality="video", sort_order=19,
        description="Veo 3.1: richer audio, first and last frame control and up to 3 reference images.",
        capabilities=["text-to-video", "image-to-video", "end-frame", "media-to-video", "video-audio"],
        fields=VEO_31_FIELDS,
        rules=VEO_31_RULES,
        pricing={"unit": "second", "credits": "20", "duration": "duration",
                 "multipliers": {"resolution": {"4k": "1.5"}}, "addons": {"generate_audio": {"true": "20"}}},
        aliases=["veo-3.1-generate-preview", "veo3.1", "veo"],
        routes=[_veo_route("veo-3.1-generate-preview"),
                route("replicate", "google/veo-3.1", unsupported=["person_generation"],
                      rules=[{"if": {"resolution": "4k"}, "message": "Veo 3.1 on Replicate goes up to 1080p."}]),
                # fal's Veo 3.1 page prices 4k ($0.40 / $0.60 a second without / with audio).
                route("fal", "fal-ai/veo3.1", unsupported=["person_generation"]),
                route("pollinations", "veo", unsupported=["image_url", "end_image_url", "media_urls", "negative_prompt",
                                                          "person_generation"],
                      rules=[{"if": {"resolution": "4k"}, "message": "pollinations' Veo goes up to 1080p."}])],
        note="4k and its price ($0.60 per second on the Gemini API, audio included) from Google's January 2026 "
        "changelog and third-party price tables.",
    ),
    entry(
        slug="veo-3.1-fast", name="Veo 3.1 Fast", vendor="Google", modality="video", sort_order=19,
        description="The fast, cheaper Veo 3.1 with the same audio, frames and reference images; 720p to 4k.",
        capabilities=["text-to-video", "image-to-video", "end-frame", "media-to-video", "video-audio"],
        fields=VEO_31_FIELDS,
        rules=VEO_31_RULES,
        # Gemini API list price, audio included: $0.10 / $0.12 / $0.30 per second at 720p / 1080p / 4k.
        pricing={"unit": "second", "credits": "10", "duration": "duration",
                 "multipliers": {"resolution": {"1080p": "1.2", "4k": "3"}}},
        aliases=["veo-3.1-fast-generate-preview", "veo3.1-fast"],
        routes=[_veo_route("veo-3.1-fast-generate-preview"),
                route("replicate", "google/veo-3.1-fast", unsupported=["person_generation"],
                      rules=[{"if": {"resolution": "4k"}, "message": "Veo 3.1 Fast on Replicate goes up to 1080p."}]),
                route("fal", "fal-ai/veo3.1/fast", unsupported=["person_generation"],
                      rules=[{"if": {"resolution": "4k"}, "message": "Veo 3.1 Fast on fal goes up to 1080p."}])],
        note="Prices as third-party tables quote the Gemini API pricing page after its April 2026 cut; the preview "
        "model id is the one Google's guides use.",
    ),
    entry(
        slug="veo-3.1-lite", name="Veo 3.1 Lite", vendor="Google", modality="video", sort_order=19,
        description="The cheapest Veo 3.1 (March 2026): text or a start frame to 8-second clips with audio, up to "
        "1080p.",
        capabilities=["text-to-video", "image-to-video", "video-audio"],
        fields=[
            prompt(max_length=4000),
            negative_prompt(),
            enum("duration", [4, 6, 8], default=8, label="Duration (seconds)"),
            enum("aspect_ratio", ["16:9", "9:16"], default="16:9", label="Aspect ratio"),
            enum("resolution", ["720p", "1080p"], default="720p", label="Resolution"),
            boolean("generate_audio", True, label="Generate audio"),
            _start(),
            PERSON_GENERATION,
            seed(4_294_967_295),
        ],
        rules=[{"if": {"resolution": "1080p", "duration": [4, 6]}, "forbid": True, "field": "resolution",
                "message": "1080p is available for 8-second clips only."}],
        pricing={"unit": "second", "credits": "5", "duration": "duration",
                 "multipliers": {"resolution": {"1080p": "1.6"}}},
        aliases=["veo-3.1-lite-generate-preview"],
        routes=[_veo_route("veo-3.1-lite-generate-preview")],
        note="$0.05 / $0.08 per second (720p / 1080p) as third-party tables quote Google's pricing page; no 4k or "
        "extension on Lite.",
    ),
    entry(
        slug="kling-3", name="Kling 3.0", vendor="Kuaishou", modality="video", sort_order=29,
        description="Kling's 3.0 model: 3 to 15 second clips from text or a start frame (optionally an end frame), "
        "standard 720p or pro 1080p, with native audio on request.",
        capabilities=["text-to-video", "image-to-video", "end-frame", "video-audio"],
        fields=[
            prompt(max_length=2500),
            negative_prompt(2500),
            integer("duration", 3, 15, default=5, label="Duration (seconds)"),
            enum("aspect_ratio", ["16:9", "9:16", "1:1"], default="16:9", label="Aspect ratio",
                 help="Ignored with a start frame, which sets the shape."),
            enum("mode", ["standard", "pro"], default="pro", label="Mode", help="standard is 720p, pro is 1080p."),
            boolean("generate_audio", False, label="Generate audio"),
            _start(),
            _end(),
        ],
        rules=[END_NEEDS_START],
        # Kling's list price: $0.084 (standard) / $0.112 (pro) per second, 1.5x with audio.
        pricing={"unit": "second", "credits": "11.2", "duration": "duration",
                 "multipliers": {"mode": {"standard": "0.75"}, "generate_audio": {"true": "1.5"}}},
        aliases=["kling-v3", "kling-3.0", "kling-v3-video", "kling-video-v3"],
        routes=[route("replicate", "kwaivgi/kling-v3-video")],
        note="Inputs from the Replicate model's page (version 4a8ba274); Replicate's own per-second price is above "
        "Kling's list price quoted here.",
    ),
    entry(
        slug="kling-2.1-master", name="Kling 2.1 Master", vendor="Kuaishou", modality="video", sort_order=30,
        description="Kling's premium 2.1 model: cinematic 1080p motion and strong prompt precision, text or image "
        "to video, 5 or 10 seconds.",
        capabilities=["text-to-video", "image-to-video"],
        fields=[
            prompt(max_length=2500),
            negative_prompt(2500, default="blur, distort, and low quality"),
            enum("duration", [5, 10], default=5, label="Duration (seconds)"),
            enum("aspect_ratio", ["16:9", "9:16", "1:1"], default="16:9", label="Aspect ratio"),
            number("cfg_scale", 0, 1, default=0.5, step=0.05, label="CFG scale", advanced=True,
                   help="How closely the video sticks to the prompt."),
            _start(),
        ],
        pricing={"unit": "second", "credits": "28", "duration": "duration"},
        aliases=["kling-v2.1-master", "kling-v2-1-master"],
        routes=[route("fal", "fal-ai/kling-video/v2.1/master/text-to-video"),
                route("replicate", "kwaivgi/kling-v2.1-master")],
    ),
    entry(
        slug="kling-2.5-turbo-pro", name="Kling 2.5 Turbo Pro", vendor="Kuaishou", modality="video",
        sort_order=31,
        description="Kling 2.5 Turbo: better motion and camera control than 2.1 at a much lower price.",
        capabilities=["text-to-video", "image-to-video", "end-frame"],
        fields=[
            prompt(max_length=2500),
            negative_prompt(2500, default="blur, distort, and low quality"),
            enum("duration", [5, 10], default=5, label="Duration (seconds)"),
            enum("aspect_ratio", ["16:9", "9:16", "1:1"], default="16:9", label="Aspect ratio"),
            number("cfg_scale", 0, 1, default=0.5, step=0.05, label="CFG scale", advanced=True),
            _start(),
            _end(),
        ],
        rules=[END_NEEDS_START],
        pricing={"unit": "second", "credits": "7", "duration": "duration"},
        aliases=["kling-v2.5-turbo-pro", "kling-v2-5-turbo"],
        routes=[route("fal", "fal-ai/kling-video/v2.5-turbo/pro/text-to-video", unsupported=["end_image_url"]),
                route("replicate", "kwaivgi/kling-v2.5-turbo-pro")],
    ),
    entry(
        slug="kling-2.1", name="Kling 2.1 (image to video)", vendor="Kuaishou", modality="video", sort_order=32,
        description="Kling 2.1 animates a start frame in standard (720p) or pro (1080p) mode; pro also takes an "
        "end frame.",
        capabilities=["image-to-video", "end-frame"],
        fields=[
            prompt(max_length=2500),
            _start(required=True),
            _end(),
            enum("mode", ["standard", "pro"], default="standard", label="Mode",
                 help="standard is 720p, pro is 1080p."),
            enum("duration", [5, 10], default=5, label="Duration (seconds)"),
            negative_prompt(2500),
        ],
        rules=[END_NEEDS_START,
               {"if": {"end_image_url": "*", "mode": "standard"}, "forbid": True, "field": "end_image_url",
                "message": "An end frame needs pro mode."}],
        pricing={"unit": "second", "credits": "5", "duration": "duration", "multipliers": {"mode": {"pro": "1.8"}}},
        aliases=["kling-v2.1"],
        routes=[route("replicate", "kwaivgi/kling-v2.1"),
                route("fal", "fal-ai/kling-video/v2.1/standard/image-to-video", rules=[
                    {"if": {"mode": "pro"}, "message": "The fal route serves standard mode only."}])],
    ),
    entry(
        slug="hailuo-02", name="Hailuo 02", vendor="MiniMax", modality="video", sort_order=40,
        description="MiniMax Hailuo 02: strong physics and instruction following, 6 or 10 second clips at 512P to "
        "1080P, optional first and last frame.",
        capabilities=["text-to-video", "image-to-video", "end-frame"],
        fields=[
            prompt(max_length=2000),
            enum("duration", [6, 10], default=6, label="Duration (seconds)"),
            enum("resolution", ["512P", "768P", "1080P"], default="768P", label="Resolution"),
            boolean("prompt_optimizer", True, label="Prompt optimizer", advanced=True),
            _start(),
            _end(),
        ],
        rules=[
            END_NEEDS_START,
            {"if": {"resolution": "1080P", "duration": 10}, "forbid": True, "field": "duration",
             "message": "1080P is available for 6-second clips only."},
            {"if": {"resolution": "512P", "image_url": None}, "forbid": True, "field": "resolution",
             "message": "512P needs a start frame (image to video)."},
            {"if": {"resolution": "512P", "end_image_url": "*"}, "forbid": True, "field": "end_image_url",
             "message": "An end frame needs 768P or 1080P."},
        ],
        pricing={"unit": "second", "credits": "4.5", "duration": "duration",
                 "multipliers": {"resolution": {"512P": "0.4", "1080P": "1.8"}}},
        aliases=["minimax-hailuo-02", "hailuo"],
        routes=[route("replicate", "minimax/hailuo-02"),
                route("fal", "fal-ai/minimax/hailuo-02/standard/text-to-video", unsupported=["end_image_url"])],
    ),
    entry(
        slug="wan-2.2", name="Wan 2.2 A14B", vendor="Alibaba Wan", modality="video", sort_order=50,
        description="Open-weights mixture-of-experts video model; runs on a local ComfyUI box. Length is set in "
        "frames (81 frames at 16 fps is about 5 seconds).",
        capabilities=["text-to-video", "image-to-video"],
        fields=[
            prompt(max_length=2000),
            negative_prompt(),
            enum("resolution", ["480p", "580p", "720p"], default="720p", label="Resolution"),
            enum("aspect_ratio", ["16:9", "9:16", "1:1"], default="16:9", label="Aspect ratio"),
            integer("num_frames", 17, 161, default=81, label="Frames"),
            integer("frames_per_second", 4, 60, default=16, label="Frames per second", advanced=True),
            integer("num_inference_steps", 2, 40, default=27, label="Steps", advanced=True),
            _start(),
            seed(),
        ],
        # Priced per clip at the longest length: the upstreams bill per video, not per frame.
        pricing={"unit": "request", "credits": "8",
                 "multipliers": {"resolution": {"480p": "0.5", "580p": "0.75"}}},
        aliases=["wan2.2", "wan-2.2-a14b"],
        routes=[route("fal", "fal-ai/wan/v2.2-a14b/text-to-video"), route("replicate", "wan-video/wan-2.2-t2v-fast"),
                # ComfyUI's built-in Wan 2.2 graph is text to video (the high-noise file names the pair).
                route("comfyui", "wan2.2_t2v_high_noise_14B_fp8_scaled.safetensors", unsupported=["image_url"])],
    ),
    entry(
        slug="wan-3", name="Wan 3.0", vendor="Alibaba Wan", modality="video", sort_order=49,
        description="Alibaba's Wan 3.0: text to video with cinematic motion and camera moves at 480p, 720p or "
        "1080p.",
        capabilities=["text-to-video"],
        fields=[
            prompt(max_length=800),
            negative_prompt(500),
            integer("duration", 2, 10, default=5, label="Duration (seconds)"),
            enum("resolution", ["480p", "720p", "1080p"], default="720p", label="Resolution"),
            enum("aspect_ratio", ["16:9", "9:16", "1:1", "4:3", "3:4"], default="16:9", label="Aspect ratio"),
            boolean("enable_prompt_expansion", True, label="Prompt expansion", advanced=True),
            seed(),
        ],
        # Replicate's list price: $0.05 / $0.10 / $0.20 per second at 480p / 720p / 1080p.
        pricing={"unit": "second", "credits": "10", "duration": "duration",
                 "multipliers": {"resolution": {"480p": "0.5", "1080p": "2"}}},
        aliases=["wan3", "wan-3.0", "wan3.0"],
        routes=[route("replicate", "alibaba/wan-3")],
        note="Inputs and prices from the Replicate model page (alibaba/wan-3); the 2 to 10 second range follows "
        "other gateways' listings of Wan 3.0, Replicate's input schema was not seen.",
    ),
    entry(
        slug="wan-2.5", name="Wan 2.5", vendor="Alibaba Wan", modality="video", sort_order=51,
        description="Wan 2.5: 5 or 10 second clips up to 1080p with synchronized audio from your own track or "
        "generated.",
        capabilities=["text-to-video", "image-to-video", "video-audio"],
        fields=[
            prompt(max_length=800),
            negative_prompt(500),
            enum("duration", [5, 10], default=5, label="Duration (seconds)"),
            enum("resolution", ["480p", "720p", "1080p"], default="1080p", label="Resolution"),
            enum("aspect_ratio", ["16:9", "9:16", "1:1"], default="16:9", label="Aspect ratio"),
            url("audio_url", "Audio track", help="Optional WAV/MP3 (3 to 30 s) to sync the video to.",
                example="https://example.com/track.mp3"),
            boolean("enable_prompt_expansion", True, label="Prompt expansion", advanced=True),
            _start(),
            seed(),
        ],
        pricing={"unit": "second", "credits": "10", "duration": "duration",
                 "multipliers": {"resolution": {"480p": "0.5", "1080p": "1.5"}}},
        aliases=["wan2.5", "wan-2.5-preview"],
        routes=[route("fal", "fal-ai/wan-25-preview/text-to-video"), route("replicate", "wan-video/wan-2.5-t2v")],
    ),
    entry(
        slug="sora-2", name="Sora 2", vendor="OpenAI", modality="video", sort_order=15,
        description="OpenAI's video model with synchronized audio: 4, 8 or 12 second clips, landscape or portrait, "
        "optionally from a reference image.",
        capabilities=["text-to-video", "image-to-video", "video-audio"],
        fields=[
            prompt(max_length=10000),
            enum("duration", [4, 8, 12], default=4, label="Duration (seconds)"),
            enum("size", ["1280x720", "720x1280"], default="1280x720", label="Size"),
            url("image_url", "Input reference", help="Optional first frame; must match the chosen size."),
        ],
        pricing={"unit": "second", "credits": "10", "duration": "duration"},
        aliases=["sora"],
        routes=[route("openai_video", "sora-2"), route("replicate", "openai/sora-2")],
        retired="2026-09-24", note=SORA_RETIRED,
    ),
    entry(
        slug="sora-2-pro", name="Sora 2 Pro", vendor="OpenAI", modality="video", sort_order=16,
        description="The higher-quality Sora 2, up to 1792x1024, for production footage.",
        capabilities=["text-to-video", "image-to-video", "video-audio"],
        fields=[
            prompt(max_length=10000),
            enum("duration", [4, 8, 12], default=4, label="Duration (seconds)"),
            enum("size", ["1280x720", "720x1280", "1792x1024", "1024x1792"], default="1280x720", label="Size"),
            url("image_url", "Input reference", help="Optional first frame; must match the chosen size."),
        ],
        pricing={"unit": "second", "credits": "30", "duration": "duration",
                 "multipliers": {"size": {"1792x1024": "1.7", "1024x1792": "1.7"}}},
        routes=[route("openai_video", "sora-2-pro"), route("replicate", "openai/sora-2-pro")],
        retired="2026-09-24", note=SORA_RETIRED,
    ),
    entry(
        slug="runway-gen4-turbo", name="Runway Gen-4 Turbo", vendor="Runway", modality="video", sort_order=60,
        description="Runway's fast image-to-video model: consistent characters and scenes from a single start frame.",
        capabilities=["image-to-video"],
        fields=[
            prompt(max_length=1000),
            _start(required=True),
            enum("aspect_ratio", ["1280:720", "720:1280", "1104:832", "832:1104", "960:960", "1584:672"],
                 default="1280:720", label="Ratio"),
            enum("duration", [5, 10], default=5, label="Duration (seconds)"),
            seed(4_294_967_295),
        ],
        pricing={"unit": "second", "credits": "5", "duration": "duration"},
        aliases=["gen4_turbo", "gen-4-turbo"],
        routes=[route("replicate", "runwayml/gen4-turbo"), route("fal", "fal-ai/runway/gen4/turbo/image-to-video")],
    ),
    entry(
        slug="luma-ray-2", name="Luma Ray 2", vendor="Luma AI", modality="video", sort_order=61,
        description="Luma's Ray 2: realistic, coherent motion at 540p to 1080p, 5 or 9 seconds, loopable.",
        capabilities=["text-to-video", "image-to-video", "end-frame"],
        fields=[
            prompt(max_length=5000),
            enum("aspect_ratio", ["16:9", "9:16", "4:3", "3:4", "21:9", "9:21", "1:1"], default="16:9",
                 label="Aspect ratio"),
            enum("resolution", ["540p", "720p", "1080p"], default="540p", label="Resolution"),
            enum("duration", [5, 9], default=5, label="Duration (seconds)"),
            boolean("loop", False, label="Loop", help="Blend the end into the start for a seamless loop."),
            _start(),
            _end(),
        ],
        rules=[END_NEEDS_START],
        pricing={"unit": "second", "credits": "10", "duration": "duration",
                 "multipliers": {"resolution": {"720p": "2", "1080p": "4"}}},
        aliases=["ray-2", "ray2"],
        routes=[route("fal", "fal-ai/luma-dream-machine/ray-2"), route("replicate", "luma/ray")],
    ),
    entry(
        slug="ltx-video", name="LTX-Video 0.9.8", vendor="Lightricks", modality="video", sort_order=70,
        description="Open real-time video model (13B distilled) that runs on a single consumer GPU.",
        capabilities=["text-to-video", "image-to-video"],
        fields=[
            prompt(max_length=2000),
            negative_prompt(default="worst quality, inconsistent motion, blurry, jittery, distorted"),
            enum("resolution", ["480p", "720p"], default="720p", label="Resolution"),
            enum("aspect_ratio", ["16:9", "9:16", "1:1"], default="16:9", label="Aspect ratio"),
            integer("duration", 2, 10, default=5, label="Duration (seconds)"),
            enum("fps", [24, 30], default=24, label="Frame rate", advanced=True),
            _start(),
            seed(),
        ],
        pricing={"unit": "second", "credits": "0.5", "duration": "duration"},
        aliases=["ltxv"],
        # No ComfyUI route: LTX-Video 0.9.8 runs there only through Lightricks' own custom nodes; no
        # Replicate route: lightricks/ltx-video there is the 0.9.1 community model with other inputs.
        routes=[route("fal", "fal-ai/ltxv-13b-098-distilled")],
    ),
]

"""Image models. Parameter names are shared across entries where the upstream APIs allow
(prompt, negative_prompt, size or aspect_ratio, n, seed, image_urls); adapters translate them
into each upstream's own names (num_outputs, numberOfImages, imageSize, ...)."""
from .common import (
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

ASPECTS_FLUX = ["1:1", "16:9", "21:9", "3:2", "2:3", "4:5", "5:4", "3:4", "4:3", "9:16", "9:21"]
ASPECTS_GEMINI = ["1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9"]
ASPECTS_IMAGEN = ["1:1", "3:4", "4:3", "9:16", "16:9"]
OUTPUT_FORMATS = ["webp", "jpg", "png"]
# GPT Image: compression applies to jpeg and webp only (below 100 with png is a 400 upstream), and
# a transparent background needs png or webp. No defaults: the upstream's own apply.
OUTPUT_COMPRESSION = integer("output_compression", 0, 100, label="Compression", advanced=True,
                             help="jpeg/webp only: 100 keeps the most detail. Leave empty for png.")
MODERATION = {"name": "moderation", "type": "enum", "choices": ["auto", "low"], "label": "Moderation",
              "advanced": True, "help": "Leave empty for the provider's default (auto)."}
GPT_IMAGE_RULES = [
    {"if": {"background": "transparent", "output_format": "jpeg"}, "forbid": True, "field": "background",
     "message": "A transparent background needs png or webp output, not jpeg."},
    # png is also what an unset output_format means upstream.
    {"if": {"output_format": ["png", None], "output_compression": list(range(100))}, "forbid": True,
     "field": "output_compression",
     "message": "Compression below 100 works with jpeg or webp output only: leave it empty for png."},
]
GPT_IMAGE_2_ASPECTS = ["auto", "1:1", "5:4", "9:16", "21:9", "16:9", "4:3", "3:2", "4:5", "3:4", "2:3", "2:1", "1:2",
                       "3:1", "1:3", "9:21"]


def _n(maximum: int, label: str = "Images") -> dict:
    return integer("n", 1, maximum, default=1, label=label, help=f"How many images to make (1 to {maximum}).")


def _edit_images(maximum: int, help: str = "Reference or source images to edit; leave empty for text to image.") -> dict:
    return url_list("image_urls", "Input images", maximum, help=help)


def _flux_common(steps_max: int, steps_default: int, guidance: bool) -> list:
    fields = [
        prompt(max_length=4000),
        enum("aspect_ratio", ASPECTS_FLUX, default="1:1", label="Aspect ratio"),
        _n(4),
        integer("num_inference_steps", 1, steps_max, default=steps_default, label="Steps", advanced=True,
                help="More steps refine detail at the cost of time."),
    ]
    if guidance:
        fields.append(number("guidance", 0, 10, default=3, step=0.1, label="Guidance", advanced=True,
                             help="How closely the image follows the prompt."))
    fields += [
        enum("output_format", OUTPUT_FORMATS, default="webp", label="Output format", advanced=True),
        integer("output_quality", 0, 100, default=80, label="Output quality", advanced=True,
                help="JPEG/WebP quality; ignored for PNG."),
        seed(),
    ]
    return fields


MODELS = [
    entry(
        slug="gpt-image-1", name="GPT Image 1", vendor="OpenAI", modality="image", sort_order=10,
        description="OpenAI's natively multimodal image model: precise instruction following, legible text in "
        "images, transparent backgrounds, and edits from up to 16 reference images.",
        capabilities=["text-to-image", "image-to-image"],
        fields=[
            prompt(max_length=32000),
            enum("size", ["1024x1024", "1536x1024", "1024x1536", "auto"], default="1024x1024", label="Size"),
            enum("quality", ["low", "medium", "high", "auto"], default="medium", label="Quality",
                 help="auto is billed as high: the final quality is only known afterwards."),
            _n(10),
            enum("background", ["auto", "transparent", "opaque"], default="auto", label="Background", advanced=True,
                 help="transparent needs png or webp output."),
            enum("output_format", ["png", "jpeg", "webp"], default="png", label="Output format", advanced=True),
            OUTPUT_COMPRESSION,
            MODERATION,
            _edit_images(16),
        ],
        rules=GPT_IMAGE_RULES,
        pricing={"unit": "image", "credits": "4", "count": "n",
                 "multipliers": {"quality": {"low": "0.25", "high": "4", "auto": "4"},
                                 "size": {"1536x1024": "1.5", "1024x1536": "1.5", "auto": "1.5"}}},
        routes=[route("openai", "gpt-image-1"),
                route("replicate", "openai/gpt-image-1", rules=[
                    {"if": {"size": "auto"}, "message": "GPT Image on Replicate takes 1:1, 3:2 or 2:3, not auto."}])],
        retired="2026-10-23", note="OpenAI shut gpt-image-1 down on 2026-10-23 (API deprecations page); kept for "
        "history. Its OpenAI-backed Replicate model runs on the same OpenAI model.",
    ),
    entry(
        slug="gpt-image-2", name="GPT Image 2", vendor="OpenAI", modality="image", sort_order=9,
        description="OpenAI's current image model (ChatGPT Images 2.0): dense typography and layouts, any size "
        "up to 4K, edits from up to 10 reference images.",
        capabilities=["text-to-image", "image-to-image"],
        fields=[
            prompt(max_length=20000) | {"min_length": 3},
            enum("aspect_ratio", GPT_IMAGE_2_ASPECTS, default="1:1", label="Aspect ratio",
                 help="auto lets the model pick (1K only)."),
            enum("resolution", ["1K", "2K", "4K"], default="1K", label="Resolution",
                 help="About 1, 4 or 8 megapixels at the chosen aspect ratio."),
            enum("quality", ["low", "medium", "high", "auto"], default="medium", label="Quality",
                 help="auto is billed as high: the final quality is only known afterwards."),
            _n(4),
            {"name": "background", "type": "enum", "choices": ["auto", "transparent", "opaque"], "label": "Background",
             "advanced": True, "help": "transparent (a preview upstream) needs png or webp output."},
            {"name": "output_format", "type": "enum", "choices": ["png", "jpeg", "webp"], "label": "Output format",
             "advanced": True, "help": "Leave empty for png."},
            OUTPUT_COMPRESSION,
            MODERATION,
            url_list("image_urls", "Input images", 10, help="1 to 10 reference images to edit or combine."),
        ],
        rules=[*GPT_IMAGE_RULES,
               {"if": {"aspect_ratio": "auto", "resolution": ["2K", "4K"]}, "forbid": True, "field": "resolution",
                "message": "auto aspect ratio is only available at 1K."}],
        pricing={"unit": "image", "credits": "7", "count": "n",
                 "multipliers": {"quality": {"low": "0.3", "high": "2.7", "auto": "2.7"},
                                 "resolution": {"2K": "4", "4K": "8"}}},
        aliases=["gpt-image-2-2026-04-21", "gptimage", "gpt-image", "chatgpt-image"],
        routes=[route("openai", "gpt-image-2"),
                route("pollinations", "gptimage", unsupported=["n", "image_urls", "background", "output_compression",
                                                               "moderation"])],
        note="Parameters from openai-python's ImageGenerateParams (sizes divisible by 16, 1:3 to 3:1, up to "
        "3840x2160) and reference 003; the per-image prices are estimates from OpenAI's token prices ($8/$30 per 1M "
        "image tokens) and not a published per-image table.",
    ),
    entry(
        slug="gpt-image-1-mini", name="GPT Image 1 Mini", vendor="OpenAI", modality="image", sort_order=11,
        description="A cheaper, faster GPT Image 1 with the same parameters, for drafts and high volume.",
        capabilities=["text-to-image", "image-to-image"],
        fields=[
            prompt(max_length=32000),
            enum("size", ["1024x1024", "1536x1024", "1024x1536", "auto"], default="1024x1024", label="Size"),
            enum("quality", ["low", "medium", "high", "auto"], default="medium", label="Quality"),
            _n(10),
            enum("background", ["auto", "transparent", "opaque"], default="auto", label="Background", advanced=True),
            enum("output_format", ["png", "jpeg", "webp"], default="png", label="Output format", advanced=True),
            _edit_images(16),
        ],
        pricing={"unit": "image", "credits": "1.1", "count": "n",
                 "multipliers": {"quality": {"low": "0.5", "high": "3.3", "auto": "3.3"},
                                 "size": {"1536x1024": "1.5", "1024x1536": "1.5", "auto": "1.5"}}},
        routes=[route("openai", "gpt-image-1-mini")],
        retired="2026-12-01", note="Shut down 2026-12-01 (OpenAI API deprecations page); kept for history.",
    ),
    entry(
        slug="dall-e-3", name="DALL·E 3", vendor="OpenAI", modality="image", sort_order=12,
        description="OpenAI's previous image model; rewrites prompts for detail. One image per request.",
        capabilities=["text-to-image"],
        fields=[
            prompt(max_length=4000),
            enum("size", ["1024x1024", "1792x1024", "1024x1792"], default="1024x1024", label="Size"),
            enum("quality", ["standard", "hd"], default="standard", label="Quality"),
            enum("style", ["vivid", "natural"], default="vivid", label="Style"),
        ],
        pricing={"unit": "image", "credits": "4",
                 "multipliers": {"quality": {"hd": "2"}, "size": {"1792x1024": "2", "1024x1792": "2"}}},
        aliases=["dalle-3", "dalle3"],
        routes=[route("openai", "dall-e-3")],
        retired="2026-05-12", note="Shut down 2026-05-12 (OpenAI's model page); kept for history.",
    ),
    entry(
        slug="nano-banana", name="Nano Banana (Gemini 2.5 Flash Image)", vendor="Google", modality="image",
        sort_order=13,
        description="Gemini 2.5 Flash Image: conversational editing, multi-image fusion and character consistency, "
        "fast and cheap.",
        capabilities=["text-to-image", "image-to-image"],
        fields=[
            prompt(max_length=8000),
            enum("aspect_ratio", ASPECTS_GEMINI, default="1:1", label="Aspect ratio"),
            _n(4),
            enum("output_format", ["png", "jpeg"], default="png", label="Output format", advanced=True),
            _edit_images(3, help="Up to 3 images to edit or combine."),
        ],
        pricing={"unit": "image", "credits": "3.9", "count": "n"},
        aliases=["gemini-2.5-flash-image", "gemini-2.5-flash-image-preview"],
        routes=[route("gemini", "gemini-2.5-flash-image"), route("fal", "fal-ai/nano-banana"),
                route("replicate", "google/nano-banana")],
        retired="2026-10-02", note="gemini-2.5-flash-image shut down on 2026-10-02 (Gemini API deprecations page); "
        "its fal and Replicate models call the same Google model.",
    ),
    entry(
        slug="nano-banana-2", name="Nano Banana 2 (Gemini 3.1 Flash Image)", vendor="Google", modality="image",
        sort_order=13,
        description="Gemini 3.1 Flash Image: fast, cheap generation and conversational editing with up to 14 "
        "reference images, 1K to 4K, extra-wide and extra-tall aspect ratios.",
        capabilities=["text-to-image", "image-to-image"],
        fields=[
            prompt(max_length=10000),
            enum("aspect_ratio", [*ASPECTS_GEMINI, "1:4", "4:1", "1:8", "8:1"], default="1:1", label="Aspect ratio"),
            enum("resolution", ["1K", "2K", "4K"], default="1K", label="Resolution"),
            _n(4),
            enum("output_format", ["png", "jpeg"], default="png", label="Output format", advanced=True),
            _edit_images(14, help="Up to 14 reference images."),
        ],
        pricing={"unit": "image", "credits": "6.7", "count": "n", "multipliers": {"resolution": {"2K": "1.5",
                                                                                                "4K": "2.25"}}},
        aliases=["gemini-nano-banana-2", "gemini-3.1-flash-image", "gemini-3.1-flash-image-preview", "nanobanana"],
        routes=[route("gemini", "gemini-3.1-flash-image"),
                route("pollinations", "nanobanana", unsupported=["n", "image_urls"])],
        note="1K price from Gemini API image token pricing as third-party price tables quote it ($0.067); the 2K and "
        "4K factors are not confirmed against Google's pricing page.",
    ),
    entry(
        slug="nano-banana-pro", name="Nano Banana Pro (Gemini 3 Pro Image)", vendor="Google", modality="image",
        sort_order=14,
        description="Gemini 3 Pro Image: studio-quality output up to 4K, accurate text rendering, and up to 14 "
        "reference images.",
        capabilities=["text-to-image", "image-to-image"],
        fields=[
            prompt(max_length=10000),
            enum("aspect_ratio", ASPECTS_GEMINI + ["auto"], default="1:1", label="Aspect ratio"),
            enum("resolution", ["1K", "2K", "4K"], default="1K", label="Resolution"),
            _n(4),
            enum("output_format", ["png", "jpeg"], default="png", label="Output format", advanced=True),
            _edit_images(14, help="Up to 14 reference images."),
        ],
        rules=[{"if": {"aspect_ratio": "auto", "resolution": ["2K", "4K"]}, "forbid": True, "field": "resolution",
                "message": "auto aspect ratio is only available at 1K."}],
        pricing={"unit": "image", "credits": "13.4", "count": "n", "multipliers": {"resolution": {"4K": "1.8"}}},
        aliases=["gemini-3-pro-image", "gemini-3-pro-image-preview", "nanobanana-pro"],
        routes=[
            # gemini-3-pro-image-preview shut down 2026-06-25; the GA model replaced it.
            route("gemini", "gemini-3-pro-image"),
            route("fal", "fal-ai/nano-banana-pro", rules=[
                {"if": {"resolution": "4K", "aspect_ratio": "1:1"},
                 "message": "4K is not available at 1:1 on the fal channel."}]),
            route("replicate", "google/nano-banana-pro"),
            route("pollinations", "nanobanana-pro", unsupported=["n", "image_urls"]),
        ],
    ),
    entry(
        slug="flux-schnell", name="FLUX.1 [schnell]", vendor="Black Forest Labs", modality="image", sort_order=20,
        description="The fastest FLUX.1 model: 1 to 4 steps, Apache-2.0 weights, good for drafts and local boxes.",
        capabilities=["text-to-image"],
        fields=_flux_common(steps_max=4, steps_default=4, guidance=False),
        pricing={"unit": "image", "credits": "0.3", "count": "n"},
        aliases=["flux", "flux-1-schnell"],
        routes=[route("replicate", "black-forest-labs/flux-schnell"), route("fal", "fal-ai/flux/schnell"),
                route("comfyui", "flux1-schnell.safetensors"), route("pollinations", "flux", unsupported=["n"])],
    ),
    entry(
        slug="flux-dev", name="FLUX.1 [dev]", vendor="Black Forest Labs", modality="image", sort_order=21,
        description="The open-weights 12B guidance-distilled FLUX.1 model; image-to-image with a source image.",
        capabilities=["text-to-image", "image-to-image"],
        fields=[
            *_flux_common(steps_max=50, steps_default=28, guidance=True),
            url("image_url", "Source image", help="Optional image to transform (image to image)."),
            number("prompt_strength", 0, 1, default=0.8, step=0.01, label="Prompt strength", advanced=True,
                   help="With a source image: 1 ignores the image, 0 keeps it unchanged."),
        ],
        pricing={"unit": "image", "credits": "2.5", "count": "n"},
        aliases=["flux-1-dev"],
        routes=[route("replicate", "black-forest-labs/flux-dev"), route("fal", "fal-ai/flux/dev"),
                route("comfyui", "flux1-dev.safetensors")],
    ),
    entry(
        slug="flux-2-pro", name="FLUX.2 [pro]", vendor="Black Forest Labs", modality="image", sort_order=20,
        description="Black Forest Labs' FLUX.2 [pro]: photoreal text to image and multi-reference editing with up "
        "to 8 input images.",
        capabilities=["text-to-image", "image-to-image"],
        fields=[
            prompt(max_length=4000),
            enum("aspect_ratio", ASPECTS_FLUX, default="1:1", label="Aspect ratio"),
            _edit_images(8, help="Up to 8 reference images to edit or combine; leave empty for text to image."),
            integer("safety_tolerance", 1, 5, default=2, label="Safety tolerance", advanced=True,
                    help="1 is the strictest, 5 the most permissive."),
            enum("output_format", OUTPUT_FORMATS, default="webp", label="Output format", advanced=True),
            seed(),
        ],
        # BFL's list price: $0.03 for the first output megapixel (1 MP, the default resolution).
        pricing={"unit": "image", "credits": "3"},
        aliases=["flux-2", "flux.2-pro", "flux2-pro"],
        routes=[route("replicate", "black-forest-labs/flux-2-pro")],
        note="Inputs from the Replicate model's current version (285631b5); BFL prices FLUX.2 [pro] per megapixel "
        "(input images add to it), the quote counts the 1 MP output only.",
    ),
    entry(
        slug="flux-1.1-pro", name="FLUX1.1 [pro]", vendor="Black Forest Labs", modality="image", sort_order=22,
        description="Black Forest Labs' fast professional model with excellent prompt adherence and diversity.",
        capabilities=["text-to-image"],
        fields=[
            prompt(max_length=4000),
            enum("aspect_ratio", ASPECTS_FLUX, default="1:1", label="Aspect ratio"),
            boolean("prompt_upsampling", False, label="Prompt upsampling", advanced=True,
                    help="Let the model expand the prompt for more creative results."),
            integer("safety_tolerance", 1, 6, default=2, label="Safety tolerance", advanced=True,
                    help="1 is the strictest, 6 the most permissive."),
            enum("output_format", OUTPUT_FORMATS, default="webp", label="Output format", advanced=True),
            url("image_prompt", "Image prompt", help="Optional image whose composition guides the result."),
            seed(),
        ],
        pricing={"unit": "image", "credits": "4"},
        aliases=["flux-pro", "flux-1-1-pro"],
        routes=[route("replicate", "black-forest-labs/flux-1.1-pro"), route("fal", "fal-ai/flux-pro/v1.1")],
    ),
    entry(
        slug="flux-1.1-pro-ultra", name="FLUX1.1 [pro] Ultra", vendor="Black Forest Labs", modality="image",
        sort_order=23,
        description="FLUX1.1 [pro] at up to 4 megapixels, with a raw mode for natural, less processed photos.",
        capabilities=["text-to-image", "image-to-image"],
        fields=[
            prompt(max_length=4000),
            enum("aspect_ratio", ASPECTS_FLUX, default="1:1", label="Aspect ratio"),
            boolean("raw", False, label="Raw mode", help="Less processed, more natural-looking images."),
            url("image_prompt", "Image prompt", help="Optional image to blend with the prompt."),
            number("image_prompt_strength", 0, 1, default=0.1, step=0.01, label="Image prompt strength",
                   advanced=True),
            integer("safety_tolerance", 1, 6, default=2, label="Safety tolerance", advanced=True),
            enum("output_format", ["jpg", "png"], default="jpg", label="Output format", advanced=True),
            seed(),
        ],
        pricing={"unit": "image", "credits": "6"},
        aliases=["flux-ultra"],
        routes=[route("replicate", "black-forest-labs/flux-1.1-pro-ultra"),
                route("fal", "fal-ai/flux-pro/v1.1-ultra")],
    ),
    entry(
        slug="flux-kontext-pro", name="FLUX.1 Kontext [pro]", vendor="Black Forest Labs", modality="image",
        sort_order=24,
        description="Text-based image editing: change one thing in a picture and keep the rest, or generate from "
        "text alone.",
        capabilities=["text-to-image", "image-to-image"],
        fields=[
            prompt(max_length=4000),
            url("input_image", "Input image", help="The image to edit; leave empty to generate from text."),
            enum("aspect_ratio", ["match_input_image", *ASPECTS_FLUX], default="match_input_image",
                 label="Aspect ratio"),
            boolean("prompt_upsampling", False, label="Prompt upsampling", advanced=True),
            integer("safety_tolerance", 0, 6, default=2, label="Safety tolerance", advanced=True,
                    help="0 is the strictest; with an input image at most 2."),
            enum("output_format", ["jpg", "png"], default="png", label="Output format", advanced=True),
            seed(),
        ],
        rules=[{"if": {"input_image": "*", "safety_tolerance": [3, 4, 5, 6]}, "forbid": True,
                "field": "safety_tolerance", "message": "With an input image the safety tolerance is at most 2."}],
        pricing={"unit": "image", "credits": "4"},
        aliases=["kontext", "flux-kontext"],
        routes=[route("replicate", "black-forest-labs/flux-kontext-pro"), route("fal", "fal-ai/flux-pro/kontext"),
                route("pollinations", "kontext")],
    ),
    entry(
        slug="flux-kontext-max", name="FLUX.1 Kontext [max]", vendor="Black Forest Labs", modality="image",
        sort_order=25,
        description="The premium Kontext model: best prompt adherence and typography for edits.",
        capabilities=["text-to-image", "image-to-image"],
        fields=[
            prompt(max_length=4000),
            url("input_image", "Input image", help="The image to edit; leave empty to generate from text."),
            enum("aspect_ratio", ["match_input_image", *ASPECTS_FLUX], default="match_input_image",
                 label="Aspect ratio"),
            integer("safety_tolerance", 0, 6, default=2, label="Safety tolerance", advanced=True),
            enum("output_format", ["jpg", "png"], default="png", label="Output format", advanced=True),
            seed(),
        ],
        rules=[{"if": {"input_image": "*", "safety_tolerance": [3, 4, 5, 6]}, "forbid": True,
                "field": "safety_tolerance", "message": "With an input image the safety tolerance is at most 2."}],
        pricing={"unit": "image", "credits": "8"},
        routes=[route("replicate", "black-forest-labs/flux-kontext-max"),
                route("fal", "fal-ai/flux-pro/kontext/max")],
    ),
    entry(
        slug="seedream-3", name="Seedream 3.0", vendor="ByteDance", modality="image", sort_order=30,
        description="ByteDance's bilingual (Chinese/English) text-to-image model with native 2K output and strong "
        "text layout.",
        capabilities=["text-to-image"],
        fields=[
            prompt(max_length=4000),
            enum("size", ["1024x1024", "864x1152", "1152x864", "1280x720", "720x1280", "832x1248", "1248x832",
                          "1512x648", "2048x2048"], default="1024x1024", label="Size"),
            number("guidance_scale", 1, 10, default=2.5, step=0.1, label="Guidance scale", advanced=True),
            boolean("watermark", False, label="Watermark", advanced=True),
            seed(2_147_483_647),
        ],
        pricing={"unit": "image", "credits": "3"},
        aliases=["seedream-3-0-t2i-250415"],
        routes=[route("ark", "seedream-3-0-t2i-250415"), route("replicate", "bytedance/seedream-3"),
                route("fal", "fal-ai/bytedance/seedream/v3/text-to-image")],
    ),
    entry(
        slug="seedream-4", name="Seedream 4.0", vendor="ByteDance", modality="image", sort_order=31,
        description="Unified generation and editing up to 4K, multi-reference input (up to 10 images) and "
        "sequential image sets.",
        capabilities=["text-to-image", "image-to-image"],
        fields=[
            prompt(max_length=4000),
            enum("size", ["1K", "2K", "4K", "2048x2048", "2304x1728", "1728x2304", "2560x1440", "1440x2560",
                          "2496x1664", "1664x2496", "3024x1296"], default="2K", label="Size",
                 help="1K/2K/4K follow the input image's aspect ratio; or pick exact pixels."),
            _edit_images(10, help="Up to 10 reference images."),
            enum("sequential_image_generation", ["disabled", "auto"], default="disabled",
                 label="Image set", help="auto lets the model return a related series of images."),
            integer("max_images", 1, 15, default=1, label="Max images in a set", advanced=True),
            boolean("watermark", False, label="Watermark", advanced=True),
            seed(2_147_483_647),
        ],
        rules=[{"if": {"sequential_image_generation": "disabled", "max_images": list(range(2, 16))},
                "forbid": True, "field": "max_images",
                "message": "Max images above 1 needs Image set = auto."}],
        pricing={"unit": "image", "credits": "3", "count": "max_images"},
        aliases=["seedream", "seedream-4-0-250828"],
        routes=[route("ark", "seedream-4-0-250828"), route("replicate", "bytedance/seedream-4"),
                route("fal", "fal-ai/bytedance/seedream/v4/text-to-image"),
                route("pollinations", "seedream", unsupported=["image_urls"])],
    ),
    entry(
        slug="imagen-4", name="Imagen 4", vendor="Google", modality="image", sort_order=40,
        description="Google's flagship text-to-image model: fine detail, better typography, up to 2K.",
        capabilities=["text-to-image"],
        fields=[
            prompt(max_length=2000),
            enum("aspect_ratio", ASPECTS_IMAGEN, default="1:1", label="Aspect ratio"),
            enum("image_size", ["1K", "2K"], default="1K", label="Image size"),
            _n(4),
            enum("person_generation", ["allow_adult", "dont_allow"], default="allow_adult", label="People",
                 advanced=True),
        ],
        pricing={"unit": "image", "credits": "4", "count": "n"},
        aliases=["imagen-4.0-generate-001", "imagen4"],
        routes=[route("gemini", "imagen-4.0-generate-001"), route("replicate", "google/imagen-4"),
                route("fal", "fal-ai/imagen4/preview")],
        retired="2026-08-17", note="Google shut every Imagen model down on 2026-08-17 (Firebase AI Logic's Imagen "
        "migration guide: Gemini Developer API and Vertex AI); fal and Replicate called Google's.",
    ),
    entry(
        slug="imagen-4-fast", name="Imagen 4 Fast", vendor="Google", modality="image", sort_order=41,
        description="The fast, low-cost Imagen 4 variant (1K only).",
        capabilities=["text-to-image"],
        fields=[
            prompt(max_length=2000),
            enum("aspect_ratio", ASPECTS_IMAGEN, default="1:1", label="Aspect ratio"),
            _n(4),
            enum("person_generation", ["allow_adult", "dont_allow"], default="allow_adult", label="People",
                 advanced=True),
        ],
        pricing={"unit": "image", "credits": "2", "count": "n"},
        aliases=["imagen-4.0-fast-generate-001"],
        routes=[route("gemini", "imagen-4.0-fast-generate-001"), route("replicate", "google/imagen-4-fast"),
                route("fal", "fal-ai/imagen4/preview/fast")],
        retired="2026-08-17", note="Google shut every Imagen model down on 2026-08-17 (Firebase AI Logic's Imagen "
        "migration guide: Gemini Developer API and Vertex AI); fal and Replicate called Google's.",
    ),
    entry(
        slug="imagen-4-ultra", name="Imagen 4 Ultra", vendor="Google", modality="image", sort_order=42,
        description="The highest-fidelity Imagen 4 variant; one image per request.",
        capabilities=["text-to-image"],
        fields=[
            prompt(max_length=2000),
            enum("aspect_ratio", ASPECTS_IMAGEN, default="1:1", label="Aspect ratio"),
            enum("image_size", ["1K", "2K"], default="1K", label="Image size"),
            enum("person_generation", ["allow_adult", "dont_allow"], default="allow_adult", label="People",
                 advanced=True),
        ],
        pricing={"unit": "image", "credits": "6"},
        aliases=["imagen-4.0-ultra-generate-001"],
        routes=[route("gemini", "imagen-4.0-ultra-generate-001"), route("replicate", "google/imagen-4-ultra"),
                route("fal", "fal-ai/imagen4/preview/ultra")],
        retired="2026-08-17", note="Google shut every Imagen model down on 2026-08-17 (Firebase AI Logic's Imagen "
        "migration guide: Gemini Developer API and Vertex AI); fal and Replicate called Google's.",
    ),
    entry(
        slug="sdxl", name="Stable Diffusion XL", vendor="Stability AI", modality="image", sort_order=50,
        description="SDXL 1.0, the open model most local boxes run (AUTOMATIC1111, ComfyUI): negative prompts, "
        "schedulers, full control of steps and guidance.",
        capabilities=["text-to-image", "image-to-image"],
        fields=[
            prompt(max_length=2000),
            negative_prompt(),
            enum("size", ["1024x1024", "1152x896", "896x1152", "1216x832", "832x1216", "1344x768", "768x1344",
                          "1536x640", "640x1536"], default="1024x1024", label="Size",
                 help="SDXL's trained resolutions (about one megapixel)."),
            _n(4),
            integer("num_inference_steps", 1, 150, default=30, label="Steps", advanced=True),
            number("guidance_scale", 1, 50, default=7, step=0.5, label="Guidance scale (CFG)", advanced=True),
            enum("scheduler", ["DPMSolverMultistep", "K_EULER", "K_EULER_ANCESTRAL", "DDIM", "PNDM",
                               "KarrasDPM", "HeunDiscrete"], default="K_EULER", label="Scheduler", advanced=True),
            url("image_url", "Source image", help="Optional image for image to image."),
            number("prompt_strength", 0, 1, default=0.8, step=0.01, label="Prompt strength", advanced=True),
            seed(4_294_967_295),
        ],
        pricing={"unit": "image", "credits": "0.4", "count": "n"},
        # pollinations' "turbo" is its own SDXL-based model (image.pollinations.ai models.ts, type sd).
        aliases=["stable-diffusion-xl", "sdxl-1.0", "turbo"],
        routes=[route("a1111", "sd_xl_base_1.0.safetensors"), route("comfyui", "sd_xl_base_1.0.safetensors"),
                # A community model on Replicate: it runs by version (POST /v1/predictions).
                route("replicate", "stability-ai/sdxl:39ed52f2a78e934b3ba6e2a89f5b1c712de7dfea535525255b1aa35c5565e08b"),
                route("fal", "fal-ai/fast-sdxl"),
                route("pollinations", "turbo", unsupported=["n", "image_url", "scheduler", "num_inference_steps",
                                                            "guidance_scale", "prompt_strength"])],
    ),
    entry(
        slug="sd-3.5-large", name="Stable Diffusion 3.5 Large", vendor="Stability AI", modality="image",
        sort_order=51,
        description="Stability's 8B MMDiT model: strong prompt adherence and typography, open weights.",
        capabilities=["text-to-image", "image-to-image"],
        fields=[
            prompt(max_length=10000),
            negative_prompt(),
            enum("aspect_ratio", ["1:1", "16:9", "21:9", "3:2", "2:3", "4:5", "5:4", "3:4", "4:3", "9:16", "9:21"],
                 default="1:1", label="Aspect ratio"),
            integer("num_inference_steps", 1, 50, default=35, label="Steps", advanced=True),
            number("guidance_scale", 0, 20, default=4.5, step=0.1, label="Guidance scale (CFG)", advanced=True),
            url("image_url", "Source image", help="Optional image for image to image."),
            number("prompt_strength", 0, 1, default=0.85, step=0.01, label="Prompt strength", advanced=True),
            enum("output_format", OUTPUT_FORMATS, default="webp", label="Output format", advanced=True),
            seed(4_294_967_295),
        ],
        pricing={"unit": "image", "credits": "6.5"},
        aliases=["sd3.5-large", "stable-diffusion-3.5-large"],
        routes=[route("replicate", "stability-ai/stable-diffusion-3.5-large"),
                route("fal", "fal-ai/stable-diffusion-v35-large"), route("comfyui", "sd3.5_large.safetensors")],
    ),
    entry(
        slug="ideogram-v3", name="Ideogram 3.0", vendor="Ideogram", modality="image", sort_order=60,
        description="Best-in-class text rendering and graphic design layouts, with Turbo / Default / Quality "
        "rendering speeds.",
        capabilities=["text-to-image"],
        fields=[
            prompt(max_length=10000),
            negative_prompt(),
            enum("aspect_ratio", ["1:1", "16:9", "9:16", "4:3", "3:4", "3:2", "2:3", "16:10", "10:16", "3:1", "1:3"],
                 default="1:1", label="Aspect ratio"),
            enum("rendering_speed", ["TURBO", "DEFAULT", "QUALITY"], default="DEFAULT", label="Rendering speed"),
            enum("style_type", ["AUTO", "GENERAL", "REALISTIC", "DESIGN"], default="AUTO", label="Style"),
            enum("magic_prompt_option", ["AUTO", "ON", "OFF"], default="AUTO", label="Magic prompt", advanced=True),
            _n(8),
            seed(2_147_483_647),
        ],
        pricing={"unit": "image", "credits": "6", "count": "n",
                 "multipliers": {"rendering_speed": {"TURBO": "0.5", "QUALITY": "1.5"}}},
        aliases=["ideogram", "ideogram-3"],
        routes=[
            route("fal", "fal-ai/ideogram/v3"),
            route("replicate", "ideogram-ai/ideogram-v3-balanced", unsupported=["n"], rules=[
                {"if": {"rendering_speed": ["TURBO", "QUALITY"]},
                 "message": "This Replicate route serves the balanced (DEFAULT) speed only."}]),
        ],
    ),
    entry(
        slug="recraft-v3", name="Recraft V3", vendor="Recraft", modality="image", sort_order=61,
        description="Design-oriented model with brand styles, long text in images and true vector output.",
        capabilities=["text-to-image"],
        fields=[
            prompt(max_length=1000),
            enum("size", ["1024x1024", "1365x1024", "1024x1365", "1536x1024", "1024x1536", "1820x1024", "1024x1820",
                          "1024x2048", "2048x1024", "1434x1024", "1024x1434", "1024x1280", "1280x1024", "1024x1707",
                          "1707x1024"], default="1024x1024", label="Size"),
            enum("style", ["any", "realistic_image", "digital_illustration", "vector_illustration",
                           "realistic_image/b_and_w", "realistic_image/hdr", "realistic_image/natural_light",
                           "digital_illustration/pixel_art", "digital_illustration/hand_drawn",
                           "vector_illustration/line_art", "icon"], default="any", label="Style"),
            _n(6),
        ],
        pricing={"unit": "image", "credits": "4", "count": "n",
                 "multipliers": {"style": {"vector_illustration": "2", "vector_illustration/line_art": "2",
                                           "icon": "2"}}},
        aliases=["recraft", "recraftv3"],
        routes=[route("replicate", "recraft-ai/recraft-v3"), route("fal", "fal-ai/recraft/v3/text-to-image")],
    ),
    entry(
        slug="qwen-image", name="Qwen-Image", vendor="Alibaba Qwen", modality="image", sort_order=62,
        description="A 20B MMDiT open model with excellent Chinese and English text rendering.",
        capabilities=["text-to-image"],
        fields=[
            prompt(max_length=4000),
            negative_prompt(),
            enum("aspect_ratio", ["1:1", "16:9", "9:16", "4:3", "3:4", "3:2", "2:3"], default="16:9",
                 label="Aspect ratio"),
            _n(4),
            integer("num_inference_steps", 2, 50, default=30, label="Steps", advanced=True),
            number("guidance_scale", 0, 20, default=4, step=0.1, label="Guidance scale", advanced=True),
            seed(),
        ],
        pricing={"unit": "image", "credits": "2.5", "count": "n"},
        routes=[route("replicate", "qwen/qwen-image"), route("fal", "fal-ai/qwen-image"),
                route("comfyui", "qwen_image_fp8_e4m3fn.safetensors")],
    ),
]

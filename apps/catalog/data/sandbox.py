"""The built-in sandbox models: served locally with no network, so a fresh install works."""
from .common import enum, integer, prompt, seed

SANDBOX_NOTE = "Local sandbox model: generated on this server, no upstream provider involved."

MODELS = [
    {
        "slug": "sandbox-image",
        "name": "Sandbox Image",
        "vendor": "Atelier",
        "modality": "image",
        "is_local": True,
        "sort_order": 0,
        "description": "Abstract compositions drawn from the words of your prompt: shapes, palette and layout "
        "follow the prompt, and the same prompt, seed and size always give the same picture. " + SANDBOX_NOTE,
        "capabilities": ["text-to-image"],
        "schema": {
            "fields": [
                prompt(max_length=2000),
                enum("size", ["1024x1024", "1536x1024", "1024x1536", "768x768", "512x512"], default="1024x1024",
                     label="Size"),
                integer("n", 1, 4, default=1, label="Images"),
                seed(),
            ]
        },
        "pricing": {"unit": "image", "credits": "1", "count": "n",
                    "multipliers": {"size": {"1536x1024": "1.5", "1024x1536": "1.5", "512x512": "0.5", "768x768": "0.75"}}},
        "limits": {"deadline_seconds": 120},
        "aliases": ["sandbox"],
        "routes": [{"adapter": "sandbox", "model": "image"}],
    },
]

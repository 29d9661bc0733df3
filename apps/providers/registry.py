"""Adapter classes by name. Each adapter module registers itself with @register."""
from __future__ import annotations

import importlib

from .base import Adapter, ChannelConfig

_ADAPTERS: dict[str, type[Adapter]] = {}
ADAPTER_MODULES = ["apps.providers.adapters.sandbox"]
ADAPTER_MODULES += ["apps.providers.adapters.replicate", "apps.providers.adapters.fal",
                    "apps.providers.adapters.gemini", "apps.providers.adapters.veo",
                    "apps.providers.adapters.ark"]  # media providers (issue #5, engineer B)
ADAPTER_MODULES += ["apps.providers.adapters.openai", "apps.providers.adapters.openai_compat",
                    "apps.providers.adapters.openai_video", "apps.providers.adapters.pollinations",
                    "apps.providers.adapters.elevenlabs", "apps.providers.adapters.comfyui",
                    "apps.providers.adapters.a1111"]  # issue #5, engineer A
ADAPTER_MODULES += ["apps.providers.adapters.xai"]  # Grok Imagine video (issue #15)


def register(cls: type[Adapter]) -> type[Adapter]:
    _ADAPTERS[cls.name] = cls
    return cls


def _load():
    for module in ADAPTER_MODULES:
        importlib.import_module(module)


def adapter_names() -> list[str]:
    _load()
    return sorted(_ADAPTERS)


def get_adapter(channel: ChannelConfig) -> Adapter:
    _load()
    try:
        return _ADAPTERS[channel.adapter](channel)
    except KeyError:
        raise LookupError(f"No adapter named {channel.adapter!r}") from None

"""Any server that speaks OpenAI's wire format: Ollama, vLLM, LocalAI, LM Studio, OpenRouter...

Same requests as the openai adapter, with three differences that matter for such servers:
the base URL must be configured (there is no default host), the API key is optional (local
servers take none), and max_tokens keeps its classic name, which they all understand."""
from __future__ import annotations

from ..registry import register
from .openai import OpenAIAdapter


@register
class OpenAICompatAdapter(OpenAIAdapter):
    name = "openai_compat"
    default_base_url = ""
    requires_key = False
    max_tokens_field = "max_tokens"
    # Local image servers hand out URLs on their own (often private) address, which Atelier's
    # SSRF-safe downloader refuses; base64 arrives in the answer itself.
    dalle_response_format = "b64_json"

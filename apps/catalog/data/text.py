"""Text (chat) models.

Every text model takes either `prompt` (one user turn, with an optional `system`) or
`messages` (a full OpenAI-style chat), never both: the schema rule `one_of` enforces it. The
studio form shows the prompt textarea; API clients and agents usually send messages.
The hold is the most a request can cost (prompt estimate + max_tokens at the output price);
the capture is the upstream's reported usage."""
from .common import boolean, chat_api_fields, entry, enum, integer, number, route

LONG_TEXT = 600_000  # characters; the context window is the real limit, checked upstream


def _fields(*, max_output: int, default_output: int, context: int, vision: bool, temperature_max: float | None,
            top_p: bool = True, penalties: bool = False, reasoning: list | None = None, tools: bool = True) -> list:
    chars = min(context * 3, LONG_TEXT)
    fields = [
        {"name": "prompt", "type": "text", "label": "Prompt", "max_length": chars, "widget": "textarea",
         "example": "Write a haiku about the sea.",
         "help": "One message from you. API clients can send messages instead."},
        {"name": "system", "type": "text", "label": "System prompt", "max_length": 100_000, "widget": "textarea",
         "advanced": True, "help": "Instructions for the assistant (with prompt only; put them in messages otherwise)."},
        {"name": "messages", "type": "messages", "label": "Messages", "max_items": 500, "max_length": chars,
         "vision": vision, "tools": tools, "advanced": True, "widget": "textarea",
         "example": [{"role": "user", "content": "Write a haiku about the sea."}],
         "help": 'A JSON chat: [{"role": "user", "content": "..."}]. Use instead of prompt.'},
        integer("max_tokens", 1, max_output, default=default_output, label="Max output tokens",
                help=f"Up to {max_output:,}. The hold covers this many output tokens; you pay what is used."),
    ]
    if temperature_max is not None:
        fields.append(number("temperature", 0, temperature_max, default=1, step=0.05, label="Temperature",
                             advanced=True))
        if top_p:
            fields.append(number("top_p", 0, 1, default=1, step=0.05, label="Top p", advanced=True))
    if penalties:
        fields += [number("presence_penalty", -2, 2, default=0, step=0.1, label="Presence penalty", advanced=True),
                   number("frequency_penalty", -2, 2, default=0, step=0.1, label="Frequency penalty", advanced=True)]
    if reasoning:
        fields.append(enum("reasoning_effort", reasoning, default="medium", label="Reasoning effort",
                           help="More effort thinks longer (reasoning tokens are billed as output)."))
    fields.append({"name": "stop", "type": "string", "max_length": 200, "label": "Stop sequence", "advanced": True})
    fields.append(boolean("stream", False, label="Stream", advanced=True,
                          help="Stream tokens as they come (API); the result is stored either way."))
    return fields + chat_api_fields(tools=tools)


RULES = [
    {"one_of": ["prompt", "messages"], "message": "Write a prompt (or send messages)."},
    {"if": {"system": "*", "messages": "*"}, "forbid": True, "field": "system",
     "message": "With messages, put the system prompt in the messages as a system message."},
]


def chat(*, slug, name, vendor, description, context, max_output, price_in, price_out, routes, vision=True,
         temperature_max=2.0, top_p=True, penalties=False, reasoning=None, aliases=None, sort_order=100,
         default_output=1024, extra_caps=(), tools=True, note="", retired=None):
    capabilities = ["chat", "streaming", *(["vision"] if vision else []), *(["tools"] if tools else []), *extra_caps]
    return entry(
        slug=slug, name=name, vendor=vendor, modality="text", description=description, capabilities=capabilities,
        fields=_fields(max_output=max_output, default_output=min(default_output, max_output), context=context,
                       vision=vision, temperature_max=temperature_max, top_p=top_p, penalties=penalties,
                       reasoning=reasoning, tools=tools),
        rules=RULES,
        pricing={"unit": "1k_tokens", "input": price_in, "output": price_out, "max_output": "max_tokens",
                 "default_max_output": min(default_output, max_output)},
        routes=routes, aliases=aliases, sort_order=sort_order, note=note, retired=retired,
        limits={"context_window": context, "max_output_tokens": max_output},
    )


def compat(model: str, pollinations: str | None = None) -> list:
    """A vendor's model over any OpenAI-compatible channel (the vendor's own endpoint, OpenRouter, a
    local server; options.model_map renames it there), and pollinations under its own name."""
    routes = [route("openai_compat", model)]
    if pollinations:
        routes.append(route("pollinations", pollinations))
    return routes


UNCONFIRMED_PRICE = "List price from third-party listings; not confirmed on the vendor's own pricing page."


def openai_routes(model: str, pollinations: str | None = None) -> list:
    routes = [route("openai", model), route("openai_compat", model)]
    if pollinations:
        routes.append(route("pollinations", pollinations))
    return routes


MODELS = [
    # ---- current models (2026) -------------------------------------------------------------------
    chat(slug="gpt-5.6-sol", name="GPT-5.6 Sol", vendor="OpenAI", sort_order=5, context=1_050_000,
         max_output=128_000, price_in="0.5", price_out="3", temperature_max=None,
         reasoning=["none", "low", "medium", "high", "xhigh"], extra_caps=["reasoning"], default_output=4096,
         description="OpenAI's GPT-5.6 flagship (July 2026) for coding, long agent runs and research; 1M context.",
         aliases=["gpt-5.6", "openai-large"], routes=openai_routes("gpt-5.6-sol", "openai-large"),
         note="Model id from openai-python's ChatModel; $5 / $30 per 1M tokens as resellers list it (272k-token "
         "tier), and the reasoning levels are not confirmed on OpenAI's pricing and model pages."),
    chat(slug="gpt-5.6-terra", name="GPT-5.6 Terra", vendor="OpenAI", sort_order=6, context=1_050_000,
         max_output=128_000, price_in="0.25", price_out="1.5", temperature_max=None,
         reasoning=["none", "low", "medium", "high"], extra_caps=["reasoning"], default_output=4096,
         description="The balanced GPT-5.6: GPT-5.5-class answers at about half the price.",
         routes=openai_routes("gpt-5.6-terra"),
         note="$2.50 / $15 per 1M tokens as OpenAI's launch coverage and resellers list it; not read off OpenAI's "
         "pricing page."),
    chat(slug="gpt-5.6-luna", name="GPT-5.6 Luna", vendor="OpenAI", sort_order=7, context=1_050_000,
         max_output=128_000, price_in="0.1", price_out="0.6", temperature_max=None,
         reasoning=["none", "low", "medium", "high"], extra_caps=["reasoning"], default_output=2048,
         description="The fastest, cheapest GPT-5.6 for high-volume work.",
         aliases=["openai", "chickytutor"], routes=openai_routes("gpt-5.6-luna", "openai"),
         note="$1 input per 1M tokens as resellers list it; the $6 output price assumes the family's 6x output "
         "ratio."),
    chat(slug="gemini-3.1-pro", name="Gemini 3.1 Pro", vendor="Google", sort_order=28, context=1_048_576,
         max_output=65_536, price_in="0.2", price_out="1.2", extra_caps=["reasoning"], default_output=4096,
         description="Google's most capable Gemini: complex reasoning, multimodal understanding and agentic coding.",
         aliases=["gemini-3.1-pro-preview", "gemini-large"],
         routes=[route("gemini", "gemini-3.1-pro-preview"), route("openai_compat", "gemini-3.1-pro-preview"),
                 route("pollinations", "gemini-large")],
         note="Id from the Gemini API models page (preview); price assumed equal to Gemini 3 Pro's $2 / $12 per "
         "1M tokens up to 200k, not confirmed."),
    chat(slug="gemini-3-flash", name="Gemini 3 Flash", vendor="Google", sort_order=29, context=1_048_576,
         max_output=65_536, price_in="0.05", price_out="0.3", extra_caps=["reasoning"],
         description="Fast frontier-class Gemini at a fraction of the cost, with search grounding and tools.",
         aliases=["gemini-3-flash-preview", "gemini", "gemini-search", "nomnom"],
         routes=[route("gemini", "gemini-3-flash-preview"), route("openai_compat", "gemini-3-flash-preview"),
                 route("pollinations", "gemini")],
         note="$0.50 / $3.00 per 1M tokens as a reseller quotes Google's official price; the newer Gemini 3.5 to "
         "3.8 Flash models are not in this catalog yet."),
    chat(slug="gemini-3.1-flash-lite", name="Gemini 3.1 Flash-Lite", vendor="Google", sort_order=30,
         context=1_048_576, max_output=65_536, price_in="0.025", price_out="0.15",
         description="The cheapest, fastest Gemini 3 model for high-volume tasks.",
         aliases=["gemini-fast"],
         routes=[route("gemini", "gemini-3.1-flash-lite"), route("openai_compat", "gemini-3.1-flash-lite"),
                 route("pollinations", "gemini-fast")],
         note="GA id from the Gemini deprecations page (shutdown 2027-05-07); " + UNCONFIRMED_PRICE),
    chat(slug="deepseek-v4-flash", name="DeepSeek V4 Flash", vendor="DeepSeek", sort_order=38, context=1_048_576,
         max_output=393_216, price_in="0.028", price_out="0.112", penalties=True, extra_caps=["reasoning"],
         description="DeepSeek's fast 284B-parameter MoE (13B active) with a 1M context, thinking and non-thinking "
         "modes and image input.",
         aliases=["deepseek-flash", "deepseek"],
         routes=[route("openai_compat", "deepseek-flash"), route("pollinations", "deepseek")],
         note="DeepSeek's pricing page: deepseek-flash (the old name deepseek-v4-flash is served by V4.1 Flash at "
         "the same price); peak price CNY 2 / 8 per 1M tokens, converted at about 7.1 CNY per USD."),
    chat(slug="deepseek-v4-pro", name="DeepSeek V4 Pro", vendor="DeepSeek", sort_order=39, context=1_048_576,
         max_output=393_216, price_in="0.127", price_out="0.38", vision=False, penalties=True,
         extra_caps=["reasoning"], default_output=4096,
         description="DeepSeek's V4 flagship for reasoning and code, 1M context.",
         routes=[route("openai_compat", "deepseek-v4-pro")],
         note="DeepSeek's pricing page: peak price CNY 9 / 27 per 1M tokens, converted at about 7.1 CNY per USD."),
    chat(slug="grok-4.3", name="Grok 4.3", vendor="xAI", sort_order=45, context=1_000_000, max_output=64_000,
         price_in="0.125", price_out="0.25", reasoning=["none", "low", "medium", "high"], extra_caps=["reasoning"],
         description="xAI's flagship model: tool calling, structured outputs and configurable reasoning, 1M context.",
         aliases=["grok"], routes=compat("grok-4.3", "grok"),
         note="Price and context from xAI's pricing page ($1.25 / $2.50 per 1M tokens); the output limit is not "
         "published there."),
    chat(slug="kimi-k2.5", name="Kimi K2.5", vendor="Moonshot AI", sort_order=46, context=262_144, max_output=32_768,
         price_in="0.06", price_out="0.3", extra_caps=["reasoning"],
         description="Moonshot's native multimodal model for chat and agent tasks, thinking and non-thinking modes.",
         aliases=["kimi"], routes=compat("kimi-k2.5", "kimi"),
         note="Price and context from Moonshot's pricing page ($0.60 / $3.00 per 1M tokens); output limit assumed."),
    chat(slug="glm-4.6", name="GLM-4.6", vendor="Zhipu AI", sort_order=47, context=200_000, max_output=128_000,
         price_in="0.06", price_out="0.22", vision=False,
         description="Zhipu's open MoE model for coding and agents, 200k context.",
         aliases=["glm"], routes=compat("glm-4.6", "glm"), note=UNCONFIRMED_PRICE),
    chat(slug="minimax-m2", name="MiniMax M2", vendor="MiniMax", sort_order=48, context=204_800, max_output=128_000,
         price_in="0.03", price_out="0.12", vision=False, extra_caps=["reasoning"],
         description="MiniMax's compact MoE model tuned for coding and agent workflows.",
         aliases=["minimax"], routes=compat("MiniMax-M2", "minimax"), note=UNCONFIRMED_PRICE),
    chat(slug="mistral-small", name="Mistral Small 3.2", vendor="Mistral AI", sort_order=49, context=131_072,
         max_output=32_768, price_in="0.01", price_out="0.03",
         description="Mistral's small open model (24B): fast multilingual chat with image input.",
         aliases=["mistral", "mistral-small-latest"], routes=compat("mistral-small-latest", "mistral"),
         note=UNCONFIRMED_PRICE),
    chat(slug="sonar", name="Perplexity Sonar", vendor="Perplexity", sort_order=63, context=127_072, max_output=8_192,
         price_in="0.1", price_out="0.1", vision=False,
         description="Perplexity's fast answer model grounded in live web search, with citations.",
         aliases=["perplexity-fast"], routes=compat("sonar", "perplexity-fast"),
         note=UNCONFIRMED_PRICE + " Perplexity also bills a per-request search fee this price leaves out."),
    chat(slug="sonar-reasoning-pro", name="Perplexity Sonar Reasoning Pro", vendor="Perplexity", sort_order=64,
         context=127_072, max_output=8_192, price_in="0.2", price_out="0.8", vision=False, temperature_max=None,
         extra_caps=["reasoning"], default_output=4096,
         description="Perplexity's search-grounded reasoning model for multi-step research questions.",
         aliases=["perplexity-reasoning"], routes=compat("sonar-reasoning-pro", "perplexity-reasoning"),
         note=UNCONFIRMED_PRICE + " Perplexity also bills a per-request search fee this price leaves out."),
    chat(slug="nova-micro", name="Amazon Nova Micro", vendor="Amazon", sort_order=65, context=128_000,
         max_output=10_000, price_in="0.0035", price_out="0.014", vision=False,
         description="Amazon's fastest, cheapest text model for simple, high-volume tasks.",
         aliases=["nova-fast"], routes=compat("amazon.nova-micro-v1:0", "nova-fast"), note=UNCONFIRMED_PRICE),
    chat(slug="gpt-5", name="GPT-5", vendor="OpenAI", sort_order=10, context=400_000, max_output=128_000,
         price_in="0.125", price_out="1", temperature_max=None, reasoning=["minimal", "low", "medium", "high"],
         extra_caps=["reasoning"], default_output=4096,
         description="OpenAI's flagship reasoning model for coding and agentic tasks; 400k context.",
         note="OpenAI shuts gpt-5 down on 2026-12-11 (deprecations page); the replacement is GPT-5.6 Sol.",
         routes=openai_routes("gpt-5")),
    chat(slug="gpt-5-mini", name="GPT-5 mini", vendor="OpenAI", sort_order=11, context=400_000, max_output=128_000,
         price_in="0.025", price_out="0.2", temperature_max=None, reasoning=["minimal", "low", "medium", "high"],
         extra_caps=["reasoning"], default_output=4096,
         description="A faster, cheaper GPT-5 for well-defined tasks.",
         note="OpenAI shuts gpt-5-mini down on 2026-12-11 (deprecations page); the replacement is GPT-5.6 Terra.",
         routes=openai_routes("gpt-5-mini")),
    chat(slug="gpt-4.1", name="GPT-4.1", vendor="OpenAI", sort_order=12, context=1_047_576, max_output=32_768,
         price_in="0.2", price_out="0.8", penalties=True,
         description="Strong instruction following and long-context (1M tokens) non-reasoning model.",
         routes=openai_routes("gpt-4.1")),
    chat(slug="gpt-4.1-mini", name="GPT-4.1 mini", vendor="OpenAI", sort_order=13, context=1_047_576,
         max_output=32_768, price_in="0.04", price_out="0.16", penalties=True,
         description="Small, fast GPT-4.1 with the same 1M-token context.",
         aliases=["openai-fast"], note="Shuts down 2027-01-14 (OpenAI deprecations page).",
         routes=openai_routes("gpt-4.1-mini", "openai-fast")),
    chat(slug="gpt-4o", name="GPT-4o", vendor="OpenAI", sort_order=14, context=128_000, max_output=16_384,
         price_in="0.25", price_out="1", penalties=True,
         description="OpenAI's versatile multimodal chat model.",
         routes=openai_routes("gpt-4o")),
    chat(slug="gpt-4o-mini", name="GPT-4o mini", vendor="OpenAI", sort_order=15, context=128_000, max_output=16_384,
         price_in="0.015", price_out="0.06", penalties=True,
         description="Cheap, fast small model for everyday tasks.",
         routes=openai_routes("gpt-4o-mini")),
    chat(slug="o4-mini", name="o4-mini", vendor="OpenAI", sort_order=16, context=200_000, max_output=100_000,
         price_in="0.11", price_out="0.44", temperature_max=None, reasoning=["low", "medium", "high"],
         extra_caps=["reasoning"], default_output=4096,
         description="Fast, cost-efficient reasoning model, strong at math, code and visual tasks.",
         retired="2026-10-23", note="Shut down 2026-10-23 (OpenAI deprecations page); kept for history.",
         routes=openai_routes("o4-mini")),
    chat(slug="claude-sonnet-4.5", name="Claude Sonnet 4.5", vendor="Anthropic", sort_order=20, context=200_000,
         max_output=64_000, price_in="0.3", price_out="1.5", temperature_max=1.0,
         description="Anthropic's best model for agents and coding, with extended thinking.",
         aliases=["claude-sonnet-4-5", "claude", "midijourney"],
         routes=[route("openai_compat", "claude-sonnet-4-5"), route("pollinations", "claude")]),
    chat(slug="claude-haiku-4.5", name="Claude Haiku 4.5", vendor="Anthropic", sort_order=21, context=200_000,
         max_output=64_000, price_in="0.1", price_out="0.5", temperature_max=1.0,
         description="Anthropic's fastest model with near-frontier intelligence.",
         aliases=["claude-haiku-4-5", "claude-fast"],
         routes=[route("openai_compat", "claude-haiku-4-5"), route("pollinations", "claude-fast")]),
    chat(slug="claude-opus-4.1", name="Claude Opus 4.1", vendor="Anthropic", sort_order=22, context=200_000,
         max_output=32_000, price_in="1.5", price_out="7.5", temperature_max=1.0,
         description="Anthropic's most capable model for complex, long-running work.",
         aliases=["claude-opus-4-1", "claude-large"],
         routes=[route("openai_compat", "claude-opus-4-1"), route("pollinations", "claude-large")]),
    chat(slug="gemini-2.5-pro", name="Gemini 2.5 Pro", vendor="Google", sort_order=30, context=1_048_576,
         max_output=65_536, price_in="0.125", price_out="1", extra_caps=["reasoning"], default_output=4096,
         description="Google's thinking model for complex reasoning, code and long documents (1M context).",
         retired="2026-06-17", note="gemini-2.5-pro shut down on 2026-06-17 (Gemini API deprecations page).",
         routes=[route("gemini", "gemini-2.5-pro"), route("openai_compat", "gemini-2.5-pro")]),
    chat(slug="gemini-2.5-flash", name="Gemini 2.5 Flash", vendor="Google", sort_order=31, context=1_048_576,
         max_output=65_536, price_in="0.03", price_out="0.25", extra_caps=["reasoning"],
         description="Best price-performance Gemini with adaptive thinking.",
         retired="2026-06-17", note="gemini-2.5-flash shut down on 2026-06-17 (Gemini API deprecations page).",
         routes=[route("gemini", "gemini-2.5-flash"), route("openai_compat", "gemini-2.5-flash")]),
    chat(slug="gemini-2.5-flash-lite", name="Gemini 2.5 Flash-Lite", vendor="Google", sort_order=32,
         context=1_048_576, max_output=65_536, price_in="0.01", price_out="0.04",
         description="The fastest, cheapest Gemini for high-volume tasks.",
         retired="2026-07-22", note="gemini-2.5-flash-lite shut down on 2026-07-22 (Gemini API deprecations page).",
         routes=[route("gemini", "gemini-2.5-flash-lite"), route("openai_compat", "gemini-2.5-flash-lite")]),
    chat(slug="deepseek-v3", name="DeepSeek V3.2 (chat)", vendor="DeepSeek", sort_order=40, context=128_000,
         max_output=8_192, price_in="0.028", price_out="0.042", vision=False, penalties=True,
         description="DeepSeek's open-weights MoE chat model in non-thinking mode.",
         aliases=["deepseek-chat"],
         note="DeepSeek's API now serves V4 under deepseek-flash and deepseek-v4-pro; whether deepseek-chat still "
         "answers with V3.2 is not confirmed.",
         routes=[route("openai_compat", "deepseek-chat"), route("replicate", "deepseek-ai/deepseek-v3")]),
    chat(slug="deepseek-r1", name="DeepSeek V3.2 (reasoner)", vendor="DeepSeek", sort_order=41, context=128_000,
         max_output=64_000, price_in="0.028", price_out="0.042", vision=False, temperature_max=None,
         extra_caps=["reasoning"], default_output=4096,
         description="DeepSeek in thinking mode: shows its chain of thought before answering.",
         aliases=["deepseek-reasoner"],
         routes=[route("openai_compat", "deepseek-reasoner"), route("replicate", "deepseek-ai/deepseek-r1")]),
    chat(slug="qwen3-235b", name="Qwen3 235B A22B", vendor="Alibaba Qwen", sort_order=50, context=262_144,
         max_output=32_768, price_in="0.02", price_out="0.06", vision=False, penalties=True,
         description="Qwen's flagship open MoE model (22B active), multilingual, strong at code and tools.",
         aliases=["qwen3-235b-a22b", "qwen-coder"],
         routes=[route("openai_compat", "qwen3-235b-a22b-instruct-2507"), route("pollinations", "qwen-coder")]),
    chat(slug="qwen2.5-vl-72b", name="Qwen2.5-VL 72B", vendor="Alibaba Qwen", sort_order=51, context=131_072,
         max_output=8_192, price_in="0.08", price_out="0.08",
         description="Open vision-language model: documents, charts and screenshots.",
         aliases=["qwen-vl"],
         routes=[route("openai_compat", "Qwen/Qwen2.5-VL-72B-Instruct")]),
    chat(slug="llama-3.3-70b", name="Llama 3.3 70B Instruct", vendor="Meta", sort_order=60, context=131_072,
         max_output=8_192, price_in="0.06", price_out="0.06", vision=False, penalties=True,
         description="Meta's open 70B model with 405B-class quality on many tasks; a common local choice.",
         aliases=["llama3.3", "llama-3.3"],
         routes=[route("openai_compat", "meta-llama/Llama-3.3-70B-Instruct")]),
    chat(slug="llama-4-maverick", name="Llama 4 Maverick", vendor="Meta", sort_order=61, context=1_048_576,
         max_output=8_192, price_in="0.027", price_out="0.085",
         description="Meta's natively multimodal MoE model (17B active, 128 experts).",
         routes=[route("openai_compat", "meta-llama/Llama-4-Maverick-17B-128E-Instruct"),
                 route("replicate", "meta/llama-4-maverick-instruct")]),
    chat(slug="llama-3.1-8b", name="Llama 3.1 8B Instruct", vendor="Meta", sort_order=62, context=131_072,
         max_output=8_192, price_in="0.002", price_out="0.005", vision=False,
         description="Small open model that runs on a laptop (Ollama, llama.cpp, vLLM).",
         aliases=["llama3.1:8b", "llama3.1"],
         routes=[route("openai_compat", "llama3.1:8b")]),
]

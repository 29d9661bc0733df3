"""The agent tools of reference 001, over the same services as the HTTP API.

Each tool is a plain function of (principal, arguments) -> dict that raises domain errors;
apps/agents/server.py turns them into MCP tools (input schemas, results, errors an agent can
act on). Nothing here knows about MCP, so the tools are tested and reused without a transport.

Status words are reference 001's: queued, processing, completed, failed (a canceled job is
failed with error code `canceled`)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from apps.api.auth import take_rate_limits
from apps.api.catalog import enabled_models, resolve_model
from apps.api.presenters import credits, generation_json, status_word
from apps.api.services import Principal
from apps.catalog.cache import TTLCache
from apps.catalog.models import AIModel, Modality
from apps.catalog.pricing import price_summary
from apps.core.errors import ApplicationError, Kind
from apps.generations.ads import MAX_VARIANTS, ads_create
from apps.generations.models import Generation
from apps.generations.music import MAX_LYRICS, MAX_PROMPT, MAX_STYLE, MAX_TITLE, music_submit
from apps.generations.selectors import generation_for_workspace
from apps.generations.services import generation_cancel, generation_quote, generation_submit
from apps.providers.router import served_by_sandbox
from apps.wallet.selectors import wallet_summary

from .schemas import MediaMappingError, map_source_media, media_inputs, parameters_schema, prompt_field

MEDIA_MODALITIES = ("image", "video", "speech")
STATUS_DIALECT = "tasks"  # queued, processing, completed, failed
POLL_SECONDS = 3
MAX_IDEMPOTENCY_KEY = 200


class ToolError(ApplicationError):
    """A refusal raised by a tool itself (the services raise their own ApplicationErrors)."""


def _invalid(message: str, param: str) -> ToolError:
    return ToolError(message, code="invalid_request", kind=Kind.INVALID, fields={param: [message]})


# ---- arguments --------------------------------------------------------------------------------
class Args(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ModelsArgs(Args):
    modality: Literal["image", "video", "music", "speech", "text"] | None = Field(
        None, description="Only models of this modality.")
    model: str | None = Field(None, description="One model id (or alias): its full parameter schema.",
                              max_length=200)
    include_parameters: bool = Field(False, description="Add every model's parameter schema (long).")


class NoArgs(Args):
    pass


class GenerationRef(Args):
    generation_id: str = Field(description="The id generate_media, generate_music or create_ad_copy returned.",
                               min_length=1, max_length=64)


class MediaArgs(Args):
    model: str = Field(description="A model id from get_models (image, video or speech).", min_length=1,
                       max_length=200)
    prompt: str = Field(description="What to make (the text to speak, for speech models).", min_length=1,
                        max_length=20_000)
    options: dict[str, Any] = Field(default_factory=dict,
                                    description="The model's other parameters (see get_models or this schema).")
    source_media_urls: list[str] = Field(
        default_factory=list, max_length=32,
        description="Input media (public URLs or data: URIs), put into the model's media parameters by kind and "
                    "order: each URL goes to the first parameter that takes its kind (image, video or audio, told "
                    "by its extension or data: type) and has room. Only for models that take input media.")
    idempotency_key: str | None = Field(None, max_length=MAX_IDEMPOTENCY_KEY,
                                        description="Retry safely: the same key and arguments return the first job.")


class MusicArgs(Args):
    prompt: str = Field(description="What the song is about, or how it sounds.", min_length=1, max_length=MAX_PROMPT)
    style: str = Field("", max_length=MAX_STYLE, description="Genre and mood, e.g. 'lofi, melancholic piano'.")
    lyrics: str = Field("", max_length=MAX_LYRICS,
                        description="The words to sing ([verse], [chorus] tags); empty: the model writes them.")
    instrumental: bool = Field(False, description="No vocals (leave lyrics empty).")
    title: str = Field("", max_length=MAX_TITLE, description="Empty: a title made from the prompt.")
    duration: int | None = Field(None, ge=5, le=600, description="Seconds, where the model takes a length.")
    model: str | None = Field(None, max_length=200, description="A music model id (default: one that takes every "
                                                                "option); see get_models(modality='music').")
    idempotency_key: str | None = Field(None, max_length=MAX_IDEMPOTENCY_KEY,
                                        description="Retry safely: the same key and arguments return the first job.")


class AdArgs(Args):
    reference_image_url: str = Field(description="An ad whose layout, palette and style to follow (public URL).",
                                     min_length=1, max_length=4096)
    product_image_url: str | None = Field(None, max_length=4096,
                                          description="The product's picture (public URL); or give product_text.")
    product_text: str | None = Field(None, max_length=300, description="The product in words, when there is "
                                                                       "no picture of it.")
    variants: int = Field(3, ge=1, le=MAX_VARIANTS, description="How many different ads (one generation each).")
    aspect_ratio: str = Field("1:1", max_length=10, description="e.g. 1:1, 4:5, 9:16, 16:9.")
    language: str = Field("English", max_length=40, description="Language of the copy.")
    tone: str = Field("confident", max_length=60, description="e.g. playful, premium, urgent.")
    idempotency_key: str | None = Field(None, max_length=MAX_IDEMPOTENCY_KEY,
                                        description="Retry safely: the same key and arguments return the same ads.")


class QuoteArgs(Args):
    model: str = Field(description="A model id from get_models.", min_length=1, max_length=200)
    prompt: str | None = Field(None, max_length=20_000, description="The prompt, as for generate_media.")
    options: dict[str, Any] = Field(default_factory=dict, description="The model's other parameters.")
    source_media_urls: list[str] = Field(default_factory=list, max_length=32,
                                         description="As for generate_media.")


# ---- helpers ----------------------------------------------------------------------------------
def offered_models(modalities: list[str] | None = None) -> list[AIModel]:
    """The models an agent can start jobs on: enabled, and not retired by their provider."""
    return enabled_models(modalities)


def _require(principal: Principal, permission: str) -> None:
    if permission not in principal.permissions:
        raise ToolError(f"This API key lacks the {permission} permission.", code="permission_denied",
                        kind=Kind.FORBIDDEN)


def _as_request(principal: Principal, *, poll: bool = False) -> SimpleNamespace:
    """What the API's key checks read from a request, for a tool call: the principal, and
    whether it is a status read (the plan's poll window) or a request (the key's window)."""
    return SimpleNamespace(auth=principal, method="GET" if poll else "POST", path="/mcp", META={})


def take_limits(principal: Principal, tool: Tool) -> None:
    """The same sliding-minute windows as the HTTP API, per tool call (429 rate_limit_exceeded
    with the wait). Status tools count as status reads, every other tool as a request."""
    take_rate_limits(_as_request(principal, poll=tool.poll), principal)


def _model(principal: Principal, model_id: str, modalities: tuple[str, ...]) -> AIModel:
    # The API's resolver: unknown ids, the key's allowlist and the plan's per-model window.
    model = resolve_model(model_id.strip(), _as_request(principal))
    if model.modality not in modalities:
        raise ToolError(f"{model.slug} is a {model.modality} model; this tool takes {', '.join(modalities)} models.",
                        code="invalid_model", kind=Kind.INVALID, fields={"model": ["Wrong modality."]})
    return model


def _params(model: AIModel, prompt: str | None, options: dict, urls: list[str]) -> dict:
    """The catalog params of a tool call: the prompt into the model's prompt field, the
    source media into its media fields (schemas.map_source_media)."""
    params = dict(options)
    if prompt is not None:
        name = prompt_field(model)
        if name is None:
            raise _invalid(f"{model.slug} takes no prompt.", "prompt")
        if name in params:
            raise _invalid(f"Give the prompt once: as prompt, not also as options.{name}.", f"options.{name}")
        params[name] = prompt
    try:
        return map_source_media(model, urls, params)
    except MediaMappingError as exc:
        raise _invalid(str(exc), "source_media_urls") from None


def _param_names(model: AIModel, options: dict, urls: list[str]) -> Callable[[str], str]:
    """How a catalog parameter is named in the tool's arguments (for error fields)."""
    prompt = prompt_field(model)
    media = {item.name for item in media_inputs(model)} - set(options)

    def name(param: str) -> str:
        if param == prompt and param not in options:
            return "prompt"
        if param in media and urls:
            return "source_media_urls"
        return f"options.{param}" if param != "model" else "model"
    return name


def _renamed(exc: ApplicationError, rename: Callable[[str], str]) -> ApplicationError:
    if exc.fields:
        exc.fields = {rename(name): messages for name, messages in exc.fields.items()}
    return exc


def _price(model: AIModel) -> dict:
    summary = price_summary(model.effective_pricing, model.schema)
    return {"currency": "credits", "from": credits(summary["from"]), "unit": summary["unit"],
            "rates": {name: credits(value) for name, value in summary["rates"].items()}}


def _own(principal: Principal, generation_id: str) -> Generation:
    generation = generation_for_workspace(workspace_id=principal.workspace.pk, generation_id=generation_id.strip())
    if generation is None:
        raise ToolError("No such generation in this workspace.", code="not_found", kind=Kind.NOT_FOUND)
    return generation


def _idempotency(key: str | None) -> str | None:
    # Namespaced like the API's keys, so an agent's key never replays a web or API submission.
    return f"agent:{key.strip()}" if key and key.strip() else None


def submitted(generation: Generation, model: AIModel) -> dict:
    return {"generation_id": str(generation.pk), "status": status_word(generation, STATUS_DIALECT),
            "model": model.slug, "price": credits(generation.price), "currency": "credits",
            "served_by_sandbox": served_by_sandbox(model=model),
            "next": f"Poll get_generation_status every {POLL_SECONDS} s until completed or failed."}


def generation_status(generation: Generation) -> dict:
    body = generation_json(generation)
    status = status_word(generation, STATUS_DIALECT)
    result = {
        "generation_id": body["id"], "status": status, "progress": body["progress"], "model": body["model"],
        "outputs": [{key: output[key] for key in ("url", "thumbnail_url", "optimized_url", "kind", "mime",
                                                 "width", "height", "duration")} for output in body["outputs"]],
        "price": body["price"], "charged": body["charged"], "currency": "credits", "error": body["error"],
        "created_at": body["created_at"], "finished_at": body["finished_at"],
    }
    if body["text"]:
        result["text"] = body["text"]
    if "songs" in body:
        result["songs"] = body["songs"]
    if generation.is_pending:
        result["poll_after_seconds"] = POLL_SECONDS
    return result


# ---- the tools --------------------------------------------------------------------------------
def get_models(principal: Principal, args: ModelsArgs) -> dict:
    if args.model:
        models = [_model(principal, args.model, tuple(Modality.values))]
    else:
        models = offered_models([args.modality] if args.modality else None)
    models = [model for model in models if principal.may_use(model.slug)]
    items = []
    for model in models:
        inputs = media_inputs(model)
        item = {
            "id": model.slug, "name": model.name, "vendor": model.vendor, "modality": model.modality,
            "description": model.description, "capabilities": model.capabilities, "price": _price(model),
            "needs_input_media": any(item.required for item in inputs),
            "input_media": [item.as_json() for item in inputs],
            "parameters": sorted(spec["name"] for spec in model.schema.get("fields", [])),
            "served_by_sandbox": served_by_sandbox(model=model),
        }
        if args.model or args.include_parameters:
            item["parameters"] = parameters_schema(model)
        items.append(item)
    return {"models": items, "count": len(items)}


def get_balance(principal: Principal, args: NoArgs) -> dict:
    _require(principal, "account:balance")
    summary = wallet_summary(workspace=principal.workspace)
    if summary is None:
        raise ToolError("This workspace has no wallet.", code="not_found", kind=Kind.NOT_FOUND)
    return {"currency": "credits", "balance": credits(summary.balance), "held": credits(summary.held),
            "available": credits(summary.available),
            "workspace": {"id": principal.workspace.pk, "name": principal.workspace.name}}


def _submit(principal: Principal, model: AIModel, params: dict, rename, key: str | None) -> Generation:
    try:
        generation, _ = generation_submit(user=principal.user, workspace=principal.workspace, model=model,
                                          raw_params=params, source="agent", idempotency_key=_idempotency(key),
                                          api_key_id=principal.key_id, budget_id=principal.budget_id)
    except ApplicationError as exc:
        if exc.code in ("insufficient_credits", "member_cap_exceeded"):
            summary = wallet_summary(workspace=principal.workspace)
            price = generation_quote(model=model, raw_params=params).price
            exc.message = (f"{exc.message} This costs {credits(price)} credits; "
                           f"{credits(summary.available if summary else 0)} are available.")
        raise _renamed(exc, rename) from None
    return generation


def generate_media(principal: Principal, args: MediaArgs) -> dict:
    _require(principal, "generate")
    model = _model(principal, args.model, MEDIA_MODALITIES)
    params = _params(model, args.prompt, args.options, args.source_media_urls)
    rename = _param_names(model, args.options, args.source_media_urls)
    generation = _submit(principal, model, params, rename, args.idempotency_key)
    return submitted(generation, model)


def get_generation_status(principal: Principal, args: GenerationRef) -> dict:
    return generation_status(_own(principal, args.generation_id))


def quote(principal: Principal, args: QuoteArgs) -> dict:
    model = _model(principal, args.model, tuple(Modality.values))
    params = _params(model, args.prompt, args.options, args.source_media_urls)
    from apps.catalog.schema import ValidationFailed

    try:
        quoted = generation_quote(model=model, raw_params=params)
    except ValidationFailed as failure:
        rename = _param_names(model, args.options, args.source_media_urls)
        raise _renamed(ToolError("Some parameters are not valid.", code="invalid_request", kind=Kind.INVALID,
                                 fields=failure.errors), rename) from None
    summary = wallet_summary(workspace=principal.workspace)
    available = summary.available if summary else 0
    return {"model": model.slug, "price": credits(quoted.price), "currency": "credits",
            "available": credits(available), "affordable": available >= quoted.price, "params": quoted.params}


def cancel_generation(principal: Principal, args: GenerationRef) -> dict:
    _require(principal, "generate")
    generation = _own(principal, args.generation_id)
    if not generation_cancel(generation=generation):
        raise ToolError("This generation has already finished.", code="generation_finished", kind=Kind.CONFLICT)
    return generation_status(_own(principal, args.generation_id))


def generate_music(principal: Principal, args: MusicArgs) -> dict:
    _require(principal, "generate")
    model = _model(principal, args.model, ("music",)) if args.model else None
    try:
        submission = music_submit(user=principal.user, workspace=principal.workspace, prompt=args.prompt,
                                  style=args.style, lyrics=args.lyrics, instrumental=args.instrumental,
                                  title=args.title, duration=args.duration, model=model, source="agent",
                                  idempotency_key=_idempotency(args.idempotency_key), api_key_id=principal.key_id,
                                  budget_id=principal.budget_id)
    except ApplicationError as exc:
        raise _renamed(exc, lambda name: name if name in MusicArgs.model_fields else f"options.{name}") from None
    generation = submission.generation
    result = submitted(generation, generation.model)
    result["next"] = f"Poll get_music_status every {POLL_SECONDS} s until completed or failed."
    if submission.ignored:
        result["ignored"] = submission.ignored  # options this model does not take
    return result


def get_music_status(principal: Principal, args: GenerationRef) -> dict:
    generation = _own(principal, args.generation_id)
    if generation.model.modality != "music":
        raise _invalid("This is not a music generation; use get_generation_status.", "generation_id")
    status = generation_status(generation)
    status.setdefault("songs", [])
    return status


def create_ad_copy(principal: Principal, args: AdArgs) -> dict:
    _require(principal, "generate")
    campaign = ads_create(user=principal.user, workspace=principal.workspace,
                          reference_image_url=args.reference_image_url, product_image_url=args.product_image_url,
                          product_text=args.product_text, variants=args.variants, aspect_ratio=args.aspect_ratio,
                          language=args.language, tone=args.tone, source="agent",
                          idempotency_key=_idempotency(args.idempotency_key), api_key_id=principal.key_id,
                          budget_id=principal.budget_id)
    return {
        "generation_ids": campaign.generation_ids,
        "variants": [{"generation_id": str(variant.generation.pk), "angle": variant.angle,
                      "headline": variant.copy.headline, "body": variant.copy.body,
                      "call_to_action": variant.copy.call_to_action, "price": credits(variant.generation.price)}
                     for variant in campaign.variants],
        "image_model": campaign.image_model.slug, "copy_model": campaign.copy_model.slug, "currency": "credits",
        "next": f"Poll get_generation_status for each generation id every {POLL_SECONDS} s until completed.",
    }


# ---- the registry -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Tool:
    name: str
    title: str
    description: str
    args: type[Args]
    run: Callable[[Principal, Any], dict]
    read_only: bool = False
    poll: bool = False  # a status read: the plan's poll window, not the request window
    # Adds the catalog's parts (model ids, each model's options) to the arguments' schema.
    catalog_schema: Callable[[dict], dict] | None = None
    extra: dict = field(default_factory=dict)


def _media_models() -> list[AIModel]:
    return offered_models(list(MEDIA_MODALITIES))


def _music_models() -> list[AIModel]:
    return offered_models(["music"])


def with_music_models(schema: dict) -> dict:
    schema["properties"]["model"] = {"anyOf": [{"enum": [model.slug for model in _music_models()]}, {"type": "null"}],
                                     "default": None, "description": schema["properties"]["model"]["description"]}
    return schema


def with_model_options(schema: dict, models: list[AIModel], *, options: str = "options") -> dict:
    """`model` limited to the catalog's ids, and `options` checked per model (if/then on the id),
    so an agent sees each model's parameters, ranges and choices in the tool's own schema."""
    schema["properties"]["model"]["enum"] = [model.slug for model in models]
    rules = []
    for model in models:
        # Without help texts: forty models' worth would crowd an agent's context (get_models has them).
        per_model = parameters_schema(model, exclude=tuple(name for name in (prompt_field(model),) if name),
                                      describe=False)
        # Media parameters may come from source_media_urls instead, so none is required in options.
        media = {item.name for item in media_inputs(model)}
        required = [name for name in per_model.pop("required", []) if name not in media]
        if required:
            per_model["required"] = required
        rules.append({"if": {"properties": {"model": {"const": model.slug}}, "required": ["model"]},
                      "then": {"properties": {options: per_model}}})
    schema["allOf"] = rules
    return schema


TOOLS: dict[str, Tool] = {tool.name: tool for tool in (
    Tool("get_models", "List models",
         "The models you can use, with prices (credits), parameters and which input media each takes "
         "(needs_input_media: the model only works with source_media_urls). Filter by modality (image, video, "
         "music, speech, text) or ask for one model to get its full parameter schema.",
         ModelsArgs, get_models, read_only=True),
    Tool("get_balance", "Credit balance",
         "The workspace's credits: balance, held by running jobs, and available to spend.",
         NoArgs, get_balance, read_only=True),
    Tool("generate_media", "Generate an image, video or speech",
         "Start a generation and get its generation_id; poll get_generation_status every 2-5 s until status is "
         "completed or failed. Put the model's parameters in options; send source_media_urls only to models that "
         "take input media (see get_models). Costs credits (see quote).",
         MediaArgs, generate_media, catalog_schema=lambda schema: with_model_options(schema, _media_models())),
    Tool("get_generation_status", "Generation status",
         "Status (queued, processing, completed, failed), progress and, when completed, outputs: each with url "
         "(full quality), thumbnail_url and optimized_url (previews). Music jobs also list songs.",
         GenerationRef, get_generation_status, read_only=True, poll=True),
    Tool("generate_music", "Generate a song",
         "Start a song and get its generation_id; poll get_music_status until completed or failed. Give lyrics, or "
         "leave them empty for the model to write them, or set instrumental.",
         MusicArgs, generate_music, catalog_schema=with_music_models),
    Tool("get_music_status", "Song status",
         "Status (queued, processing, completed, failed) of a generate_music job and, when completed, songs: each "
         "with audio_url, title, lyrics and image_url (cover art).",
         GenerationRef, get_music_status, read_only=True, poll=True),
    Tool("create_ad_copy", "Create ad variants",
         "From a reference ad image and your product (an image URL or text), write ad copy and compose one ad image "
         "per variant. Returns generation_ids, one per variant: poll each with get_generation_status; the outputs "
         "are the finished ad images.",
         AdArgs, create_ad_copy),
    Tool("quote", "Price a request",
         "The exact credits a generation would cost, whether the balance covers it, and the cleaned parameters. "
         "Nothing is charged.",
         QuoteArgs, quote, read_only=True),
    Tool("cancel_generation", "Cancel a generation",
         "Cancel a queued or running generation; its held credits go back to the balance.",
         GenerationRef, cancel_generation),
)}

_schemas: TTLCache[dict] = TTLCache()


def input_schema(tool: Tool) -> dict:
    """The tool's arguments as JSON Schema, with the catalog's parts (cached like the catalog)."""
    def build() -> dict:
        schema = tool.args.model_json_schema()
        schema.pop("title", None)
        for prop in schema.get("properties", {}).values():
            prop.pop("title", None)
        return tool.catalog_schema(schema) if tool.catalog_schema else schema
    return _schemas.get(tool.name, build)

"""Ad variants the way reference 001's create_ad_copy tool describes them.

The caller gives a reference ad (an image URL), the product (an image URL, or its name as text)
and options (number of variants, aspect ratio, language, tone). Each variant is a two-step
pipeline on ordinary catalog models, paid like any other request:

1. a text model writes the copy (headline, body, call to action) for one angle, through a forced
   tool call so the answer is structured on every model that calls tools; it sees the reference
   and the product images when it has vision. The turn runs in the caller's process like any
   chat (apps.generations.chat): a few seconds, held and captured per token;
2. an image model that takes several input images composes the product into the reference's
   layout with the headline set in: one generation per variant, whose id the caller polls.

A product given as text is rendered as a label image first, so the image model always gets
[reference, product]. On the sandbox the composition is real (apps/providers/sandbox/compose.py):
the product placed into the reference's layout and palette, the headline drawn in.

Everything that can be refused (options, models, image parameters, the price) is checked before
the first credit is held. With an Idempotency-Key the same request answers the same variants
without new charges; a different request under the same key is refused."""
from __future__ import annotations

import base64
import io
import json
import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.db import IntegrityError
from PIL import Image, ImageDraw, ImageFont

from apps.catalog.models import AIModel
from apps.catalog.schema import ValidationFailed
from apps.catalog.services import model_find
from apps.core.errors import Kind
from apps.wallet.models import Wallet

from .chat import chat_complete, chat_open
from .errors import SubmitError
from .models import Generation
from .services import generation_quote, generation_submit

log = logging.getLogger(__name__)

DEFAULT_COPY_MODEL = "gpt-5.6-luna"
DEFAULT_IMAGE_MODEL = "nano-banana-pro"
MAX_VARIANTS = 6
COPY_MAX_TOKENS = 600
IMAGE_LIST_FIELDS = ("image_urls", "images", "input_images", "reference_images")
# One angle per variant: what the copy leads with. The word opens the copy request, so even a
# model that only echoes its input (the sandbox) gives each variant its own headline.
ANGLES = [
    ("DISCOVER", "lead with what the product does for the buyer"),
    ("IMAGINE", "lead with the feeling of owning it"),
    ("UPGRADE", "lead with what it replaces and why now"),
    ("MEET", "introduce it like a person: its character"),
    ("UNLOCK", "lead with the one detail nobody else has"),
    ("ELEVATE", "lead with quality and craft"),
]
COPY_TOOL = {
    "type": "function",
    "function": {
        "name": "write_ad_copy",
        "description": "Return the copy for one ad variant.",
        "parameters": {
            "type": "object",
            "properties": {
                "headline": {"type": "string", "description": "At most 8 words."},
                "body": {"type": "string", "description": "One sentence."},
                "call_to_action": {"type": "string", "description": "Two to four words for a button."},
            },
            "required": ["headline", "body", "call_to_action"],
        },
    },
}


@dataclass(frozen=True)
class AdRequest:
    reference_image_url: str
    product_image_url: str
    product_text: str
    variants: int
    aspect_ratio: str
    language: str
    tone: str


@dataclass
class AdCopy:
    headline: str
    body: str
    call_to_action: str


@dataclass
class AdVariant:
    index: int
    angle: str
    copy: AdCopy
    generation: Generation  # the image job: poll it like any generation
    copy_generation_id: str  # the text turn that wrote the copy (charged on its own)


@dataclass
class AdCampaign:
    variants: list[AdVariant]
    copy_model: AIModel
    image_model: AIModel
    created: bool  # False: an Idempotency-Key replay

    @property
    def generation_ids(self) -> list[str]:
        return [str(v.generation.pk) for v in self.variants]


def _refuse(name: str, message: str, code: str = "invalid_request") -> SubmitError:
    return SubmitError(code, message, fields={name: [message]})


def _text(name: str, value, limit: int, *, required: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise _refuse(name, f"{name} must be text.")
    value = " ".join(value.split())
    if required and not value:
        raise _refuse(name, f"{name} is required.")
    if len(value) > limit:
        raise _refuse(name, f"{name} is at most {limit} characters.")
    return value


def _url(name: str, value, *, required: bool) -> str:
    if value in (None, ""):
        if required:
            raise _refuse(name, f"{name} is required.")
        return ""
    if not isinstance(value, str):
        raise _refuse(name, f"{name} must be a URL.")
    value = value.strip()
    if value.startswith("data:image/"):
        return value
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or len(value) > 4096:
        raise _refuse(name, f"{name} must be an http(s) URL of an image (or a data:image URI).")
    return value


def ad_request(*, reference_image_url, product_image_url=None, product_text=None, variants=3, aspect_ratio="1:1",
               language="English", tone="confident") -> AdRequest:
    """The options, checked (a 400 naming the option, before anything is held)."""
    reference = _url("reference_image_url", reference_image_url, required=True)
    product_url = _url("product_image_url", product_image_url, required=False)
    product = _text("product_text", product_text, 300)
    if not product_url and not product:
        raise _refuse("product_image_url", "Give the product as an image URL (product_image_url) or as text "
                      "(product_text).")
    if isinstance(variants, bool) or not isinstance(variants, int) or not 1 <= variants <= MAX_VARIANTS:
        raise _refuse("variants", f"variants is a whole number from 1 to {MAX_VARIANTS}.")
    return AdRequest(reference_image_url=reference, product_image_url=product_url, product_text=product,
                     variants=variants, aspect_ratio=_text("aspect_ratio", aspect_ratio or "1:1", 10),
                     language=_text("language", language or "English", 40),
                     tone=_text("tone", tone or "confident", 60))


# ---- models ---------------------------------------------------------------------------------
def _model(value: AIModel | str | None, default: str, name: str) -> AIModel:
    if isinstance(value, AIModel):
        return value
    slug = (value or default).strip()
    found = model_find(slug_or_alias=slug)
    if found is None:
        raise SubmitError("invalid_model", f"Unknown model id {slug!r}. See GET /v1/models.", kind=Kind.NOT_FOUND,
                          fields={name: ["Unknown model."]})
    return found


def _fields(model: AIModel) -> dict:
    return {spec["name"]: spec for spec in model.schema.get("fields", [])}


def copy_model_for(value) -> AIModel:
    model = _model(value, DEFAULT_COPY_MODEL, "copy_model")
    if model.modality != "text" or "tools" not in model.capabilities:
        raise _refuse("copy_model", f"{model.slug} cannot write structured copy: choose a text model that calls "
                      "tools.")
    return model


def _image_list_field(model: AIModel) -> str | None:
    fields = _fields(model)
    return next((name for name in IMAGE_LIST_FIELDS if fields.get(name, {}).get("type") == "url_list"
                 and int(fields[name].get("max_items", 1)) >= 2), None)


def image_model_for(value) -> AIModel:
    model = _model(value, DEFAULT_IMAGE_MODEL, "image_model")
    if model.modality != "image" or _image_list_field(model) is None:
        raise _refuse("image_model", f"{model.slug} cannot compose several input images; choose an image model "
                      "that takes two or more (nano-banana-pro, nano-banana-2, gpt-image-2...).")
    return model


# ---- step 1: the copy -----------------------------------------------------------------------
def _product_words(request: AdRequest) -> str:
    return request.product_text or "the product in the second image"


def copy_messages(request: AdRequest, index: int, *, vision: bool) -> list[dict]:
    word, angle = ANGLES[index % len(ANGLES)]
    system = (f"You write advertising copy in {request.language}, in a {request.tone} tone. Call write_ad_copy with "
              f"a headline of at most 8 words, a one-sentence body and a 2 to 4 word call to action. This is "
              f"variant {index + 1} of {request.variants}: {angle}.")
    text = (f"{word} {_product_words(request)}. Write the copy for a new version of the reference ad (the first "
            f"image) that sells this product instead, keeping the reference's style. Aspect ratio "
            f"{request.aspect_ratio}.")
    if not vision:
        return [{"role": "system", "content": system}, {"role": "user", "content": text}]
    parts = [{"type": "text", "text": text}, {"type": "image_url", "image_url": {"url": request.reference_image_url}}]
    if request.product_image_url:
        parts.append({"type": "image_url", "image_url": {"url": request.product_image_url}})
    return [{"role": "system", "content": system}, {"role": "user", "content": parts}]


def copy_params(model: AIModel, messages: list[dict]) -> dict:
    fields = _fields(model)
    params = {"messages": messages, "tools": [COPY_TOOL],
              "tool_choice": {"type": "function", "function": {"name": "write_ad_copy"}}}
    if "max_tokens" in fields:
        params["max_tokens"] = min(COPY_MAX_TOKENS, int(fields["max_tokens"].get("max", COPY_MAX_TOKENS)))
    efforts = fields.get("reasoning_effort", {}).get("choices", [])
    least = next((effort for effort in ("none", "minimal", "low") if effort in efforts), None)
    if least:
        params["reasoning_effort"] = least  # copy needs no long thinking; the tokens go to the answer
    return params


def _clean(text, limit: int) -> str:
    text = " ".join(str(text or "").replace('"', "'").split())
    return text[:limit].strip()


def copy_from_answer(tool_calls: list | None, text: str) -> AdCopy:
    """The copy from the forced tool call, or from plain text (a model that answered in words)."""
    for call in tool_calls or []:
        function = call.get("function") or {}
        if function.get("name") != "write_ad_copy":
            continue
        try:
            arguments = json.loads(function.get("arguments") or "{}")
        except json.JSONDecodeError:
            continue
        if isinstance(arguments, dict) and _clean(arguments.get("headline"), 80):
            return AdCopy(_clean(arguments.get("headline"), 80), _clean(arguments.get("body"), 300),
                          _clean(arguments.get("call_to_action"), 40))
    lines = [line.strip(" *#-") for line in (text or "").splitlines() if line.strip(" *#-")]
    labelled = {}
    for line in lines:
        label, _, value = line.partition(":")
        labelled[label.strip().lower().replace(" ", "_")] = value.strip()
    headline = _clean(labelled.get("headline") or (lines[0] if lines else ""), 80)
    if not headline:
        raise SubmitError("copy_failed", "The copy model gave no headline.", kind=Kind.UPSTREAM)
    return AdCopy(headline, _clean(labelled.get("body") or " ".join(lines[1:2]), 300),
                  _clean(labelled.get("call_to_action") or labelled.get("cta"), 40))


def _stored_copy(generation: Generation) -> AdCopy:
    return copy_from_answer((generation.usage or {}).get("tool_calls"), generation.result_text)


# ---- step 2: the picture --------------------------------------------------------------------
def render_product_card(name: str, size: int = 768) -> bytes:
    """A product given as text, as a label image the image model places like a product shot."""
    card = Image.new("RGB", (size, size), (250, 250, 247))
    draw = ImageDraw.Draw(card)
    inset = size // 12
    draw.rounded_rectangle([inset, inset, size - inset, size - inset], radius=size // 10, fill=(28, 30, 36))
    words, lines = name.split(), []
    for word in words:  # wrap to about 14 characters a line
        if lines and len(lines[-1]) + len(word) < 14:
            lines[-1] += f" {word}"
        else:
            lines.append(word)
    lines = lines[:4] or ["?"]
    font_size = int(size * 0.8 / max(5, max(len(line) for line in lines)) * 1.6)
    font = ImageFont.load_default(size=max(16, min(font_size, size // (len(lines) + 2))))
    heights = [draw.textbbox((0, 0), line, font=font) for line in lines]
    total = sum(b[3] - b[1] for b in heights) + (len(lines) - 1) * size // 30
    y = (size - total) // 2
    for line, box in zip(lines, heights):
        draw.text(((size - (box[2] - box[0])) // 2 - box[0], y - box[1]), line, font=font, fill=(255, 214, 90))
        y += box[3] - box[1] + size // 30
    buffer = io.BytesIO()
    card.save(buffer, format="PNG")
    return buffer.getvalue()


def product_image(request: AdRequest) -> str:
    if request.product_image_url:
        return request.product_image_url
    return "data:image/png;base64," + base64.b64encode(render_product_card(request.product_text)).decode()


def image_prompt(request: AdRequest, copy: AdCopy, index: int) -> str:
    product = f"the product {request.product_text}" if request.product_text else "the product"
    prompt = (f'Advertisement. Recreate the reference ad (first image) with {product} from the second image in '
              f"place of its product: keep the reference's layout, composition and colour palette. Set the headline "
              f'"{copy.headline}"')
    if copy.call_to_action:
        prompt += f' and a button reading "{copy.call_to_action}"'
    prompt += (f". Body text: {copy.body} Tone: {request.tone}. All text in {request.language}. "
               f"Variant {index + 1} of {request.variants}.")
    return prompt


def image_params(model: AIModel, request: AdRequest, *, prompt: str, product: str, index: int) -> dict:
    fields = _fields(model)
    params = {"prompt": prompt, _image_list_field(model): [request.reference_image_url, product]}
    if "aspect_ratio" in fields:
        params["aspect_ratio"] = request.aspect_ratio
    elif request.aspect_ratio != "1:1":
        raise _refuse("aspect_ratio", f"{model.slug} has no aspect ratio setting; leave aspect_ratio at 1:1 or "
                      "choose another image_model.")
    if "seed" in fields:
        params["seed"] = index + 1
    return params


def _quoted(model: AIModel, params: dict) -> int:
    try:
        return generation_quote(model=model, raw_params=params).price
    except ValidationFailed as failure:
        # Named after the ad option that set the parameter, so the caller knows what to change.
        fields = {("aspect_ratio" if name == "aspect_ratio" else "image_model"): messages
                  for name, messages in failure.errors.items()}
        detail = "; ".join(f"{name}: {' '.join(messages)}" for name, messages in failure.errors.items())
        raise SubmitError("invalid_request", f"{model.slug} cannot make this ad: {detail}", fields=fields) from None


# ---- the service ----------------------------------------------------------------------------
def _keys(idempotency_key: str | None, index: int) -> tuple[str | None, str | None]:
    if not idempotency_key:
        return None, None
    return f"{idempotency_key}:ad:{index}", f"{idempotency_key}:ad:{index}:copy"


def _replay(*, workspace, idempotency_key: str, request: AdRequest, copy_model: AIModel,
            image_model: AIModel) -> AdCampaign | None:
    variants = []
    for index in range(request.variants):
        image_key, copy_key = _keys(idempotency_key, index)
        image = (Generation.objects.filter(workspace=workspace, idempotency_key=image_key)
                 .select_related("model").first())
        turn = Generation.objects.filter(workspace=workspace, idempotency_key=copy_key).first()
        if image is None or turn is None:
            if index == 0:
                return None
            break
        wanted = copy_messages(request, index, vision="vision" in copy_model.capabilities)
        if turn.params.get("messages") != wanted or image.model_id != image_model.pk:
            raise SubmitError("idempotency_conflict", "This Idempotency-Key was already used for a different ad "
                              "request.", kind=Kind.CONFLICT)
        variants.append(AdVariant(index=index, angle=ANGLES[index % len(ANGLES)][0].title(), copy=_stored_copy(turn),
                                  generation=image, copy_generation_id=str(turn.pk)))
    if len(variants) != request.variants:
        raise SubmitError("idempotency_conflict", "This Idempotency-Key was already used for a different ad "
                          "request.", kind=Kind.CONFLICT)
    return AdCampaign(variants=variants, copy_model=copy_model, image_model=image_model, created=False)


def _write_copy(*, user, workspace, wallet, model: AIModel, request: AdRequest, index: int, source: str,
                copy_key: str | None, api_key_id: int | None, budget_id: int | None) -> tuple[AdCopy, Generation]:
    messages = copy_messages(request, index, vision="vision" in model.capabilities)
    turn = chat_open(user=user, workspace=workspace, wallet=wallet, model=model,
                     raw_params=copy_params(model, messages), source=source, api_key_id=api_key_id,
                     budget_id=budget_id)
    result = chat_complete(turn=turn)
    if copy_key:
        try:
            Generation.objects.filter(pk=turn.generation.pk).update(idempotency_key=copy_key)
        except IntegrityError:  # a concurrent replay of the same request recorded its own turn first
            log.info("ad copy key %s already recorded", copy_key)
    return copy_from_answer(result.tool_calls, result.text), turn.generation


def ads_create(*, user, workspace, reference_image_url: str, product_image_url: str | None = None,
               product_text: str | None = None, variants: int = 3, aspect_ratio: str = "1:1",
               language: str = "English", tone: str = "confident", copy_model: AIModel | str | None = None,
               image_model: AIModel | str | None = None, source: str = "api",
               idempotency_key: str | None = None, api_key_id: int | None = None,
               budget_id: int | None = None) -> AdCampaign:
    """Write the copy and submit one image generation per variant; raises SubmitError.

    Holds: one chat turn per variant (captured at once) and one image hold per variant. Options,
    models and image parameters are all checked first; a balance that cannot cover the whole
    campaign is refused up front (402) rather than half spent."""
    request = ad_request(reference_image_url=reference_image_url, product_image_url=product_image_url,
                         product_text=product_text, variants=variants, aspect_ratio=aspect_ratio, language=language,
                         tone=tone)
    text_model, picture_model = copy_model_for(copy_model), image_model_for(image_model)
    if idempotency_key:
        replayed = _replay(workspace=workspace, idempotency_key=idempotency_key, request=request,
                           copy_model=text_model, image_model=picture_model)
        if replayed is not None:
            return replayed
    product = product_image(request)
    placeholder = AdCopy("headline", "body", "call to action")
    total = 0
    for index in range(request.variants):
        total += _quoted(picture_model, image_params(picture_model, request, prompt=image_prompt(
            request, placeholder, index), product=product, index=index))
        total += generation_quote(model=text_model, raw_params=copy_params(
            text_model, copy_messages(request, index, vision="vision" in text_model.capabilities))).price
    wallet = Wallet.objects.get(workspace=workspace)
    if wallet.balance - wallet.held < total:
        raise SubmitError("insufficient_credits", "The balance does not cover this campaign "
                          f"({request.variants} variants).", kind=Kind.PAYMENT)
    made = []
    for index in range(request.variants):
        image_key, copy_key = _keys(idempotency_key, index)
        copy, turn = _write_copy(user=user, workspace=workspace, wallet=wallet, model=text_model, request=request,
                                 index=index, source=source, copy_key=copy_key, api_key_id=api_key_id,
                                 budget_id=budget_id)
        params = image_params(picture_model, request, prompt=image_prompt(request, copy, index), product=product,
                              index=index)
        generation, _ = generation_submit(user=user, workspace=workspace, model=picture_model, raw_params=params,
                                          source=source, idempotency_key=image_key, api_key_id=api_key_id,
                                          budget_id=budget_id)
        made.append(AdVariant(index=index, angle=ANGLES[index % len(ANGLES)][0].title(), copy=copy,
                              generation=generation, copy_generation_id=str(turn.pk)))
    return AdCampaign(variants=made, copy_model=text_model, image_model=picture_model, created=True)

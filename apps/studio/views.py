"""Studio pages: the model gallery, a studio per model (form beside a live feed), the live
price, submitting, and the public pricing page. Thin views over services and selectors;
request shapes are Django forms (forms.py). The history, downloads and library actions are
in views_history.py, uploads and workspace pages in views_workspace.py."""
import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist
from django.core.files.storage import default_storage
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from apps.catalog.models import AIModel, Modality
from apps.catalog.presentation import catalog_gallery, model_reference
from apps.catalog.pricing import price_summary, starting_price
from apps.catalog.schema import ValidationFailed
from apps.catalog.services import catalog_sample_params
from apps.core.http import status_for
from apps.generations.errors import SubmitError, UploadError
from apps.generations.selectors import (
    generation_get_for_user,
    latest_thumbnails,
    output_get_for_user,
    popular_model_counts,
    upload_get_for_user,
)
from apps.generations.services import generation_quote, generation_submit
from apps.generations.storage import media_url
from apps.generations.uploads import upload_create, upload_url
from apps.wallet.money import format_credits
from apps.wallet.selectors import member_cap_remaining, wallet_summary

from .common import current_workspace
from .forms import GenerationForm, HistoryFilterForm, accepts
from .models import ModelShowcase
from .views_chat import model_chat
from .views_history import feed_context

SORTS = [("featured", "Featured"), ("popular", "Popular"), ("newest", "Newest"), ("price", "Price: low to high")]
MODALITY_ART = {value: f"img/modality-{value}.svg" for value, _ in Modality.choices}


# ---- gallery --------------------------------------------------------------------------------
def _price_key(model: AIModel):
    summary = price_summary(model.effective_pricing, model.schema)
    if summary["from"] is not None:
        return summary["from"]
    return min(summary["rates"].values(), default=0)


def _sorted(cards: list, sort: str) -> list:
    if sort == "popular":
        counts = popular_model_counts()
        return sorted(cards, key=lambda card: -counts.get(card["model"].pk, 0))
    if sort == "newest":
        return sorted(cards, key=lambda card: -card["model"].pk)
    if sort == "price":
        return sorted(cards, key=lambda card: _price_key(card["model"]))
    return cards


def _use_item(request):
    """The result or upload a "use as input" link carries (?use=o-<output>|u-<upload>), if it is the user's."""
    token = request.GET.get("use", "")
    if not request.user.is_authenticated or "-" not in token:
        return None
    prefix, _, ident = token.partition("-")
    try:
        if prefix == "o" and ident.isdigit():
            output = output_get_for_user(user=request.user, pk=int(ident))
            return {"token": token, "kind": output.kind, "url": media_url(output.file),
                    "thumb": output.thumbnail.url if output.thumbnail else None, "label": output.generation.prompt}
        if prefix == "u":
            upload = upload_get_for_user(user=request.user, pk=uuid.UUID(ident))
            return {"token": token, "kind": upload.kind, "url": upload_url(upload),
                    "thumb": upload.thumbnail.url if upload.thumbnail else None, "label": upload.original_name}
    except (ValueError, ObjectDoesNotExist):
        return None
    return None


def gallery(request):
    filters = {name: request.GET.get(key, "").strip() for name, key in
               (("modality", "modality"), ("vendor", "vendor"), ("capability", "capability"), ("query", "q"))}
    sort = request.GET.get("sort", "featured")
    sort = sort if sort in dict(SORTS) else "featured"
    layout = "compact" if request.GET.get("layout") == "compact" else "grid"
    found = catalog_gallery(**filters)
    use = _use_item(request)
    cards = found.cards
    if use:
        # "Use as input": only the models with a field that takes this kind of file.
        cards = [card for card in cards if any(accepts(spec, use["kind"]) for spec in card["model"].schema.get("fields", []))]
    cards = _sorted(cards, sort)
    showcase = dict(ModelShowcase.objects.values_list("model_id", "image"))
    latest = latest_thumbnails(workspace=current_workspace(request), model_ids=[c["model"].pk for c in cards]) \
        if request.user.is_authenticated else {}
    for card in cards:
        model = card["model"]
        card["preview"] = ({"kind": "sample", "url": default_storage.url(showcase[model.pk])} if model.pk in showcase else
                           {"kind": "latest", "url": default_storage.url(latest[model.pk])} if model.pk in latest else
                           {"kind": "art", "static": MODALITY_ART.get(model.modality, MODALITY_ART["image"])})
    context = {"cards": cards, "modalities": found.modalities, "vendors": found.vendors,
               "capabilities": found.capabilities, "modality": filters["modality"], "vendor": filters["vendor"],
               "capability": filters["capability"], "q": filters["query"], "sort": sort, "sorts": SORTS,
               "layout": layout, "use": use}
    template = "studio/gallery.html#cards" if request.htmx else "studio/gallery.html"
    return render(request, template, context)


# ---- a studio per model ---------------------------------------------------------------------
def _model_or_404(slug: str) -> AIModel:
    return get_object_or_404(AIModel, slug=slug, enabled=True)


def _price_state(request, model, raw: dict) -> dict:
    """The price of these settings and whether the workspace can pay it right now: over the
    available balance, or over the member's remaining monthly cap on a team pool."""
    try:
        price = generation_quote(model=model, raw_params=raw).price
    except ValidationFailed as failure:
        # A field not filled in yet (the prompt, a start frame) does not change the price:
        # quote with a sample in its place, and leave "required" to the submit.
        sample = {name: value for name, value in catalog_sample_params(model.schema).items() if name not in raw}
        try:
            price = generation_quote(model=model, raw_params={**raw, **sample}).price
        except ValidationFailed:
            return {"price": None, "price_error": failure}
    state = {"price": format_credits(price), "price_milli": price, "price_error": None}
    if request.user.is_authenticated:
        workspace = current_workspace(request)
        summary = wallet_summary(workspace=workspace)
        if summary is not None and price > summary.available:
            state["over_balance"] = format_credits(summary.available)
        cap_left = member_cap_remaining(workspace=workspace, member=request.user) if workspace.is_team else None
        if cap_left is not None and price > cap_left:
            state["over_cap"] = format_credits(cap_left)
    return state


def _reuse_values(request, model) -> dict | None:
    """Values to start the form with: a job's settings (?from=<id>, "Run again"), and a
    result or upload put into the first field that takes its kind (?use=...)."""
    values = None
    if request.user.is_authenticated and request.GET.get("from"):
        try:
            generation = generation_get_for_user(user=request.user, pk=uuid.UUID(request.GET["from"]))
            if generation.model_id == model.pk:
                values = dict(generation.params)
        except (ValueError, ObjectDoesNotExist):
            values = None
    use = _use_item(request)
    if use:
        values = values or {}
        for spec in model.schema.get("fields", []):
            if accepts(spec, use["kind"]):
                values[spec["name"]] = [use["url"]] if spec["type"] == "url_list" else use["url"]
                break
    return values


def _studio_context(request, model, form: GenerationForm, price_state: dict) -> dict:
    context = {"model": model, "form": form, "submit_token": uuid.uuid4().hex, **price_state}
    if request.user.is_authenticated:
        workspace = current_workspace(request)
        filters = HistoryFilterForm({"model": model.slug})
        context.update(feed_context(workspace=workspace, filters=filters, model=model))
    return context


# Where a modality's studio is drawn; text models have the chat page instead (views_chat.py).
STUDIO_TEMPLATES: dict[str, str] = {}


def model_page(request, slug):
    model = _model_or_404(slug)
    if model.modality == Modality.TEXT:
        return model_chat(request, model)
    values = _reuse_values(request, model)
    form = GenerationForm(model=model, values=values)
    defaults = {spec["name"]: spec["default"] for spec in model.schema.get("fields", []) if spec.get("default") is not None}
    price_state = _price_state(request, model, {**defaults, **(values or {})})
    if not price_state["price"]:
        price_state["price"] = format_credits(starting_price(model.effective_pricing, model.schema))
    context = _studio_context(request, model, form, price_state)
    context["reference"] = model_reference(model=model, site_url=request.build_absolute_uri("/"))
    return render(request, STUDIO_TEMPLATES.get(model.modality, "studio/model.html"), context)


@require_POST
def model_price(request, slug):
    """Live price and balance check for the current form values (HTMX)."""
    model = _model_or_404(slug)
    form = GenerationForm(request.POST, model=model)
    form.is_valid()
    return render(request, "studio/model.html#submit_row", {"model": model, **_price_state(request, model, form.raw_params())})


def _store_form_files(request, form: GenerationForm, workspace, raw: dict) -> dict:
    """Files chosen in the form itself (no JavaScript): stored as uploads, their Atelier URLs
    put into their fields. Returns per-field upload errors."""
    errors = {}
    for spec, file in form.uploaded_files():
        try:
            form.put_url(spec, upload_url(upload_create(user=request.user, workspace=workspace, file=file)), raw)
        except UploadError as exc:
            errors.setdefault(spec["name"], []).append(exc.message)
    return errors


@login_required
@require_POST
def generate(request, slug):
    model = _model_or_404(slug)
    workspace = current_workspace(request)
    form = GenerationForm(request.POST, request.FILES, model=model)
    form.is_valid()
    raw = form.raw_params()
    upload_errors = _store_form_files(request, form, workspace, raw)
    token = form.cleaned_data.get("submit_token", "")
    try:
        uuid.UUID(token)
    except ValueError:
        token = ""
    status, started = 200, None
    try:
        if upload_errors:
            raise SubmitError("invalid_request", "A file could not be used.", fields=upload_errors)
        generation, created = generation_submit(
            user=request.user, workspace=workspace, model=model, raw_params=raw, source="web",
            idempotency_key=f"web:{token}" if token else None,
        )
        started = generation
        if not created:
            messages.info(request, "This form was already submitted; its result is in the feed.")
        # A fresh form with the same settings: clicking again starts another job.
        form = GenerationForm(model=model, values=raw)
        price_state = _price_state(request, model, raw)
    except SubmitError as exc:
        form.add_field_errors(exc.fields)
        messages.error(request, exc.message)
        price_state = _price_state(request, model, raw) if exc.code != "invalid_request" else {"price": None}
        price_state["short_of_credits"] = exc.code in {"insufficient_credits", "member_cap_exceeded"}
        status = status_for(exc)
    if not request.htmx:
        if status == 200:
            return redirect("studio:model", slug=model.slug)
        context = _studio_context(request, model, form, price_state)
        context["submit_token"] = token or context["submit_token"]
        context["reference"] = model_reference(model=model, site_url=request.build_absolute_uri("/"))
        return render(request, "studio/model.html", context, status=status)
    context = {"model": model, "form": form, "submit_token": uuid.uuid4().hex if started else (token or uuid.uuid4().hex),
               "started": started, **price_state}
    # HTMX swaps only 2xx by default: errors come back 200 with the messages inline. A new
    # job appears in the feed through the watcher, which this event wakes at once.
    response = render(request, "studio/model.html#submit_response", context)
    if started:
        response["HX-Trigger"] = "history-changed"
    return response


# ---- pricing --------------------------------------------------------------------------------
def pricing(request):
    found = catalog_gallery()
    groups = []
    for value, label in Modality.choices:
        cards = [card for card in found.cards if card["model"].modality == value]
        if cards:
            groups.append({"label": label, "modality": value, "cards": cards})
    return render(request, "studio/pricing.html", {"groups": groups, "signup_credits": settings.SIGNUP_GRANT_CREDITS})

import json
import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseStopPolling

from apps.accounts.services import workspace_for_user
from apps.catalog.models import AIModel
from apps.catalog.presentation import catalog_gallery, model_reference, model_starting_price
from apps.catalog.schema import ValidationFailed
from apps.core.http import status_for
from apps.generations.errors import SubmitError
from apps.generations.models import Generation
from apps.generations.services import generation_cancel, generation_quote, generation_submit
from apps.wallet.money import format_credits

from .forms import form_fields, params_from_post

HISTORY_SIZE = 24


def gallery(request):
    filters = {name: request.GET.get(key, "").strip() for name, key in
               (("modality", "modality"), ("vendor", "vendor"), ("capability", "capability"), ("query", "q"))}
    found = catalog_gallery(**filters)
    context = {"cards": found.cards, "modalities": found.modalities, "vendors": found.vendors,
               "capabilities": found.capabilities, "modality": filters["modality"], "vendor": filters["vendor"],
               "capability": filters["capability"], "q": filters["query"]}
    template = "studio/gallery.html#cards" if request.htmx else "studio/gallery.html"
    return render(request, template, context)


def _model_or_404(slug: str) -> AIModel:
    return get_object_or_404(AIModel, slug=slug, enabled=True)


def _history(request, workspace, model=None):
    qs = Generation.objects.filter(workspace=workspace).select_related("model").prefetch_related("outputs")
    if model is not None:
        qs = qs.filter(model=model)
    generations = list(qs[:HISTORY_SIZE])
    return generations, any(g.is_pending for g in generations)


def _changed(field, defaults: dict) -> bool:
    default = defaults.get(field.name)
    if isinstance(field.value, bool):
        return field.value != bool(default)
    return str(field.value) != ("" if default is None else str(default))


def _form_context(model, *, values=None, errors=None, price=None, price_error=None):
    fields = form_fields(model.schema, values, errors)
    defaults = {spec["name"]: spec.get("default") for spec in model.schema.get("fields", [])}
    return {
        "model": model,
        "fields": fields,
        # Advanced fields fold away under "More settings"; it stays open when one of them has an
        # error or a value other than its default (after a submit, or "Run again").
        "has_advanced": any(field.advanced for field in fields),
        "advanced_open": any(field.advanced and (field.errors or _changed(field, defaults)) for field in fields),
        "submit_token": uuid.uuid4().hex,
        "price": price,
        "price_error": price_error,
    }


def _price_for(model, raw):
    try:
        return format_credits(generation_quote(model=model, raw_params=raw).price), None
    except ValidationFailed as failure:
        return None, failure


def _params_to_reuse(request, model):
    """The params of one of the user's own generations of this model (?from=<id>): "Run again"."""
    if not request.user.is_authenticated or not request.GET.get("from"):
        return None
    try:
        generation = _generation_or_404(request, uuid.UUID(request.GET["from"]))
    except (ValueError, Http404):
        return None
    if generation.model_id != model.pk:
        return None
    values = dict(generation.params)
    for spec in model.schema.get("fields", []):
        if spec["type"] == "messages" and isinstance(values.get(spec["name"]), list):
            values[spec["name"]] = json.dumps(values[spec["name"]], ensure_ascii=False)  # the form takes JSON text
    return values


def model_page(request, slug):
    model = _model_or_404(slug)
    values = _params_to_reuse(request, model)
    price, failure = _price_for(model, values or {name: spec.get("default") for spec in model.schema.get("fields", [])
                                                  for name in [spec["name"]] if spec.get("default") is not None})
    context = _form_context(model, values=values,
                            price=price or format_credits(model_starting_price(model)))
    context["reference"] = model_reference(model=model, site_url=request.build_absolute_uri("/"))
    if request.user.is_authenticated:
        workspace = workspace_for_user(user=request.user)
        context["history"], context["polling"] = _history(request, workspace, model)
    return render(request, "studio/model.html", context)


@require_POST
def model_price(request, slug):
    """Live price for the current form values (HTMX)."""
    model = _model_or_404(slug)
    price, failure = _price_for(model, params_from_post(model.schema, request.POST))
    return render(request, "studio/model.html#price", {"price": price, "price_error": failure, "model": model})


@login_required
@require_POST
def generate(request, slug):
    model = _model_or_404(slug)
    workspace = workspace_for_user(user=request.user)
    raw = params_from_post(model.schema, request.POST)
    token = request.POST.get("submit_token", "")
    try:
        uuid.UUID(token)
    except ValueError:
        token = ""
    status = 200
    try:
        generation, created = generation_submit(
            user=request.user, workspace=workspace, model=model, raw_params=raw, source="web",
            idempotency_key=f"web:{token}" if token else None,
        )
        if created:
            messages.success(request, f"Queued: {format_credits(generation.price)} credits on hold. "
                                      "The result appears under your generations below.")
        else:
            messages.info(request, "This form was already submitted; showing that generation.")
        context = _form_context(model, values=raw, price=format_credits(generation.price))
    except SubmitError as exc:
        messages.error(request, exc.message)
        price, failure = _price_for(model, raw) if exc.code != "invalid_request" else (None, None)
        context = _form_context(model, values=raw, errors=exc.fields, price=price)
        context["submit_token"] = token or context["submit_token"]
        context["short_of_credits"] = exc.code == "insufficient_credits"
        status = status_for(exc)
    if not request.htmx:
        if status == 200:
            return redirect("studio:model", slug=model.slug)
        context["history"], context["polling"] = _history(request, workspace, model)
        return render(request, "studio/model.html", context, status=status)
    context["history"], context["polling"] = _history(request, workspace, model)
    # HTMX swaps only 2xx responses by default; errors come back 200 with the messages inline.
    return render(request, "studio/model.html#submit_response", context)


@login_required
def history(request):
    workspace = workspace_for_user(user=request.user)
    model = None
    if request.GET.get("model"):
        model = get_object_or_404(AIModel, slug=request.GET["model"])
    generations, polling = _history(request, workspace, model)
    context = {"history": generations, "polling": polling, "model": model}
    if request.htmx:
        # The poll also refreshes the balance badge: a finished job's capture changes it.
        response = render(request, "studio/history.html#poll", context)
        if not polling:
            # Nothing pending: tell htmx to stop polling (status 286) but still swap the final state.
            return HttpResponseStopPolling(response.content)
        return response
    return render(request, "studio/history.html", context)


def _generation_or_404(request, pk) -> Generation:
    workspace_ids = request.user.memberships.values_list("workspace_id", flat=True)
    generation = (
        Generation.objects.filter(pk=pk, workspace_id__in=workspace_ids)
        .select_related("model").prefetch_related("outputs", "attempts").first()
    )
    if generation is None:
        raise Http404("No such generation.")
    return generation


def _settings_rows(generation) -> list[tuple[str, str]]:
    """The params a person chose, labelled as on the form (the prompt is shown on its own)."""
    rows = []
    for spec in generation.model.schema.get("fields", []):
        name = spec["name"]
        if name == "prompt" or name not in generation.params:
            continue
        value = generation.params[name]
        if isinstance(value, bool):
            value = "yes" if value else "no"
        elif spec["type"] == "messages" and isinstance(value, list):
            value = f"{len(value)} message{'s' if len(value) != 1 else ''}"
        elif isinstance(value, list):
            value = ", ".join(str(item) for item in value)
        rows.append((spec.get("label") or name.replace("_", " ").capitalize(), str(value)))
    return rows


@login_required
def generation_detail(request, pk):
    generation = _generation_or_404(request, pk)
    context = {"generation": generation, "settings_rows": _settings_rows(generation)}
    if request.htmx:
        response = render(request, "studio/generation.html#poll", context)
        return response if generation.is_pending else HttpResponseStopPolling(response.content)
    return render(request, "studio/generation.html", context)


@login_required
@require_POST
def generation_cancel_view(request, pk):
    generation = _generation_or_404(request, pk)
    if generation_cancel(generation=generation):
        messages.success(request, "Canceled; the hold was released.")
    else:
        messages.info(request, "This generation had already finished.")
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"
        return response
    return redirect("studio:generation", pk=generation.pk)

"""The public HTTP API. Every view is thin: authenticate, call one service, present JSON.

Errors always come back as {"error": {"code", "message", "type", "fields"?}} (see errors.py)."""
from __future__ import annotations

import functools
import json
import logging
import uuid

from django.db import OperationalError
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt

from apps.catalog.models import AIModel, Modality
from apps.catalog.presentation import upstream_adapters
from apps.catalog.services import model_find
from apps.generations.errors import SubmitError
from apps.generations.models import Generation
from apps.catalog.schema import ValidationFailed
from apps.generations.services import generation_cancel, generation_quote, generation_submit
from apps.wallet.selectors import wallet_summary

from .errors import ApiError, error_response, not_found
from .presenters import (
    credits,
    generation_json,
    model_detail,
    model_list_item,
    pollinations_item,
)
from .services import api_key_authenticate

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 512 * 1024
MAX_IDEMPOTENCY_KEY = 200
SUBMIT_KEYS = {"model", "params"}


def api_view(*methods: str, auth: bool = True):
    """JSON endpoint: method check, Bearer auth (request.api_key), errors in the API's shape."""
    def decorate(view):
        @csrf_exempt  # no cookies: a Bearer key cannot be forged by another site
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            try:
                if request.method not in methods:
                    raise ApiError("method_not_allowed", f"Use {' or '.join(methods)} here.", status=405,
                                   headers={"Allow": ", ".join(methods)})
                request.api_key = (api_key_authenticate(authorization=request.headers.get("Authorization", ""))
                                   if auth else None)
                return view(request, *args, **kwargs)
            except ApiError as error:
                return error_response(error)
            except OperationalError:
                raise  # a busy or unreachable database: the ops middleware answers a retryable 503
            except Exception:
                log.exception("API error on %s %s", request.method, request.path)
                return error_response(ApiError("internal_error", "Something went wrong on our side.", status=500))
        return wrapper
    return decorate


def _json_body(request) -> dict:
    if len(request.body) > MAX_BODY_BYTES:
        raise ApiError("request_too_large", f"The request body is over {MAX_BODY_BYTES // 1024} KB.", status=413)
    try:
        body = json.loads(request.body or b"null")
    except ValueError:
        raise ApiError("invalid_json", "The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise ApiError("invalid_json", "The request body must be a JSON object.")
    return body


def _enabled_models(modalities=None):
    qs = AIModel.objects.filter(enabled=True).prefetch_related("routes")
    return qs.filter(modality__in=modalities) if modalities else qs


# ---- catalog (public: no key needed) ----------------------------------------------------------
@api_view("GET", auth=False)
def models_list(request):
    """OpenAI list format; ?modality=image|video|music|speech|text narrows it."""
    modality = request.GET.get("modality")
    if modality and modality not in Modality.values:
        raise ApiError("invalid_request", f"modality must be one of: {', '.join(Modality.values)}.",
                       fields={"modality": [f"Unknown modality {modality!r}."]})
    models = _enabled_models([modality] if modality else None)
    return JsonResponse({"object": "list", "data": [model_list_item(m) for m in models]})


@api_view("GET", auth=False)
def model_get(request, model_id):
    model = model_find(slug_or_alias=model_id)
    if model is None:
        raise ApiError("model_not_found", f"Unknown model id {model_id!r}. See GET /v1/models.", status=404)
    return JsonResponse(model_detail(model, upstream_adapters()))


@api_view("GET", auth=False)
def image_models(request):
    """pollinations-style listing of image and video models."""
    return JsonResponse([pollinations_item(m) for m in _enabled_models(["image", "video"])], safe=False)


@api_view("GET", auth=False)
def text_models(request):
    """pollinations-style listing of text models and the speech models (audio output, voices)."""
    return JsonResponse([pollinations_item(m) for m in _enabled_models(["text", "speech"])], safe=False)


def _submission(body: dict) -> tuple[AIModel, dict]:
    """The model and raw params of a {"model", "params"} body, or the error that says what is wrong."""
    unknown = sorted(set(body) - SUBMIT_KEYS)
    if unknown:
        raise ApiError("invalid_request", "The body is {\"model\": ..., \"params\": {...}}; model parameters go "
                       "inside params.", fields={name: ["Unknown top-level key; put it inside params."]
                                                 for name in unknown})
    if not isinstance(body.get("model"), str) or not body["model"].strip():
        raise ApiError("invalid_request", "model is required.", fields={"model": ["Model is required."]})
    params = body.get("params", {})
    if not isinstance(params, dict):
        raise ApiError("invalid_request", "params must be an object.", fields={"params": ["Must be an object."]})
    model = model_find(slug_or_alias=body["model"].strip())
    if model is None:
        raise ApiError("model_not_found", f"Unknown model id {body['model']!r}. See GET /v1/models.", status=404)
    return model, params


@api_view("POST", auth=False)
def quote(request):
    """The exact price (what a submit would hold) and the cleaned params, without running anything."""
    model, params = _submission(_json_body(request))
    try:
        quoted = generation_quote(model=model, raw_params=params)
    except ValidationFailed as failure:
        raise ApiError("invalid_request", "Some parameters are not valid.", fields=failure.errors) from None
    return JsonResponse({"object": "quote", "model": model.slug, "price": credits(quoted.price),
                         "currency": "credits", "params": quoted.params})


# ---- generations ------------------------------------------------------------------------------
@api_view("POST", "GET")
def generations(request):
    if request.method == "GET":
        return _generations_list(request)
    model, params = _submission(_json_body(request))
    idempotency_key = request.headers.get("Idempotency-Key", "").strip() or None
    if idempotency_key and len(idempotency_key) > MAX_IDEMPOTENCY_KEY:
        raise ApiError("invalid_request", f"Idempotency-Key is at most {MAX_IDEMPOTENCY_KEY} characters.")
    key = request.api_key
    try:
        generation, created = generation_submit(
            user=key.user, workspace=key.workspace, model=model, raw_params=params, source="api",
            # Namespaced so an API key can never replay a web form submission, or the reverse.
            idempotency_key=f"api:{idempotency_key}" if idempotency_key else None,
        )
    except SubmitError as exc:
        raise ApiError(exc.code, exc.message, status=exc.status, fields=exc.fields) from None
    response = JsonResponse(generation_json(_generation(key, generation.pk)), status=202 if created else 200)
    response["Location"] = f"/v1/generations/{generation.pk}"
    if not created:
        response["Idempotent-Replayed"] = "true"
    return response


def _generation(key, pk) -> Generation:
    """The generation if it belongs to the key's workspace; anything else is 404, never 403."""
    try:
        uuid.UUID(str(pk))
    except ValueError:
        raise not_found("generation") from None
    generation = (Generation.objects.filter(pk=pk, workspace=key.workspace).select_related("model")
                  .prefetch_related("outputs", "attempts").first())
    if generation is None:
        raise not_found("generation")
    return generation


def _generations_list(request):
    try:
        limit = min(max(int(request.GET.get("limit", 20)), 1), 100)
    except ValueError:
        raise ApiError("invalid_request", "limit must be a number from 1 to 100.") from None
    qs = (Generation.objects.filter(workspace=request.api_key.workspace).select_related("model")
          .prefetch_related("outputs", "attempts"))
    if request.GET.get("status"):
        qs = qs.filter(status=request.GET["status"])
    return JsonResponse({"object": "list", "data": [generation_json(g) for g in qs[:limit]]})


@api_view("GET")
def generation_get(request, generation_id):
    return JsonResponse(generation_json(_generation(request.api_key, generation_id)))


@api_view("POST")
def generation_cancel_view(request, generation_id):
    generation = _generation(request.api_key, generation_id)
    if not generation_cancel(generation=generation):
        raise ApiError("generation_finished", "This generation has already finished.", status=409)
    return JsonResponse(generation_json(_generation(request.api_key, generation_id)))


# ---- account ----------------------------------------------------------------------------------
@api_view("GET")
def balance(request):
    workspace = request.api_key.workspace
    summary = wallet_summary(workspace=workspace)
    if summary is None:
        raise not_found("wallet")
    return JsonResponse({
        "object": "balance",
        "workspace": {"id": workspace.pk, "name": workspace.name, "kind": workspace.kind},
        "currency": "credits",
        "balance": credits(summary.balance),
        "held": credits(summary.held),
        "available": credits(summary.available),
    })

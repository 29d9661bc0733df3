"""Atelier's own surface: the catalog, quotes, generations, balance and redemption codes.

`POST /generations` takes {"model", "params"}: model parameters go inside params, so a parameter
can never collide with `model` and unknown keys are reported instead of ignored."""
from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import JsonResponse
from ninja import Query, Router, Schema
from pydantic import ConfigDict, Field

from apps.catalog.models import Modality
from apps.core.errors import ApplicationError, Kind
from apps.generations.selectors import generation_for_workspace, generations_of_workspace
from apps.generations.uploads import upload_create, upload_url
from apps.generations.services import generation_cancel, generation_quote, generation_submit
from apps.providers.safe_http import FetchRefused, check_url
from apps.wallet.selectors import wallet_summary
from apps.wallet.services import wallet_redeem

from .auth import KeyAuth, account_auth, optional_principal
from .catalog import resolve_model, visible_models
from .errors import ApiError, invalid, not_found
from .idempotency import idempotency_key, idempotent
from .presenters import credits, generation_json, model_detail, model_list_item
from .signals import webhook_requested

router = Router(tags=["Atelier"])

class SubmitBody(Schema):
    model_config = ConfigDict(extra="allow")

    model: str = Field(description="A model id or alias from GET /v1/models.", min_length=1, max_length=200)
    params: dict[str, Any] = Field(default_factory=dict, description="The model's parameters (see its schema).")


class GenerationBody(SubmitBody):
    webhook_url: str | None = Field(
        None, max_length=2000, description="Called (signed, Standard Webhooks) when the job ends: "
        "generation.succeeded, generation.failed or generation.canceled. See the webhooks docs.")


class RedeemBody(Schema):
    code: str = Field(min_length=1, max_length=64, examples=["K7QM-3XRP-9WHT-4NBV"])


class ModelsQuery(Schema):
    modality: str | None = Field(None, description="image, video, music, speech or text")


class GenerationsQuery(Schema):
    limit: int = Field(20, ge=1, le=100)
    status: str | None = None


def webhook_url_clean(url: str) -> str:
    """A webhook_url we may deliver to: http(s), every address it resolves to public. Checked
    before anything is held (the name lookup can take a moment); deliveries check it again."""
    url = url.strip()
    try:
        if not url.startswith(("https://", "http://")):
            raise FetchRefused("only http(s) URLs are called")
        check_url(url)
    except FetchRefused as exc:
        raise invalid(f"The webhook URL is refused: {exc}.", param="webhook_url", code="invalid_webhook_url") from None
    return url


def request_webhook(generation, url: str, created: bool) -> None:
    """Hand a request's webhook_url to whoever delivers webhooks (apps.webhooks subscribes)."""
    if not webhook_requested.has_listeners():
        raise invalid("Webhooks are not enabled on this server.", param="webhook_url")
    webhook_requested.send(sender=None, generation=generation, url=url, created=created)


def submit_with_webhook(submit, webhook_url):
    """`submit()` (-> (generation, created)) with the request's webhook_url, if any, registered in
    the same transaction: the job is enqueued on commit, so it cannot end before its hook exists,
    and a refused webhook_url rolls the submission and its hold back. A submission the services
    refuse keeps what they wrote on refusing (a content-filter record): their error is re-raised
    after the commit, not through it."""
    if webhook_url is None:
        return submit()
    if not isinstance(webhook_url, str):
        raise invalid("webhook_url must be a URL.", param="webhook_url", code="invalid_webhook_url")
    url = webhook_url_clean(webhook_url)
    refused = None
    with transaction.atomic():
        try:
            generation, created = submit()
        except ApplicationError as exc:
            refused = exc
        else:
            request_webhook(generation, url, created)
    if refused is not None:
        raise refused
    return generation, created


def _submission(request, body: SubmitBody):
    extra = sorted(body.model_extra or {})
    if extra:
        raise ApiError("invalid_request", 'The body is {"model": ..., "params": {...}}; model parameters go '
                       "inside params.", fields={name: ["Unknown top-level key; put it inside params."]
                                                 for name in extra}, param=extra[0])
    return resolve_model(body.model.strip(), request), body.params


# ---- catalog (public: no key needed) ----------------------------------------------------------
@router.get("/models", auth=None, summary="List models (OpenAI list format)")
def models_list(request, query: Query[ModelsQuery]):
    """Every enabled model; `?modality=` narrows it. With a key, only the models it may use."""
    if query.modality and query.modality not in Modality.values:
        raise invalid(f"modality must be one of: {', '.join(Modality.values)}.", param="modality")
    optional_principal(request)
    models = visible_models(request, [query.modality] if query.modality else None)
    return JsonResponse({"object": "list", "data": [model_list_item(m) for m in models]})


@router.get("/models/{path:model_id}", auth=None, summary="One model: schema, pricing, routes")
def model_get(request, model_id: str):
    optional_principal(request)
    return JsonResponse(model_detail(resolve_model(model_id, request)))


@router.post("/quote", auth=None, summary="The exact price a submit would hold")
def quote(request, body: SubmitBody):
    model, params = _submission(request, body)
    quoted = generation_quote(model=model, raw_params=params)
    return JsonResponse({"object": "quote", "model": model.slug, "price": credits(quoted.price),
                         "currency": "credits", "params": quoted.params})


# ---- generations ------------------------------------------------------------------------------
@router.post("/generations", summary="Submit a generation", response={202: dict, 200: dict})
def generations_create(request, body: GenerationBody):
    return idempotent(request, lambda: _generations_create(request, body))


def _generations_create(request, body: GenerationBody):
    model, params = _submission(request, body)
    key = idempotency_key(request)
    principal = request.auth
    generation, created = submit_with_webhook(lambda: generation_submit(
        user=principal.user, workspace=principal.workspace, model=model, raw_params=params, source="api",
        api_key_id=principal.key_id,
        budget_id=principal.budget_id,
        # Namespaced so an API key can never replay a web form submission, or the reverse.
        idempotency_key=f"api:{key}" if key else None,
    ), body.webhook_url)
    if created:
        payload = generation_json(generation, fresh=True)
    else:
        payload = generation_json(generation_for_workspace(workspace_id=principal.workspace.pk,
                                                           generation_id=generation.pk))
    response = JsonResponse(payload, status=202 if created else 200)
    response["Location"] = f"/v1/generations/{generation.pk}"
    if not created:
        response["Idempotent-Replayed"] = "true"
    return response


@router.get("/generations", summary="Recent generations of the key's workspace")
def generations_list(request, query: Query[GenerationsQuery]):
    rows = generations_of_workspace(workspace_id=request.auth.workspace.pk, status=query.status, limit=query.limit)
    return JsonResponse({"object": "list", "data": [generation_json(g) for g in rows]})


def own_generation(request, generation_id):
    generation = generation_for_workspace(workspace_id=request.auth.workspace.pk, generation_id=generation_id)
    if generation is None:
        raise not_found("generation")
    return generation


@router.get("/generations/{generation_id}", summary="A generation's status and outputs")
def generation_get(request, generation_id: str):
    return JsonResponse(generation_json(own_generation(request, generation_id)))


@router.post("/generations/{generation_id}/cancel", summary="Cancel a pending generation")
def generation_cancel_view(request, generation_id: str):
    generation = own_generation(request, generation_id)
    if not generation_cancel(generation=generation):
        raise ApiError("generation_finished", "This generation has already finished.", kind=Kind.CONFLICT)
    return JsonResponse(generation_json(own_generation(request, generation_id)))


# ---- account ----------------------------------------------------------------------------------
def _balance_fields(workspace) -> dict:
    summary = wallet_summary(workspace=workspace)
    if summary is None:
        raise not_found("wallet")
    return {"currency": "credits", "balance": credits(summary.balance), "held": credits(summary.held),
            "available": credits(summary.available)}


def _workspace(workspace) -> dict:
    return {"id": workspace.pk, "name": workspace.name, "kind": workspace.kind}


UPLOAD_FORM = {"requestBody": {"content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file"],
    "properties": {"file": {"type": "string", "format": "binary",
                            "description": "An image (PNG, JPEG, WebP, GIF), a video (MP4, MOV, WebM) or audio "
                                           "(MP3, WAV, OGG, FLAC, M4A); typed by its content, not its name."}}}}}}}


@router.post("/uploads", summary="Upload an input file; any image, video or audio field takes its url",
             response={201: dict}, openapi_extra=UPLOAD_FORM)
def uploads_create(request):
    """The studio's upload, for programs: stored in the key's workspace, answered with an Atelier
    URL that every input field takes (read from storage when a job runs, never fetched)."""
    file = request.FILES.get("file") if (request.content_type or "").startswith("multipart/form-data") else None
    if file is None:
        raise invalid("Send the file as multipart/form-data in a field named file.", param="file")
    principal = request.auth
    item = upload_create(user=principal.user, workspace=principal.workspace, file=file)
    return JsonResponse({
        "id": str(item.pk), "object": "upload", "url": upload_url(item), "kind": item.kind, "mime": item.mime,
        "filename": item.original_name, "bytes": item.size_bytes, "width": item.width, "height": item.height,
        "duration": item.duration, "created_at": int(item.created_at.timestamp()),
    }, status=201)


@router.get("/balance", summary="Balance of the key's workspace", auth=account_auth("account:balance"))
def balance(request):
    workspace = request.auth.workspace
    return JsonResponse({"object": "balance", "workspace": _workspace(workspace), **_balance_fields(workspace)})


@router.post("/redeem", summary="Redeem a code into the key's workspace", response={201: dict},
             auth=KeyAuth(permission=None))
def redeem(request, body: RedeemBody):
    principal = request.auth
    redemption = wallet_redeem(user=principal.user, wallet=principal.wallet, code=body.code)
    return JsonResponse({"object": "redemption", "code": redemption.code.code,
                         "credits": credits(redemption.entry.amount), "workspace": _workspace(principal.workspace),
                         **_balance_fields(principal.workspace)}, status=201)

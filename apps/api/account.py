"""pollinations' account endpoints at the site root (reference 002), in Atelier's terms.

Each needs its `account:*` permission on the key (403 permission_denied otherwise):
- GET /account/balance (account:balance): {"balance"}: the key's remaining budget when it has a
  credit limit (the smaller of lifetime and this month's), else the available credits of the
  key's workspace wallet (balance minus holds). Credits never expire, there is no daily reset.
- GET /account/profile (account:profile): name, email, githubUsername (null: Atelier has no
  GitHub login), tier (the workspace's plan), createdAt, nextResetAt (null: nothing resets).
- GET /account/usage (account:usage): pollinations' record fields for each charged generation of
  the workspace, newest first, timestamps `YYYY-MM-DD HH:mm:ss` (UTC), and `count`; filters
  start/end (dates or ISO times; an end date counts whole), model, api_key (id or prefix) and
  limit; totals by model and by key; CSV with format=csv. Token fields count what Atelier meters:
  text tokens from the upstream's usage, one output image token per image (pollinations' rule),
  one output audio token per audio file, input image tokens as input images; cost_usd takes
  1 credit as 1 US cent, cost_credits is the exact charge."""
from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Literal

from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from ninja import Query, Router, Schema
from pydantic import ConfigDict, Field

from apps.generations.models import Generation
from apps.generations.selectors import api_key_spend, generations_usage
from apps.wallet.selectors import wallet_summary

from .auth import account_auth
from .errors import invalid, not_found
from .models import ApiKey
from .presenters import credits

router = Router(tags=["pollinations account"])

USAGE_FIELDS = ["timestamp", "type", "model", "api_key", "api_key_type", "meter_source", "input_text_tokens",
                "input_cached_tokens", "input_audio_tokens", "input_image_tokens", "output_text_tokens",
                "output_reasoning_tokens", "output_audio_tokens", "output_image_tokens", "cost_usd", "response_time_ms",
                "cost_credits", "generation_id"]
TYPES = {"image": "generate.image", "video": "generate.video", "music": "generate.audio",
         "speech": "generate.audio", "text": "generate.text"}


def _number(milli: int) -> float | int:
    value = Decimal(milli) / 1000
    return int(value) if value == value.to_integral_value() else float(value)


def key_budget_left(principal) -> int | None:
    """Millicredits the key may still spend, or None when it has no credit limit."""
    left = []
    if principal.credit_limit is not None:
        left.append(principal.credit_limit - api_key_spend(api_key_id=principal.key_id))
    if principal.monthly_credit_limit is not None:
        month = timezone.now().replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        left.append(principal.monthly_credit_limit - api_key_spend(api_key_id=principal.key_id, since=month))
    return max(0, min(left)) if left else None


@router.get("/account/balance", auth=account_auth("account:balance"), summary="Remaining credits")
def balance(request):
    principal = request.auth
    budget = key_budget_left(principal)
    if budget is not None:
        return JsonResponse({"balance": _number(budget), "currency": "credits", "source": "key_budget"})
    summary = wallet_summary(workspace=principal.workspace)
    if summary is None:
        raise not_found("wallet")
    return JsonResponse({"balance": _number(summary.available), "currency": "credits", "source": "wallet",
                         "held": _number(summary.held)})


@router.get("/account/profile", auth=account_auth("account:profile"), summary="The key owner's profile")
def profile(request):
    principal = request.auth
    user = principal.user
    return JsonResponse({
        "name": user.get_full_name() or None, "email": user.email, "githubUsername": None,
        "tier": principal.plan.name, "createdAt": user.date_joined.isoformat(), "nextResetAt": None,
        "workspace": {"id": principal.workspace.pk, "name": principal.workspace.name,
                      "kind": principal.workspace.kind},
    })


class UsageQuery(Schema):
    model_config = ConfigDict(populate_by_name=True)

    format: Literal["json", "csv"] = "json"
    start: str | None = Field(None, max_length=40, description="YYYY-MM-DD or an ISO time (UTC)")
    end: str | None = Field(None, max_length=40, description="YYYY-MM-DD (the whole day) or an ISO time")
    model: str | None = Field(None, max_length=200)
    api_key: str | None = Field(None, max_length=40, description="A key's id or its prefix")
    limit: int = Field(100, ge=1, le=10_000)


def _moment(text: str | None, name: str, *, end: bool = False) -> datetime | None:
    if not text:
        return None
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime.combine(day + timedelta(days=1) if end else day, time(), tzinfo=UTC)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise invalid(f"{name} is YYYY-MM-DD or an ISO date and time.", param=name) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _key_filter(workspace_id: int, text: str | None) -> int | None:
    if not text:
        return None
    keys = ApiKey.objects.filter(workspace_id=workspace_id)
    key = keys.filter(pk=int(text)).first() if text.isdigit() else keys.filter(prefix=text.rstrip("…")).first()
    if key is None:
        raise not_found("API key")
    return key.pk


def _input_images(params: dict) -> int:
    count = 0
    for name, value in params.items():
        if "image" in name and isinstance(value, str) and value:
            count += 1
        elif "image" in name and isinstance(value, list):
            count += len(value)
    return count


def usage_record(generation: Generation, keys: dict, meter: str) -> dict:
    usage = generation.usage or {}
    outputs = list(generation.outputs.all())
    key = keys.get(generation.api_key_id)
    finished = generation.finished_at or generation.created_at
    charged = generation.charged or 0
    return {
        "timestamp": finished.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),
        "type": TYPES.get(generation.model.modality, "generate"),
        "model": generation.model.slug,
        "api_key": f"{key[0]}…" if key else None,
        "api_key_type": key[1] if key else None,
        "meter_source": meter,
        "input_text_tokens": int(usage.get("input_tokens", 0) or 0),
        "input_cached_tokens": int(usage.get("cached_tokens", 0) or 0),
        "input_audio_tokens": 0,
        "input_image_tokens": _input_images(generation.params),
        "output_text_tokens": int(usage.get("output_tokens", 0) or 0),
        "output_reasoning_tokens": int(usage.get("reasoning_tokens", 0) or 0),
        "output_audio_tokens": sum(1 for o in outputs if o.kind == "audio"),
        "output_image_tokens": sum(1 for o in outputs if o.kind == "image"),
        "cost_usd": float(Decimal(charged) / 100_000),
        "response_time_ms": int((finished - generation.created_at).total_seconds() * 1000),
        "cost_credits": credits(charged),
        "generation_id": str(generation.pk),
    }


def _totals(records: list[dict], field: str) -> dict:
    totals: dict = {}
    for record in records:
        entry = totals.setdefault(record[field] or "web", {"count": 0, "cost_credits": Decimal(0)})
        entry["count"] += 1
        entry["cost_credits"] += Decimal(record["cost_credits"] or "0")
    return {name: {"count": t["count"], "cost_credits": str(t["cost_credits"])} for name, t in totals.items()}


@router.get("/account/usage", auth=account_auth("account:usage"), summary="Usage history (JSON or CSV)")
def usage(request, query: Query[UsageQuery]):
    principal = request.auth
    workspace = principal.workspace
    start, end = _moment(query.start, "start"), _moment(query.end, "end", end=True)
    if start and end and start >= end:
        raise invalid("start must be before end.", param="start")
    rows = generations_usage(workspace_id=workspace.pk, start=start, end=end, model=(query.model or "").strip(),
                             api_key_id=_key_filter(workspace.pk, query.api_key), limit=query.limit)
    ids = {g.api_key_id for g in rows if g.api_key_id}
    keys = {k.pk: (k.prefix, k.kind) for k in ApiKey.objects.filter(pk__in=ids)}
    records = [usage_record(g, keys, workspace.kind) for g in rows]
    if query.format == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=USAGE_FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(records)
        response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="usage.csv"'
        return response
    return JsonResponse({"usage": records, "count": len(records), "by_model": _totals(records, "model"),
                         "by_key": _totals(records, "api_key")})

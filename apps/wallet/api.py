"""POST /v1/redeem: redeem a code into the API key's workspace. Mounted by apps/api/urls.py
and built on the API's decorator, so errors come back in the API's shape and codes."""
from django.http import JsonResponse

from apps.api.errors import ApiError
from apps.api.presenters import credits
from apps.api.views import _json_body, api_view

from .errors import RedemptionError
from .models import Wallet
from .selectors import wallet_summary
from .services import wallet_redeem


@api_view("POST")
def redeem(request):
    body = _json_body(request)
    code = body.get("code")
    if not isinstance(code, str) or not code.strip():
        raise ApiError("invalid_request", "Send {\"code\": \"K7QM-3XRP-9WHT-4NBV\"}.", fields={"code": ["Required."]})
    key = request.api_key
    wallet = Wallet.objects.get(workspace=key.workspace)
    try:
        redemption = wallet_redeem(user=key.user, wallet=wallet, code=code)
    except RedemptionError as exc:
        raise ApiError(exc.code, exc.message, status=exc.status) from None
    summary = wallet_summary(workspace=key.workspace)
    return JsonResponse({
        "object": "redemption",
        "code": redemption.code.code,
        "credits": credits(redemption.entry.amount),
        "workspace": {"id": key.workspace.pk, "name": key.workspace.name, "kind": key.workspace.kind},
        "balance": credits(summary.balance),
        "held": credits(summary.held),
        "available": credits(summary.available),
    }, status=201)

"""The wallet page of the current workspace: balance, held, available, the ledger with
filters and CSV export, and the redeem form. Thin views over selectors and services."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from apps.accounts.services import workspace_for_user
from apps.catalog.models import AIModel
from apps.catalog.money import format_credits
from apps.core.http import csv_download

from .errors import RedemptionError
from .models import LedgerEntry, Wallet
from .selectors import ledger_csv_rows, ledger_entries, ledger_filters_from, wallet_summary
from .services import wallet_redeem

PAGE_SIZE = 50


def _workspace_or_404(request):
    workspace = workspace_for_user(user=request.user)
    if workspace is None:
        raise Http404
    return workspace


@login_required
def wallet_page(request):
    workspace = _workspace_or_404(request)
    filters = ledger_filters_from(request.GET)
    page = Paginator(ledger_entries(workspace=workspace, filters=filters), PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "summary": wallet_summary(workspace=workspace),
        "page": page,
        "filters": filters,
        "query": query.urlencode(),
        "kinds": LedgerEntry.Kind.choices,
        "members": workspace.memberships.select_related("user").order_by("user__email"),
        "models": AIModel.objects.filter(generations__workspace=workspace).distinct().order_by("name"),
    }
    template = "wallet/wallet.html#ledger" if request.htmx else "wallet/wallet.html"
    return render(request, template, context)


@login_required
def ledger_csv(request):
    workspace = _workspace_or_404(request)
    entries = ledger_entries(workspace=workspace, filters=ledger_filters_from(request.GET))
    return csv_download(ledger_csv_rows(entries), f"atelier-ledger-{workspace.pk}.csv")


@login_required
@require_POST
def redeem(request):
    workspace = _workspace_or_404(request)
    wallet = Wallet.objects.get(workspace=workspace)
    try:
        redemption = wallet_redeem(user=request.user, wallet=wallet, code=request.POST.get("code", ""))
    except RedemptionError as exc:
        messages.error(request, exc.message)  # people read the sentence; the code is for API clients
        return redirect("wallet:page")
    messages.success(request, f"Redeemed: {format_credits(redemption.entry.amount)} credits added to {workspace.name}.")
    return redirect("wallet:page")

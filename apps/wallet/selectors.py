from dataclasses import dataclass
from datetime import date

from apps.catalog.money import format_credits

from .models import LedgerEntry, MemberCap, MemberSpend, Wallet


@dataclass(frozen=True)
class WalletSummary:
    balance: int
    held: int

    @property
    def available(self) -> int:
        return self.balance - self.held

    @property
    def available_display(self) -> str:
        return format_credits(self.available)

    @property
    def balance_display(self) -> str:
        return format_credits(self.balance)

    @property
    def held_display(self) -> str:
        return format_credits(self.held)


def wallet_summary(*, workspace) -> WalletSummary | None:
    row = Wallet.objects.filter(workspace=workspace).values_list("balance", "held").first()
    return WalletSummary(*row) if row else None


def member_spend_this_month(*, workspace) -> list[dict]:
    """Per member of the workspace: role, cap and what they committed from its wallet this
    month (held + captured), for the team page."""
    from .services import month_start

    spent = dict(
        MemberSpend.objects.filter(wallet__workspace=workspace, month=month_start()).values_list("member_id", "amount")
    )
    caps = dict(MemberCap.objects.filter(wallet__workspace=workspace).values_list("member_id", "monthly_cap"))
    rows = []
    for membership in workspace.memberships.select_related("user").order_by("joined_at", "pk"):
        amount, cap = spent.get(membership.user_id, 0), caps.get(membership.user_id)
        rows.append({
            "membership": membership, "user": membership.user, "spent": amount, "cap": cap,
            "percent": min(100, round(amount * 100 / cap)) if cap else None,
        })
    return rows


def member_cap(*, workspace, user) -> int | None:
    caps = MemberCap.objects.filter(wallet__workspace=workspace, member=user)
    return caps.values_list("monthly_cap", flat=True).first()


@dataclass(frozen=True)
class LedgerFilters:
    kind: str = ""
    date_from: date | None = None
    date_to: date | None = None
    member: int | None = None
    model: str = ""


def ledger_filters_from(query) -> LedgerFilters:
    """Read filters from a QueryDict; anything malformed is ignored rather than an error page."""
    def day(name):
        try:
            return date.fromisoformat(query.get(name, ""))
        except ValueError:
            return None

    kind = query.get("kind", "")
    member = query.get("member", "")
    return LedgerFilters(
        kind=kind if kind in LedgerEntry.Kind.values else "",
        date_from=day("from"),
        date_to=day("to"),
        member=int(member) if member.isdigit() else None,
        model=query.get("model", "")[:120],
    )


def ledger_entries(*, workspace, filters: LedgerFilters):
    qs = (
        LedgerEntry.objects.filter(wallet__workspace=workspace)
        .select_related("actor", "generation__model")
        .order_by("-id")
    )
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.date_from:
        qs = qs.filter(created_at__date__gte=filters.date_from)
    if filters.date_to:
        qs = qs.filter(created_at__date__lte=filters.date_to)
    if filters.member:
        qs = qs.filter(actor_id=filters.member)
    if filters.model:
        qs = qs.filter(generation__model__slug=filters.model)
    return qs


def ledger_csv_rows(entries):
    yield ["id", "created_at", "kind", "amount_credits", "held_delta_credits", "balance_after_credits",
           "held_after_credits", "member", "model", "generation", "reason"]
    for entry in entries.iterator(chunk_size=2000):
        yield [
            entry.pk, entry.created_at.isoformat(), entry.kind, format_credits(entry.amount),
            format_credits(entry.held_delta), format_credits(entry.balance_after), format_credits(entry.held_after),
            entry.actor.email if entry.actor else "", entry.generation.model.slug if entry.generation else "",
            entry.generation_id or "", entry.reason,
        ]


def member_cap_remaining(*, workspace, member) -> int | None:
    """Millicredits the member may still commit from the workspace's pool this month under
    their cap (MemberCap), or None when they have no cap."""
    from .services import month_start

    cap = member_cap(workspace=workspace, user=member)
    if cap is None:
        return None
    spent = (MemberSpend.objects.filter(wallet__workspace=workspace, member=member, month=month_start())
             .values_list("amount", flat=True).first()) or 0
    return max(0, cap - spent)

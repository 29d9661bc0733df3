"""Spend per day by model, from the ledger: captures (what jobs were charged) minus refunds.

The chart is drawn server-side as SVG geometry computed here (no chart library, no CDN):
one stacked bar per day, one colour per model (the biggest spenders; the rest as "Other")."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from datetime import timezone as dt_timezone

from django.db.models import Count, F, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from apps.wallet.models import LedgerEntry
from apps.wallet.money import format_credits

RANGES = (7, 30, 90)
TOP_MODELS = 7
# Distinct hues with at least 3:1 contrast against the white chart background.
PALETTE = ["#4b3cc4", "#c2410c", "#0f766e", "#be185d", "#1d4ed8", "#4d7c0f", "#7c2d12", "#6b6b70"]
CHART = {"width": 720, "height": 240, "left": 48, "bottom": 28, "top": 12}


@dataclass
class UsageRow:
    day: date
    model: str
    slug: str
    jobs: int
    spent: int  # millicredits


@dataclass
class Usage:
    days: int
    since: date
    until: date
    rows: list[UsageRow]
    total: int
    series: list[dict] = field(default_factory=list)  # legend: name, colour, total
    bars: list[dict] = field(default_factory=list)  # per day: x, label, segments
    ticks: list[dict] = field(default_factory=list)  # y axis


def usage_rows(*, workspace, since: date, until: date) -> list[UsageRow]:
    start = datetime.combine(since, time.min, tzinfo=dt_timezone.utc)
    end = datetime.combine(until + timedelta(days=1), time.min, tzinfo=dt_timezone.utc)
    entries = (LedgerEntry.objects.filter(wallet__workspace=workspace, created_at__gte=start, created_at__lt=end,
                                          kind__in=[LedgerEntry.Kind.CAPTURE, LedgerEntry.Kind.REFUND],
                                          generation__isnull=False)
               .annotate(day=TruncDate("created_at", tzinfo=dt_timezone.utc))
               .values("day", name=F("generation__model__name"), slug=F("generation__model__slug"))
               .annotate(amount=Sum("amount"), jobs=Count("id", filter=Q(kind=LedgerEntry.Kind.CAPTURE)))
               .order_by("day", "name"))
    # Captures move the balance down (negative amounts), refunds up: spend is the negation.
    return [UsageRow(day=row["day"], model=row["name"], slug=row["slug"], jobs=row["jobs"], spent=-row["amount"])
            for row in entries if row["amount"]]


def _nice_ceiling(value: int) -> int:
    """A round axis maximum (in millicredits) at or above `value`."""
    if value <= 0:
        return 1000
    step = 1000
    while step * 10 < value:
        step *= 10
    for factor in (1, 2, 5, 10):
        if step * factor >= value:
            return step * factor
    return step * 10


def workspace_usage(*, workspace, days: int, today: date | None = None) -> Usage:
    until = today or timezone.now().date()
    since = until - timedelta(days=days - 1)
    rows = usage_rows(workspace=workspace, since=since, until=until)
    per_model: dict[str, int] = {}
    for row in rows:
        per_model[row.model] = per_model.get(row.model, 0) + row.spent
    ranked = sorted(per_model, key=lambda name: -per_model[name])
    shown = ranked[:TOP_MODELS]
    colours = {name: PALETTE[index] for index, name in enumerate(shown)}
    other = sum(per_model[name] for name in ranked[TOP_MODELS:])
    series = [{"name": name, "colour": colours[name], "total": format_credits(per_model[name])} for name in shown]
    if other:
        series.append({"name": "Other models", "colour": PALETTE[-1], "total": format_credits(other)})
    usage = Usage(days=days, since=since, until=until, rows=rows, total=sum(per_model.values()), series=series)
    _chart(usage, colours)
    return usage


def _chart(usage: Usage, colours: dict[str, str]) -> None:
    by_day: dict[date, dict[str, int]] = {}
    for row in usage.rows:
        name = row.model if row.model in colours else "Other models"
        day = by_day.setdefault(row.day, {})
        day[name] = day.get(name, 0) + row.spent
    peak = _nice_ceiling(max((sum(v for v in day.values() if v > 0) for day in by_day.values()), default=0))
    plot_w = CHART["width"] - CHART["left"] - 8
    plot_h = CHART["height"] - CHART["bottom"] - CHART["top"]
    slot = plot_w / usage.days
    width = max(2.0, slot * 0.7)
    for index in range(usage.days):
        day = usage.since + timedelta(days=index)
        x = CHART["left"] + index * slot + (slot - width) / 2
        y = CHART["top"] + plot_h
        segments = []
        for name, amount in sorted(by_day.get(day, {}).items(), key=lambda item: -item[1]):
            if amount <= 0:
                continue
            height = plot_h * amount / peak
            y -= height
            segments.append({"y": round(y, 1), "height": round(height, 1), "name": name,
                             "colour": colours.get(name, PALETTE[-1]), "credits": format_credits(amount)})
        label = day.strftime("%d %b") if usage.days <= 7 or index % max(1, usage.days // 6) == 0 else ""
        usage.bars.append({"x": round(x, 1), "width": round(width, 1), "day": day, "label": label,
                           "label_x": round(x + width / 2, 1), "segments": segments})
    for step in range(5):
        value = peak * step // 4
        usage.ticks.append({"y": round(CHART["top"] + plot_h - plot_h * step / 4, 1), "label": format_credits(value)})


def usage_csv_rows(usage: Usage):
    yield ["date", "model", "model_id", "jobs", "credits"]
    for row in usage.rows:
        yield [row.day.isoformat(), row.model, row.slug, row.jobs, format_credits(row.spent)]

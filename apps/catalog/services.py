from dataclasses import dataclass
from datetime import date

from django.db import transaction
from django.utils import timezone

from .cache import cached_model_index
from .models import AIModel, Channel, ModelRoute, Modality
from .pricing import quote
from .schema import check_schema, validate_params

CATALOG_FIELDS = ("name", "vendor", "modality", "description", "capabilities", "schema", "pricing", "limits",
                  "aliases", "is_local", "sort_order", "checked_at", "checked_note", "retired_at")
DATE_FIELDS = ("checked_at", "retired_at")


@dataclass
class SyncResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def changed(self) -> int:
        return self.created + self.updated


SAMPLE_TEXT = "a sample prompt"
REQUIRED_KEYS = {"slug", "name", "vendor", "modality", "description", "capabilities", "schema", "pricing", "routes"}


def catalog_sample_params(schema: dict) -> dict:
    """The smallest request that is valid for a schema: its required fields (from their
    `example`, or a sample text) and the first field of each `one_of` rule. Every other
    field keeps its default. Used by catalog checks, API examples and tests."""
    fields = {spec["name"]: spec for spec in schema.get("fields", [])}
    wanted = [name for name, spec in fields.items() if spec.get("required")]
    for rule in schema.get("rules", []):
        if rule.get("one_of") and not rule.get("if"):
            wanted.append(rule["one_of"][0])
    sample = {}
    for name in wanted:
        spec = fields[name]
        if "example" in spec:
            sample[name] = spec["example"]
        elif spec["type"] in {"text", "string"}:
            sample[name] = SAMPLE_TEXT
    return sample


def catalog_check_entry(entry: dict) -> list[str]:
    """Problems with one catalog entry: its shape, schema, defaults, quote and routes."""
    slug = entry.get("slug", "?")
    missing = REQUIRED_KEYS - set(entry)
    if missing:
        return [f"{slug}: missing keys {sorted(missing)}"]
    problems = [f"{slug}: {p}" for p in check_schema(entry["schema"])]
    if entry["modality"] not in Modality.values:
        problems.append(f"{slug}: unknown modality {entry['modality']!r}")
    if not entry["routes"]:
        problems.append(f"{slug}: no routes")
    adapters = [r["adapter"] for r in entry["routes"]]
    if len(adapters) != len(set(adapters)):
        problems.append(f"{slug}: two routes for one adapter")
    names = {spec["name"] for spec in entry["schema"].get("fields", [])}
    for route in entry["routes"]:
        for name in route.get("unsupported", []):
            if name not in names:
                problems.append(f"{slug}: route {route['adapter']} marks unknown field {name!r} unsupported")
        for rule in route.get("rules", []):
            if not rule.get("message") or not set(rule.get("if", {})) <= names:
                problems.append(f"{slug}: route {route['adapter']} has a rule without message or on unknown fields")
    for name in DATE_FIELDS:
        if entry.get(name) is not None:
            try:
                date.fromisoformat(str(entry[name]))
            except ValueError:
                problems.append(f"{slug}: {name} {entry[name]!r} is not a YYYY-MM-DD date")
    if problems:
        return problems
    try:
        params = validate_params(entry["schema"], catalog_sample_params(entry["schema"]))
        price = quote(entry["pricing"], params)
        if not isinstance(price, int) or price <= 0:
            problems.append(f"{slug}: quote {price!r} is not a positive integer")
    except Exception as exc:  # reported as a catalog problem, whatever it is
        problems.append(f"{slug}: defaults do not validate or price: {exc}")
    return problems


def catalog_check_names(entries: list[dict]) -> list[str]:
    """Every model id a client may send must name one model: slugs are unique, and an alias is
    neither another entry's alias nor any slug."""
    problems = []
    slugs: dict[str, int] = {}
    for entry in entries:
        slug = entry.get("slug", "?")
        slugs[slug] = slugs.get(slug, 0) + 1
    problems += [f"{slug}: slug used by {count} entries" for slug, count in slugs.items() if count > 1]
    owners: dict[str, str] = {}
    for entry in entries:
        slug = entry.get("slug", "?")
        for alias in entry.get("aliases") or []:
            if alias in slugs:
                problems.append(f"{slug}: alias {alias!r} is a model slug")
            elif alias in owners:
                problems.append(f"{slug}: alias {alias!r} is already an alias of {owners[alias]}")
            else:
                owners[alias] = slug
    return problems


def _values(entry: dict) -> dict:
    values = {name: entry.get(name, AIModel._meta.get_field(name).get_default())  # type: ignore[union-attr]
              for name in CATALOG_FIELDS}
    for name in DATE_FIELDS:
        if values[name] is not None:
            values[name] = date.fromisoformat(str(values[name]))
    return values


@transaction.atomic
def catalog_sync(*, entries: list[dict]) -> SyncResult:
    """Create or update models from catalog data. Admin-owned fields (enabled, price_override) are kept."""
    result = SyncResult()
    problems = catalog_check_names(entries) + [p for entry in entries for p in catalog_check_entry(entry)]
    if problems:
        raise ValueError("Catalog data is invalid:\n" + "\n".join(problems))
    Channel.objects.get_or_create(name="Sandbox", defaults={"adapter": "sandbox", "priority": -100})
    # Two reads and bulk writes: tests load the whole catalog often, so one query per model adds up.
    now = timezone.now()
    existing = {model.slug: model for model in AIModel.objects.all()}
    fresh, changed = [], []
    for entry in entries:
        values = _values(entry)
        model = existing.get(entry["slug"])
        if model is None:
            fresh.append(AIModel(slug=entry["slug"], synced_at=now, **values))
        elif any(getattr(model, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(model, name, value)
            model.synced_at = now
            changed.append(model)
        else:
            result.unchanged += 1
    AIModel.objects.bulk_create(fresh)
    if changed:
        AIModel.objects.bulk_update(changed, [*CATALOG_FIELDS, "synced_at"])
    result.created, result.updated = len(fresh), len(changed)
    ids = dict(AIModel.objects.filter(slug__in=[e["slug"] for e in entries]).values_list("slug", "pk"))
    _sync_routes(entries, ids)
    return result


def _sync_routes(entries: list[dict], ids: dict[str, int]):
    current = {(r.model_id, r.adapter): r for r in ModelRoute.objects.filter(model_id__in=ids.values())}
    wanted, create, update = set(), [], []
    for entry in entries:
        model_id = ids[entry["slug"]]
        for route in entry.get("routes", []):
            key = (model_id, route["adapter"])
            wanted.add(key)
            values = {"upstream_model": route["model"], "unsupported": route.get("unsupported", []),
                      "rules": route.get("rules", [])}
            row = current.get(key)
            if row is None:
                create.append(ModelRoute(model_id=model_id, adapter=route["adapter"], **values))
            elif any(getattr(row, k) != v for k, v in values.items()):
                for k, v in values.items():
                    setattr(row, k, v)
                update.append(row)
    ModelRoute.objects.bulk_create(create)
    if update:
        ModelRoute.objects.bulk_update(update, ["upstream_model", "unsupported", "rules"])
    stale = [row.pk for key, row in current.items() if key not in wanted]
    if stale:
        ModelRoute.objects.filter(pk__in=stale).delete()


def model_find(*, slug_or_alias: str, include_disabled: bool = False,
               include_retired: bool = False) -> AIModel | None:
    """The model a client names by slug or alias, from the per-process catalog cache (no query
    on a warm cache: the API calls this on every request). The instance is shared: read only.
    Disabled and retired models are not found unless asked for."""
    model = cached_model_index().get(slug_or_alias) if isinstance(slug_or_alias, str) else None
    if model is None:
        return None
    if not model.enabled and not include_disabled:
        return None
    if model.retired_at is not None and not include_retired:
        return None
    return model

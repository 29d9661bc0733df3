"""Helpers shared by the studio views: the "is this yours" edge, download names, and which
models can take a result as their input ("use as input")."""
from __future__ import annotations

import re
import unicodedata

from django.core.cache import cache
from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404

from apps.accounts.services import workspace_for_user
from apps.catalog.models import AIModel

from .forms import accepts


def mine(selector, **kwargs):
    """Call an `*_get_for_user` selector; anything not the user's is a 404 (never a 403)."""
    try:
        return selector(**kwargs)
    except ObjectDoesNotExist:
        raise Http404("Not found.") from None


def current_workspace(request):
    workspace = workspace_for_user(user=request.user)
    if workspace is None:
        raise Http404("No workspace.")
    return workspace


def _slug(text: str, limit: int = 60) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-zA-Z0-9]+", "-", ascii_text).strip("-").lower()
    return slug[:limit].rstrip("-")


def download_name(generation, output, *, numbered: bool) -> str:
    """'a-lighthouse-in-fog-2.webp': named after the prompt (else the model), numbered when
    the job made several files, with the stored file's extension."""
    base = _slug(generation.prompt or (output.meta or {}).get("title", "")) or generation.model.slug
    extension = output.file.name.rsplit(".", 1)[-1] if "." in output.file.name else "bin"
    return f"{base}-{output.index + 1}.{extension}" if numbered else f"{base}.{extension}"


def zip_name(generation) -> str:
    return f"{_slug(generation.prompt) or generation.model.slug}.zip"


# ---- use as input ---------------------------------------------------------------------------
USE_ACTIONS = {
    "image": [("video", "Animate", "Animate this image into a video"),
              ("image", "Edit", "Edit this image or use it as a reference")],
    "video": [("video", "Use in a video model", "Use this clip as reference media")],
    "audio": [("video", "Make a video to it", "Use this track in a video model")],
}
TARGETS_CACHE_SECONDS = 300


def input_targets() -> dict[tuple[str, str], list[int]]:
    """{(target modality, input kind): [model ids]} over the enabled catalog; cached."""
    key = "studio:input-targets"
    targets = cache.get(key)
    if targets is None:
        targets = {}
        for pk, modality, schema in AIModel.objects.filter(enabled=True).values_list("pk", "modality", "schema"):
            for kind in ("image", "video", "audio"):
                if any(accepts(spec, kind) for spec in schema.get("fields", [])):
                    targets.setdefault((modality, kind), []).append(pk)
        cache.set(key, targets, TARGETS_CACHE_SECONDS)
    return targets


def use_actions(kind: str) -> list[dict]:
    """The "use as input" actions a result of `kind` offers: only those some model can take."""
    targets = input_targets()
    return [{"modality": modality, "label": label, "title": title}
            for modality, label, title in USE_ACTIONS.get(kind, []) if targets.get((modality, kind))]

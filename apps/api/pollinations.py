"""pollinations.ai's paths at the site root (reference 002): model listings.

Not under /api/v1, where /api/v1/image/... belongs to reference 003's per-model endpoints."""
from __future__ import annotations

from django.http import JsonResponse
from ninja import Router

from .auth import optional_principal
from .catalog import visible_models
from .presenters import pollinations_item

router = Router(tags=["pollinations"])


@router.get("/image/models", auth=None, summary="Image and video models (pollinations format)")
def image_models(request):
    optional_principal(request)
    return JsonResponse([pollinations_item(m) for m in visible_models(request, ["image", "video"])], safe=False)


@router.get("/text/models", auth=None, summary="Text and speech models (pollinations format)")
def text_models(request):
    """Text models, and the speech models (audio output, with their voices)."""
    optional_principal(request)
    return JsonResponse([pollinations_item(m) for m in visible_models(request, ["text", "speech"])], safe=False)

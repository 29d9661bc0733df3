"""Helpers for tests of stored media: a small PNG, a finished generation with outputs, fetching links."""
from __future__ import annotations

import io
from urllib.parse import urlsplit

from django.utils import timezone
from PIL import Image


def png(color=(200, 40, 40), size=(64, 48)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return buffer.getvalue()


def finished_generation(*, workspace, user, slug: str = "sandbox-image"):
    """A succeeded image generation whose file, thumbnail and web version are in the default storage."""
    from apps.catalog.models import AIModel
    from apps.generations.media import outputs_prepare
    from apps.generations.models import Generation, Output
    from apps.providers.base import OutputFile

    generation = Generation.objects.create(
        workspace=workspace, user=user, model=AIModel.objects.get(slug=slug), params={"prompt": "red"},
        price=1000, charged=1000, status=Generation.Status.SUCCEEDED, deadline_at=timezone.now())
    Output.objects.bulk_create(outputs_prepare(generation=generation, files=[OutputFile(mime="image/png", data=png())]))
    return generation


def fetch(client, url: str):
    """GET a local media URL (absolute or relative) through a Django test client: (response, body bytes)."""
    parts = urlsplit(url)
    response = client.get(f"{parts.path}?{parts.query}" if parts.query else parts.path)
    return response, (b"".join(response.streaming_content) if response.streaming else response.content)

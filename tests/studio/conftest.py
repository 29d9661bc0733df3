import uuid

import pytest

from apps.catalog.models import AIModel
from apps.generations.services import generation_run, generation_submit

HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def logged_in(client, owner, catalog):
    client.force_login(owner)
    return client


@pytest.fixture
def no_enqueue(monkeypatch):
    monkeypatch.setattr("apps.generations.services._enqueue_run", lambda gid, countdown=None: None)
    monkeypatch.setattr("apps.generations.services._enqueue_poll", lambda gid, countdown=None: None)


def form(**values):
    data = {"prompt": "a lighthouse in fog", "size": "1024x1024", "n": "1", "seed": "", "submit_token": uuid.uuid4().hex}
    data.update(values)
    return data


def make_job(user, *, slug="sandbox-image", run=True, workspace=None, source="web", **params):
    """A job of `user` (run in-process unless run=False)."""
    model = AIModel.objects.get(slug=slug)
    raw = {"prompt": "a red fox", "size": "512x512"} if slug == "sandbox-image" else {}
    if not any(spec["name"] == "input" for spec in model.schema["fields"]):
        raw.setdefault("prompt", "a red fox")
    raw.update(params)
    generation, _ = generation_submit(user=user, workspace=workspace or user.current_workspace, model=model,
                                      raw_params=raw, source=source)
    if run:
        generation_run(generation_id=generation.pk)
        generation.refresh_from_db()
    return generation


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Cached reads (alert thresholds, run-time estimates) are keyed by ids that repeat across tests."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()

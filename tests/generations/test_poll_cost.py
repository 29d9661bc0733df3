"""What one status poll costs in queries, and the single-statement claim behind it.

A worker tracking a thousand jobs runs these steps thousands of times a minute (see
bench/engine.py part b); a query added here shows up there."""
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.catalog.models import AIModel, Channel
from apps.generations.models import Generation
from apps.generations.services import _claim, generation_poll, generation_run, generation_submit
from tests.fakes.fixtures import fake_upstream  # noqa: F401

pytestmark = [pytest.mark.pg, pytest.mark.django_db]


@pytest.fixture
def tracked(owner, fake_upstream, monkeypatch):  # noqa: F811
    """A job submitted to the fake Replicate API and still running there."""
    monkeypatch.setattr("apps.generations.services._enqueue_run", lambda gid, countdown=None: None)
    monkeypatch.setattr("apps.generations.services._enqueue_poll", lambda gid, countdown: None)
    fake_upstream.config(job_seconds=60)
    model = AIModel.objects.create(slug="flux-cost", name="FLUX", vendor="BFL", modality="image",
                                   schema={"fields": [{"name": "prompt", "type": "text", "required": True}]},
                                   pricing={"unit": "image", "credits": "2"})
    model.routes.create(adapter="replicate", upstream_model="black-forest-labs/flux-schnell")
    channel = Channel.objects.create(name="replicate", adapter="replicate", base_url=fake_upstream.url + "/v1")
    channel.api_key = "r8_cost_0000"
    channel.save()
    generation = generation_submit(user=owner, workspace=owner.current_workspace, model=model,
                                   raw_params={"prompt": "a harbour"})[0]
    generation_run(generation_id=generation.pk)
    generation.refresh_from_db()
    assert generation.status == "running" and generation.upstream_id
    return generation


def make_due(generation):
    Generation.objects.filter(pk=generation.pk).update(next_check_at=timezone.now())


def test_a_pending_status_poll_costs_two_queries(tracked):
    make_due(tracked)
    generation_poll(generation_id=tracked.pk)  # warms the per-process catalog caches
    make_due(tracked)
    with CaptureQueriesContext(connection) as queries:
        generation_poll(generation_id=tracked.pk)
    # The claim (UPDATE ... RETURNING) and the next check time; nothing else.
    assert len(queries) == 2, [q["sql"] for q in queries]
    tracked.refresh_from_db()
    assert tracked.status == "running" and tracked.poll_count == 2 and tracked.next_check_at > timezone.now()


def test_the_claim_takes_a_due_job_once_and_keeps_its_start_time(tracked):
    started = tracked.started_at
    assert _claim(tracked.pk, from_queued=False) is None  # its next check is in the future
    make_due(tracked)
    claimed = _claim(tracked.pk, from_queued=False)
    assert claimed is not None and claimed.model.slug == "flux-cost" and claimed.started_at == started
    assert claimed.next_check_at > timezone.now()  # leased
    assert _claim(tracked.pk, from_queued=False) is None  # a second claimer gets nothing
    assert _claim(uuid.uuid4(), from_queued=True) is None
    assert _claim("not-a-uuid", from_queued=True) is None


def test_a_finished_job_is_never_claimed_again(tracked):
    Generation.objects.filter(pk=tracked.pk).update(status="failed", next_check_at=None)
    assert _claim(tracked.pk, from_queued=True) is None


@pytest.mark.parametrize("age, progress, expected", [
    (28.0, None, 5.6),    # no progress reported: the age-stretched interval
    (28.0, 50, 22.4),     # half way after 28 s: 28 s to go, but at most 4x the 5.6 s interval
    (10.0, 10, 8.0),      # 10% after 10 s: far from done, 4x the 2 s interval
    (28.0, 93, 2.108),    # 93% after 28 s: done in ~2.1 s, so look then
    (100.0, 99, 5.0),     # sitting at 99%: never sooner than a quarter of the 20 s interval
    (3.0, 90, 1.0),       # never sooner than the upstream's own hint
])
def test_reported_progress_moves_the_next_poll_towards_completion_within_bounds(age, progress, expected):
    from datetime import timedelta

    from apps.generations.services import _poll_delay

    generation = Generation(started_at=timezone.now() - timedelta(seconds=age))
    assert _poll_delay(generation, 1.0, progress) == pytest.approx(expected, abs=0.05)

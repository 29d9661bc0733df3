"""Fair queues: a burst of long jobs from one workspace does not hold up another's quick job,
and one workspace cannot take more than its share of a pool's slots. Judged by order (which
job finished first), never by the clock."""
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.accounts.models import Plan
from apps.accounts.services import user_onboard
from apps.catalog.models import AIModel
from apps.generations import services
from apps.generations.models import Generation
from apps.generations.queues import job_queue, workspace_defer_if_busy
from apps.generations.services import generation_submit
from apps.wallet.models import Wallet
from apps.wallet.services import wallet_grant
from tests.support.worker import WorkerProcess, wait_until


def _user(make_user, email, credits=0):
    user = make_user(email)
    user_onboard(user=user)
    if credits:
        wallet_grant(wallet=Wallet.objects.get(workspace=user.current_workspace), amount=credits, reason="test")
    return user


def _submit(user, slug, prompt, **params):
    return generation_submit(user=user, workspace=user.current_workspace, model=AIModel.objects.get(slug=slug),
                             raw_params={"prompt": prompt, **params})[0]


def test_video_and_music_go_to_the_long_queue_the_rest_to_the_quick_one(db, catalog):
    slugs = {"sandbox-video": "long", "sandbox-music": "long", "sandbox-image": "quick", "sandbox-speech": "quick",
             "sandbox-text": "quick"}
    for slug, queue in slugs.items():
        assert job_queue(Generation(model=AIModel.objects.get(slug=slug))) == queue


@pytest.mark.worker
def test_another_workspace_image_finishes_before_the_tenth_of_200_queued_videos(transactional_db, make_user, catalog):
    busy = _user(make_user, "burst@example.com", credits=50_000_000)
    # The queue's fairness, not the plan's concurrency cap (tests/api/test_keys_and_limits.py), is under test.
    busy.current_workspace.plan = Plan.objects.create(name="Burst", concurrent_video_jobs=None)
    busy.current_workspace.save()
    other = _user(make_user, "other@example.com")
    videos = [_submit(busy, "sandbox-video", f"video {i}", duration=1, resolution="480p").pk for i in range(200)]
    image = _submit(other, "sandbox-image", "a lighthouse", size="512x512")
    assert Generation.objects.filter(status="queued").count() == 201  # all queued before any worker runs
    quick = WorkerProcess(concurrency=1, queues="quick")
    long = WorkerProcess(concurrency=1, queues="long")
    try:
        done = wait_until(lambda: Generation.objects.filter(pk=image.pk, status="succeeded").first(), timeout=120,
                          message=f"the image job\n{quick.log()}")
        finished_before = Generation.objects.filter(pk__in=videos, status__in=Generation.FINAL,
                                                    finished_at__lte=done.finished_at).count()
        assert finished_before < 10, finished_before
    finally:
        quick.stop()
        long.stop()
    # Both pools were really working: the long worker took the video burst meanwhile.
    assert Generation.objects.filter(pk__in=videos).exclude(status="queued").exists()


def test_a_workspace_past_its_share_waits_and_others_do_not(db, catalog, make_user, settings, monkeypatch):
    settings.WORKSPACE_MAX_ACTIVE_QUICK = 2
    busy = _user(make_user, "burst@example.com", credits=1_000_000)
    other = _user(make_user, "other@example.com")
    monkeypatch.setattr(services, "_enqueue_run", lambda generation, countdown=None: None)
    jobs = [_submit(busy, "sandbox-image", f"img {i}") for i in range(3)]
    Generation.objects.filter(pk__in=[jobs[0].pk, jobs[1].pk]).update(status="running", started_at=timezone.now())
    requeued = []
    third = services._claim(jobs[2].pk, from_queued=True)
    assert workspace_defer_if_busy(generation=third, requeue=lambda g, countdown: requeued.append(countdown)) is True
    third.refresh_from_db()
    assert third.status == "queued" and third.started_at is None and requeued and requeued[0] >= 1.0
    assert third.next_check_at > timezone.now() + timedelta(seconds=requeued[0])  # the sweeper still has it
    theirs = services._claim(_submit(other, "sandbox-image", "theirs").pk, from_queued=True)
    assert workspace_defer_if_busy(generation=theirs, requeue=lambda g, countdown: requeued.append(countdown)) is False
    # Jobs already handed to an upstream are tracked, not holding a slot: they do not count.
    Generation.objects.filter(pk=jobs[0].pk).update(upstream_id="up-1")
    again = services._claim(jobs[2].pk, from_queued=True)
    assert workspace_defer_if_busy(generation=again, requeue=lambda g, countdown: None) is False

"""Asynchronous sandbox jobs (video, music) in a real Celery worker process: submit answers
pending, the poll task comes back after its countdown and renders; nothing sleeps."""
import pytest

from apps.catalog.models import AIModel
from apps.generations.models import Generation
from apps.generations.services import generation_submit
from apps.wallet.audit import wallet_audit
from tests.conftest import personal_wallet
from tests.support.worker import wait_until

pytestmark = [pytest.mark.worker]


def _final(pk):
    generation = Generation.objects.get(pk=pk)
    return generation if generation.status in Generation.FINAL else None


def test_worker_polls_sandbox_video_and_music_to_completion(owner, catalog, worker):
    video = generation_submit(user=owner, workspace=owner.current_workspace,
                              model=AIModel.objects.get(slug="sandbox-video"),
                              raw_params={"prompt": "a paper plane over rooftops", "duration": 1,
                                          "resolution": "480p"})[0]
    song = generation_submit(user=owner, workspace=owner.current_workspace,
                             model=AIModel.objects.get(slug="sandbox-music"),
                             raw_params={"prompt": "cheerful ukulele morning", "duration": 10})[0]
    for job in (video, song):
        done = wait_until(lambda: _final(job.pk), timeout=90, message=f"job {job.pk}\n{worker.log()}")
        assert done.status == "succeeded", done.error_message
        assert [a.phase for a in done.attempts.all()][:2] == ["submit", "poll"]
        assert done.poll_count >= 1 and done.upstream_id.startswith("sbx.")
    video_output = Generation.objects.get(pk=video.pk).outputs.get()
    assert video_output.mime == "video/mp4" and video_output.cover.name.endswith("-poster.webp")
    song_output = Generation.objects.get(pk=song.pk).outputs.get()
    assert song_output.duration == pytest.approx(10, abs=0.1) and song_output.cover.name.endswith(".webp")
    wallet = personal_wallet(owner)
    assert wallet.held == 0 and wallet.balance == 100_000 - video.price - song.price
    assert wallet_audit() == []

"""Sandbox jobs through the whole lifecycle: submit, run, poll, finish, stored media and charge."""
import shutil
from datetime import timedelta

import pytest
from django.utils import timezone
from PIL import Image

from apps.catalog.data import sandbox as sandbox_catalog
from apps.catalog.models import AIModel
from apps.catalog.pricing import token_cost
from apps.catalog.services import catalog_sync
from apps.generations.models import Generation
from apps.generations.services import generation_poll, generation_run, generation_submit
from apps.wallet.audit import wallet_audit
from tests.conftest import personal_wallet

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog(db):
    """Only the sandbox models: syncing the whole catalog costs seconds per test."""
    catalog_sync(entries=sandbox_catalog.MODELS)


@pytest.fixture
def quiet(monkeypatch, settings, tmp_path):
    """No broker (tests drive run and poll themselves); media in a temporary folder."""
    settings.MEDIA_ROOT = tmp_path
    polls = []
    monkeypatch.setattr("apps.generations.services._enqueue_run", lambda gid, countdown=None: None)
    monkeypatch.setattr("apps.generations.services._enqueue_poll", lambda gid, countdown: polls.append(countdown))
    return polls


def submit(user, slug, **params) -> Generation:
    model = AIModel.objects.get(slug=slug)
    return generation_submit(user=user, workspace=user.current_workspace, model=model, raw_params=params)[0]


def poll_when_due(generation: Generation, monkeypatch) -> Generation:
    """Skip the wait the sandbox asked for: the task is ready and the poll is due now."""
    monkeypatch.setattr("apps.providers.adapters.sandbox.READY_AFTER_SECONDS", 0)
    monkeypatch.setattr("apps.providers.adapters.sandbox.time.time",
                        lambda: timezone.now().timestamp() + 60)
    Generation.objects.filter(pk=generation.pk).update(next_check_at=timezone.now() - timedelta(seconds=1))
    generation_poll(generation_id=generation.pk)
    generation.refresh_from_db()
    return generation


def test_sandbox_video_job_stores_an_mp4_with_poster_and_charges_the_quote(owner, catalog, quiet, monkeypatch,
                                                                          django_capture_on_commit_callbacks):
    generation = submit(owner, "sandbox-video", prompt="a kite over green hills", duration=2, resolution="480p",
                        aspect_ratio="16:9")
    with django_capture_on_commit_callbacks(execute=True):
        generation_run(generation_id=generation.pk)
    generation.refresh_from_db()
    assert generation.status == "running" and generation.upstream_id.startswith("sbx.video.")
    assert quiet and 0.5 <= quiet[0] <= 2  # the poll is scheduled, nobody sleeps
    generation = poll_when_due(generation, monkeypatch)
    assert generation.status == "succeeded" and generation.charged == generation.price == 500
    output = generation.outputs.get()
    assert output.kind == "video" and output.mime == "video/mp4"
    assert (output.width, output.height, output.duration) == (854, 480, 2.0)
    assert output.file.read(12)[4:8] == b"ftyp"
    with Image.open(output.cover) as poster, Image.open(output.thumbnail) as thumbnail:
        assert poster.format == thumbnail.format == "WEBP" and poster.size == (854, 480)
    assert [a.phase for a in generation.attempts.all()] == ["submit", "poll"]
    assert wallet_audit() == []


def test_sandbox_music_job_stores_the_song_with_its_cover_and_words(owner, catalog, quiet, monkeypatch):
    generation = submit(owner, "sandbox-music", prompt="a sad piano song about rain", duration=10)
    generation_run(generation_id=generation.pk)
    generation = poll_when_due(Generation.objects.get(pk=generation.pk), monkeypatch)
    assert generation.status == "succeeded"
    song = generation.outputs.get()  # the cover is the song's artwork, not a second output
    assert song.kind == "audio" and song.mime == "audio/mpeg" and song.duration == pytest.approx(10, abs=0.1)
    assert song.meta["title"] and song.meta["lyrics"] and song.meta["key"].endswith("minor")
    with Image.open(song.cover) as cover:
        assert cover.format == "WEBP"


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")
def test_sandbox_speech_job_is_synchronous(owner, catalog, quiet):
    generation = submit(owner, "sandbox-speech", input="Welcome to Atelier.", voice="fable")
    generation_run(generation_id=generation.pk)
    generation.refresh_from_db()
    assert generation.status == "succeeded" and not quiet
    output = generation.outputs.get()
    assert output.kind == "audio" and output.duration > 0.5


def test_speech_without_espeak_fails_with_model_unavailable_and_releases_the_hold(owner, catalog, quiet,
                                                                                   monkeypatch):
    monkeypatch.setattr("apps.providers.sandbox.speech.shutil.which", lambda name: None)
    generation = submit(owner, "sandbox-speech", input="Hello")
    generation_run(generation_id=generation.pk)
    generation.refresh_from_db()
    assert generation.status == "failed" and generation.error_code == "model_unavailable"
    assert personal_wallet(owner).held == 0 and personal_wallet(owner).balance == 100_000
    assert wallet_audit() == []


def test_sandbox_text_job_charges_the_tokens_used(owner, catalog, quiet):
    model = AIModel.objects.get(slug="sandbox-text")
    generation = submit(owner, "sandbox-text", prompt="What is a good name for a bakery?", max_tokens=400)
    generation_run(generation_id=generation.pk)
    generation.refresh_from_db()
    assert generation.status == "succeeded" and "bakery" in generation.result_text
    usage = generation.usage
    assert usage["input_tokens"] == 9 and 0 < usage["output_tokens"] < 400
    assert generation.charged == token_cost(model.pricing, usage["input_tokens"], usage["output_tokens"])
    assert generation.charged < generation.price
    assert wallet_audit() == []


def test_a_bad_start_frame_fails_the_video_job_with_invalid_input(owner, catalog, quiet, monkeypatch):
    generation = submit(owner, "sandbox-video", prompt="x", duration=1, resolution="480p",
                        image_url="data:image/png;base64,bm90IGFuIGltYWdl")
    generation_run(generation_id=generation.pk)
    generation = poll_when_due(Generation.objects.get(pk=generation.pk), monkeypatch)
    assert generation.status == "failed" and generation.error_code == "invalid_input"
    assert "Start frame" in generation.error_message
    assert personal_wallet(owner).held == 0

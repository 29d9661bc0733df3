"""A workspace's own media as the input of a job: read from storage, or sent upstream as a fresh short link."""
import io
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest
from django.utils import timezone
from PIL import Image

from apps.accounts.services import user_onboard
from apps.catalog.models import AIModel
from apps.generations.inputs import job_inputs
from apps.generations.models import Generation
from apps.generations.services import generation_submit
from apps.generations.storage import media_url, signer
from apps.providers.base import ChannelConfig, InvalidInput, Job
from apps.providers.inputs import inline_sources, source_bytes, stable_params

pytestmark = pytest.mark.django_db


def never_fetched(*args, **kwargs):
    raise AssertionError(f"own media must be read from storage, not fetched: {args}")


def job_of(generation) -> Job:
    params, sources = job_inputs(generation=generation)
    return Job(id=str(generation.pk), modality="image", upstream_model="image", params=params,
               channel=ChannelConfig(name="t", adapter="sandbox"), sources=sources)


def pending(workspace, user, **params):
    return Generation.objects.create(workspace=workspace, user=user, model=AIModel.objects.get(slug="flux-dev"),
                                     params={"prompt": "x", **params}, price=1000, deadline_at=timezone.now())


def test_own_media_is_swapped_for_fresh_links_and_read_from_storage(finished, team, owner, monkeypatch):
    output = finished.outputs.get()
    now = [1_800_000_000.0]
    monkeypatch.setattr(signer, "clock", lambda: now[0])
    handed_out = media_url(output.file)
    now[0] += 86_400  # a day later that link has long expired, but the file is still the workspace's
    generation = pending(team, owner, image_url=handed_out, messages=[{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": media_url(output.web)}}]}], other="https://example.com/a.png")
    job = job_of(generation)

    fresh = job.params["image_url"]
    assert fresh != handed_out and job.sources[fresh] == output.file.name
    assert 900 <= int(parse_qs(urlsplit(fresh).query)["e"][0]) - now[0] < 1000  # MEDIA_SOURCE_URL_TTL
    assert job.sources[job.params["messages"][0]["content"][0]["image_url"]["url"]] == output.web.name
    assert job.params["other"] == "https://example.com/a.png" and generation.params["image_url"] == handed_out

    monkeypatch.setattr("apps.providers.http.fetch_source", never_fetched)
    data, mime = source_bytes(job, fresh)
    assert data == output.file.open("rb").read() and mime == "image/png"
    assert inline_sources(job)["image_url"].startswith("data:image/png;base64,")
    now[0] += 600  # the next poll makes other fresh links; what fingerprints the job does not move
    assert stable_params(job_of(generation)) == stable_params(job) and stable_params(job)["image_url"] == output.file.name


def test_another_workspace_s_media_needs_a_valid_link(finished, outsider, monkeypatch):
    output = finished.outputs.get()
    user_onboard(user=outsider)
    workspace = outsider.current_workspace
    forged = media_url(output.file).split("&s=")[0] + "&s=forged"
    guessed = job_of(pending(workspace, outsider, image_url=forged))
    assert guessed.sources == {} and guessed.params["image_url"] == forged  # treated as any URL: fetched, refused

    now = [signer.clock()]
    monkeypatch.setattr(signer, "clock", lambda: now[0])
    shared = media_url(output.file)  # a member gave the outsider a working link: whoever holds it may read
    assert list(job_of(pending(workspace, outsider, image_url=shared)).sources.values()) == [output.file.name]
    now[0] += 7200
    expired = job_of(pending(workspace, outsider, image_url=shared))
    assert expired.sources == {} and expired.params["image_url"] == shared


@pytest.mark.django_db(transaction=True)  # the job is enqueued on commit
def test_a_job_starts_from_an_own_output_at_a_loopback_address(finished, team, owner, eager, monkeypatch):
    """SITE_URL is 127.0.0.1: fetching the link would be refused; the sandbox reads the file from storage."""
    output = finished.outputs.get()
    monkeypatch.setattr("apps.providers.sandbox.sources.safe_get", never_fetched)
    generation, _ = generation_submit(user=owner, workspace=team, model=AIModel.objects.get(slug="flux-dev"),
                                      raw_params={"prompt": "a blue ocean", "image_url": media_url(output.file),
                                                  "prompt_strength": 0.1})
    generation.refresh_from_db()
    assert generation.status == "succeeded", generation.error_message
    pixels = np.asarray(Image.open(io.BytesIO(generation.outputs.get().file.read())).convert("RGB"), dtype=float)
    red, green, blue = pixels.reshape(-1, 3).mean(axis=0)
    assert red > green + 60 and red > blue + 60  # the red source shows through


def test_a_missing_own_file_is_the_request_s_fault(finished, team, owner):
    output = finished.outputs.get()
    job = job_of(pending(team, owner, image_url=media_url(output.file)))
    output.file.storage.delete(output.file.name)
    with pytest.raises(InvalidInput, match="no longer exists"):
        source_bytes(job, job.params["image_url"])

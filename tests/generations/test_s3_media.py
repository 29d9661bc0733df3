"""Media on an S3-compatible server (moto's server mode on loopback): private objects, presigned URLs."""
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from django.test import Client

from apps.api.services import api_key_create
from apps.generations.sharing import share_link_create
from apps.generations.storage import media_name_for_url, media_url, signer

pytestmark = pytest.mark.django_db


@pytest.fixture
def on_s3(s3_server, settings):
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "apps.generations.s3.PrivateS3Storage",
                                                          "OPTIONS": s3_server.storage_options()}}
    return s3_server


@pytest.fixture
def s3_finished(on_s3, team, owner, catalog, settings, tmp_path):
    from tests.support.media import finished_generation

    settings.MEDIA_ROOT = tmp_path
    return finished_generation(workspace=team, user=owner)


def test_outputs_live_in_the_bucket_and_download_through_presigned_urls(s3_finished, on_s3, team, owner, tmp_path):
    output = s3_finished.outputs.get()
    keys = on_s3.keys(f"outputs/{s3_finished.created_at:%Y/%m}/{s3_finished.pk}/")
    assert sorted(keys) == sorted([output.file.name, output.thumbnail.name, output.web.name])
    assert not any(tmp_path.iterdir())  # nothing went to the local folder

    secret = api_key_create(user=owner, workspace=team, name="k").secret
    body = Client().get(f"/v1/generations/{s3_finished.pk}", HTTP_AUTHORIZATION=f"Bearer {secret}").json()
    url = body["outputs"][0]["url"]
    query = parse_qs(urlsplit(url).query)
    assert url.startswith(on_s3.url + "/") and query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert int(query["X-Amz-Expires"][0]) >= 3600
    stored = on_s3.client().get_object(Bucket=on_s3.bucket, Key=output.file.name)["Body"].read()
    assert httpx.get(url).content == stored and stored[:8] == b"\x89PNG\r\n\x1a\n"
    assert httpx.get(body["outputs"][0]["thumbnail_url"]).content[:4] == b"RIFF"
    # The bucket is private: the same object without a signature is refused.
    unsigned = url.split("?")[0]
    assert httpx.get(unsigned).status_code == 403
    assert media_name_for_url(url) == (output.file.name, False)  # ours; its signature is S3's to check
    assert media_name_for_url(unsigned) == (output.file.name, False)


def test_studio_and_share_pages_use_presigned_urls(s3_finished, on_s3, teammate, owner, monkeypatch):
    member = Client()
    member.force_login(teammate)
    page = member.get(f"/generations/{s3_finished.pk}/").content.decode()
    presigned = [part.split('"')[0].replace("&amp;", "&") for part in page.split('src="')[1:]
                 if part.startswith(on_s3.url)]
    assert presigned and all(httpx.get(url).status_code == 200 for url in presigned)

    link = share_link_create(generation=s3_finished, user=owner)
    shared = Client().get(f"/s/{link.token}/").content.decode()
    assert on_s3.url in shared and "/files/" not in shared


def test_presigned_urls_are_stable_within_a_step(s3_finished, monkeypatch):
    output = s3_finished.outputs.get()
    now = [1_800_000_001.0]
    monkeypatch.setattr(signer, "clock", lambda: now[0])
    # botocore stamps X-Amz-Date from its own clock: move it with ours.
    monkeypatch.setattr("botocore.auth.get_current_datetime",
                        lambda remove_tzinfo=True: datetime.fromtimestamp(now[0], UTC).replace(tzinfo=None))
    first = media_url(output.file)
    assert parse_qs(urlsplit(first).query)["X-Amz-Date"] == ["20270115T080001Z"]
    now[0] += 100
    assert media_url(output.file) == first  # the same page rendered again names the same URL
    now[0] += 300
    assert parse_qs(urlsplit(media_url(output.file)).query)["X-Amz-Date"] == ["20270115T080641Z"]
    short = parse_qs(urlsplit(media_url(output.file, ttl=60)).query)
    assert 60 <= int(short["X-Amz-Expires"][0]) <= 65

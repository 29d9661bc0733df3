"""Private media on local storage: signed, expiring links; nothing readable by guessing."""
import os
import subprocess
import sys
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core import signing
from django.test import Client

from apps.accounts.services import user_onboard
from apps.api.services import api_key_create
from apps.generations.storage import MediaSigner, expiry_step, media_name_for_url, media_url, signer
from tests.support.media import fetch

pytestmark = pytest.mark.django_db


def key_header(user, workspace):
    return {"HTTP_AUTHORIZATION": f"Bearer {api_key_create(user=user, workspace=workspace, name='k').secret}"}


def test_members_get_working_links_from_the_api_and_the_studio(finished, team, owner, teammate):
    output = finished.outputs.get()
    body = Client().get(f"/v1/generations/{finished.pk}", **key_header(owner, team)).json()
    url = body["outputs"][0]["url"]
    assert url.startswith("http://") and "/files/outputs/" in url and "s=" in url
    response, data = fetch(Client(), url)  # no session, no key: the link itself is the permission
    assert response.status_code == 200 and data == output.file.open("rb").read()
    assert response["Content-Type"] == "image/png" and response["Cache-Control"].startswith("private, max-age=")
    assert "sandbox" in response["Content-Security-Policy"]
    thumb, data = fetch(Client(), body["outputs"][0]["thumbnail_url"])
    assert thumb.status_code == 200 and data[:4] == b"RIFF"  # WebP

    studio = Client()
    studio.force_login(teammate)
    page = studio.get(f"/generations/{finished.pk}/").content.decode()
    links = [part.split('"')[0].replace("&amp;", "&") for part in page.split('src="')[1:] if part.startswith("/files/")]
    assert links, page
    assert all(fetch(Client(), link)[0].status_code == 200 for link in links)


def test_outsiders_and_anonymous_clients_cannot_reach_the_media(finished, outsider):
    output = finished.outputs.get()
    user_onboard(user=outsider)
    outsider_api = Client().get(f"/v1/generations/{finished.pk}", **key_header(outsider, outsider.current_workspace))
    assert outsider_api.status_code == 404
    assert Client().get(f"/v1/generations/{finished.pk}").status_code == 401

    studio = Client()
    studio.force_login(outsider)
    assert studio.get(f"/generations/{finished.pk}/").status_code == 404
    anonymous_page = Client().get(f"/generations/{finished.pk}/")
    assert anonymous_page.status_code == 302 and "/files/" not in anonymous_page.content.decode()

    name = output.file.name
    good = urlsplit(media_url(output.file, absolute=False))
    query = parse_qs(good.query)
    thumb_query = urlsplit(media_url(output.thumbnail, absolute=False)).query
    guesses = [
        f"/media/{name}",                                    # the old public path
        f"/files/{name}",                                    # no signature
        f"/files/{name}?e={query['e'][0]}",                  # expiry without signature
        f"/files/{name}?e={query['e'][0]}&s=forged",         # a made-up signature
        f"/files/{name}?{thumb_query}",                      # the thumbnail's signature on the original
        f"/files/{name}?e={int(query['e'][0]) + 86400}&s={query['s'][0]}",  # a longer life, same signature
        f"/files/{output.thumbnail.name.rsplit('/', 1)[0]}/../{name.rsplit('/', 1)[1]}?{good.query}",
    ]
    for client in (studio, Client()):
        for guess in guesses:
            assert client.get(guess).status_code == 404, guess
    assert Client().get(f"{good.path}?{good.query}").status_code == 200  # the real link, for contrast


def test_an_expired_link_is_refused(finished, monkeypatch):
    output = finished.outputs.get()
    now = [1_800_000_000.0]
    monkeypatch.setattr(signer, "clock", lambda: now[0])
    url = media_url(output.file, ttl=600, absolute=False)
    expires = int(parse_qs(urlsplit(url).query)["e"][0])
    assert 600 <= expires - now[0] < 600 + expiry_step(600)  # never shorter than asked

    now[0] = expires - 1
    assert fetch(Client(), url)[0].status_code == 200
    now[0] = expires
    refused = Client().get(url)
    assert refused.status_code == 403 and refused.content.startswith(b"media_link_expired")
    assert media_name_for_url(url) == (output.file.name, False)  # still ours, no longer a permission


def test_the_signer_checks_name_expiry_and_clock():
    clock = [1000.0]
    media = MediaSigner(clock=lambda: clock[0])
    expires, signature = media.sign("outputs/a.png", ttl=3600)
    assert media.verify("outputs/a.png", expires=expires, signature=signature) >= 3600
    with pytest.raises(signing.BadSignature):
        media.verify("outputs/b.png", expires=expires, signature=signature)
    with pytest.raises(signing.BadSignature):
        media.verify("outputs/a.png", expires=expires + 1, signature=signature)
    with pytest.raises(signing.BadSignature):
        MediaSigner(salt="other", clock=lambda: clock[0]).verify("outputs/a.png", expires=expires, signature=signature)
    clock[0] = expires + 0.5
    with pytest.raises(signing.SignatureExpired):
        media.verify("outputs/a.png", expires=expires, signature=signature)


def test_links_are_stable_within_a_step_so_polling_pages_stay_cached(finished, monkeypatch, settings):
    output = finished.outputs.get()
    now = [1_800_000_001.0]  # just past a multiple of the 300 s step of a one-hour link
    monkeypatch.setattr(signer, "clock", lambda: now[0])
    first = media_url(output.thumbnail)
    now[0] += 120
    assert media_url(output.thumbnail) == first
    now[0] += 200
    assert media_url(output.thumbnail) != first
    settings.MEDIA_URL_TTL = 60
    assert int(parse_qs(urlsplit(media_url(output.thumbnail)).query)["e"][0]) - now[0] < 70


def test_own_media_urls_are_recognised(finished, settings):
    output = finished.outputs.get()
    absolute = media_url(output.file)
    assert media_name_for_url(absolute) == (output.file.name, True)
    # The same link copied from a browser that reached the site by another name is still ours.
    other_host = absolute.replace(settings.SITE_URL, "http://192.168.1.20:8000")
    assert media_name_for_url(other_host) == (output.file.name, True)
    forged = absolute.split("&s=")[0] + "&s=forged"
    assert media_name_for_url(forged) == (output.file.name, False)
    assert media_name_for_url(forged.replace(settings.SITE_URL, "https://elsewhere.example")) is None
    assert media_name_for_url("https://example.com/image.png") is None


def test_players_can_seek_with_byte_ranges(finished):
    output = finished.outputs.get()
    whole = output.file.open("rb").read()
    url = media_url(output.file, absolute=False)
    client = Client()
    response = client.get(url, HTTP_RANGE="bytes=10-19")
    assert response.status_code == 206 and b"".join(response.streaming_content) == whole[10:20]
    assert response["Content-Range"] == f"bytes 10-19/{len(whole)}" and response["Content-Length"] == "10"
    tail = client.get(url, HTTP_RANGE="bytes=-5")
    assert tail.status_code == 206 and b"".join(tail.streaming_content) == whole[-5:]
    rest = client.get(url, HTTP_RANGE="bytes=100-")
    assert b"".join(rest.streaming_content) == whole[100:]
    assert client.get(url, HTTP_RANGE=f"bytes={len(whole) + 5}-").status_code == 416
    full = client.get(url, HTTP_RANGE="items=1-2")  # not a byte range: the whole file
    assert full.status_code == 200 and full["Accept-Ranges"] == "bytes"
    assert client.get(url.split("?")[0], HTTP_RANGE="bytes=0-9").status_code == 404  # ranges need the signature too


def _settings_in_a_fresh_process(**env):
    code = ("import django; django.setup(); from django.conf import settings; "
            "print(settings.STORAGES['default']['BACKEND'], settings.STORAGES['default'].get('OPTIONS', {}))")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False,
                          env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", **env})


def test_storage_settings_come_from_the_environment():
    local = _settings_in_a_fresh_process()
    assert local.returncode == 0 and local.stdout.startswith("apps.generations.storage.PrivateFileSystemStorage")
    s3 = _settings_in_a_fresh_process(S3_BUCKET="media", S3_ENDPOINT_URL="http://minio:9000", S3_ADDRESSING_STYLE="path")
    assert s3.returncode == 0 and s3.stdout.startswith("apps.generations.s3.PrivateS3Storage")
    assert "'endpoint_url': 'http://minio:9000'" in s3.stdout and "'default_acl': None" in s3.stdout
    refused = _settings_in_a_fresh_process(MEDIA_URL_TTL="5")
    assert refused.returncode != 0 and "MEDIA_URL_TTL must be between 60 and 604800 seconds" in refused.stderr

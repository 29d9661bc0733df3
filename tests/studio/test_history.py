"""History wherever jobs are shown: keyset pages, filters, search, the watcher that finds jobs
started elsewhere, favorites, soft delete, every output shown and downloaded."""
import io
import re
import zipfile
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.generations.models import Generation
from apps.generations.selectors import Cursor, HistoryFilters, history_page
from apps.wallet.audit import wallet_audit

from .conftest import HX, make_job

pytestmark = pytest.mark.django_db


def card_ids(html: str) -> list[str]:
    return re.findall(r'<article class="gen[^"]*" data-status="\w+" id="gen-([0-9a-f-]+)"', html)


def spread(jobs):
    """Give jobs distinct creation times, newest first as listed."""
    now = timezone.now()
    for age, job in enumerate(jobs):
        Generation.objects.filter(pk=job.pk).update(created_at=now - timedelta(minutes=age))


@pytest.mark.pg  # also on PostgreSQL: JSON search, uuid keyset and date truncation differ per backend
def test_keyset_pages_walk_every_job_once_in_order(owner, catalog, no_enqueue):
    jobs = [make_job(owner, run=False) for _ in range(7)]
    spread(jobs)
    Generation.objects.filter(pk__in=[jobs[2].pk, jobs[3].pk]).update(created_at=timezone.now() - timedelta(minutes=2))
    seen, cursor = [], None
    while True:
        page = history_page(workspace=owner.current_workspace, filters=HistoryFilters(), cursor=cursor, size=2)
        seen += [g.pk for g in page.generations]
        if not page.next_cursor:
            break
        cursor = Cursor.decode(page.next_cursor)
    assert len(seen) == 7 and set(seen) == {job.pk for job in jobs}  # ties on created_at broken by id


def test_history_page_loads_more_with_a_cursor_link(logged_in, owner, no_enqueue):
    jobs = [make_job(owner, run=False) for _ in range(26)]
    spread(jobs)
    page = logged_in.get("/history/").content.decode()
    assert len(card_ids(page)) == 24 and "Load more" in page
    more_url = re.search(r'hx-get="(/history/more\?[^"]+)"', page).group(1).replace("&amp;", "&")
    more = logged_in.get(more_url, **HX).content.decode()
    assert card_ids(more) == [str(job.pk) for job in jobs[24:]] and "Load more" not in more
    # Without JavaScript the link is a plain page of the older jobs.
    plain = re.search(r'<a class="button" href="(/history/\?cursor=[^"]+)"', page).group(1)
    older = logged_in.get(plain).content.decode()
    assert card_ids(older) == [str(job.pk) for job in jobs[24:]]
    assert 'id="history-watch"' not in older  # an older page does not pull the newest jobs in


@pytest.mark.pg  # also on PostgreSQL: JSON search, uuid keyset and date truncation differ per backend
def test_filters_search_and_favorites(logged_in, owner, no_enqueue):
    fox = make_job(owner, prompt="a red fox in snow")
    owl = make_job(owner, prompt="an owl at night")
    song = make_job(owner, slug="sandbox-speech", run=False, input="hello there")
    Generation.objects.filter(pk=owl.pk).update(favorite=True)
    get = lambda query: card_ids(logged_in.get(f"/history/?{query}", **HX).content.decode())  # noqa: E731
    assert get("q=fox") == [str(fox.pk)]
    assert get("q=hello") == [str(song.pk)]  # speech prompts are searched too
    assert get("favorites=1") == [str(owl.pk)]
    assert set(get("modality=image")) == {str(fox.pk), str(owl.pk)}
    assert get("status=pending") == [str(song.pk)]
    assert get("model=sandbox-speech") == [str(song.pk)]
    tomorrow = (timezone.now() + timedelta(days=1)).date().isoformat()
    assert get(f"date_from={tomorrow}") == []
    assert len(get("date_from=not-a-date")) == 3  # malformed filters are ignored, not an error


@pytest.mark.pg  # also on PostgreSQL: JSON search, uuid keyset and date truncation differ per backend
def test_watcher_finds_jobs_started_elsewhere_and_updates_pending_ones(logged_in, owner, no_enqueue):
    old = make_job(owner)
    page = logged_in.get("/history/").content.decode()
    watch = re.search(r'id="history-watch" hidden hx-get="([^"]+)"', page).group(1).replace("&amp;", "&")
    assert 'every 6s [document.visibilityState' in page  # nothing pending: slow watch, visible tabs only
    assert logged_in.get(watch, **HX).status_code == 204  # nothing new: an empty answer
    api_job = make_job(owner, run=False, source="api")  # started through the API, another tab...
    response = logged_in.get(watch, **HX)
    body = response.content.decode()
    assert response.status_code == 200 and card_ids(body) == [str(api_job.pk)]
    assert 'hx-swap-oob="afterbegin:#history-list"' in body and "every 1500ms" in body
    assert str(old.pk) not in body
    watch = re.search(r'id="history-watch" hidden hx-get="([^"]+)"', body).group(1).replace("&amp;", "&")
    assert f"pending={api_job.pk}" in watch
    from apps.generations.services import generation_run

    generation_run(generation_id=api_job.pk)
    done = logged_in.get(watch, **HX)
    body = done.content.decode()
    assert f'id="gen-{api_job.pk}"\n  hx-swap-oob="true"' in body and 'data-status="succeeded"' in body
    assert done["HX-Trigger"] == "wallet-changed" and 'id="balance"' in body
    assert "every 6s" in body  # nothing pending any more: back to the slow watch
    later = re.search(r'id="history-watch" hidden hx-get="([^"]+)"', body).group(1).replace("&amp;", "&")
    assert logged_in.get(later, **HX).status_code == 204


def test_watcher_respects_the_filters(logged_in, owner, no_enqueue):
    make_job(owner)
    page = logged_in.get("/history/?model=sandbox-image").content.decode()
    watch = re.search(r'id="history-watch" hidden hx-get="([^"]+)"', page).group(1).replace("&amp;", "&")
    make_job(owner, slug="sandbox-speech", run=False, input="not an image")
    assert logged_in.get(watch, **HX).status_code == 204


def test_a_multi_image_job_shows_every_image_and_downloads_them_named_after_the_prompt(logged_in, owner, no_enqueue):
    job = make_job(owner, n=4, prompt="Four little ducks!")
    card = logged_in.get("/history/").content.decode()
    assert card.count('class="gen-thumb"') == 4 and "gen-grid-4" in card and "Download all (4)" in card
    detail = logged_in.get(f"/generations/{job.pk}/").content.decode()
    assert detail.count('data-testid="output"') == 4 and "Download all 4 files (zip)" in detail
    one = logged_in.get(f"/generations/{job.pk}/files/2")
    assert one.status_code == 200 and 'filename="four-little-ducks-3.png"' in one["Content-Disposition"]
    assert b"".join(one.streaming_content)[:8] == b"\x89PNG\r\n\x1a\n"
    archive = logged_in.get(f"/generations/{job.pk}/files.zip")
    assert 'filename="four-little-ducks.zip"' in archive["Content-Disposition"]
    names = zipfile.ZipFile(io.BytesIO(b"".join(archive.streaming_content))).namelist()
    assert names == [f"four-little-ducks-{i}.png" for i in range(1, 5)]
    assert logged_in.get(f"/generations/{job.pk}/files/9").status_code == 404


def test_favorite_and_delete(logged_in, owner, no_enqueue):
    job = make_job(owner)
    card = logged_in.post(f"/generations/{job.pk}/favorite", {"favorite": "1"}, **HX).content.decode()
    assert 'aria-pressed="true"' in card and Generation.objects.get(pk=job.pk).favorite
    response = logged_in.post(f"/generations/{job.pk}/delete", **HX)
    assert response.status_code == 200 and response.content == b""
    assert str(job.pk) not in logged_in.get("/history/").content.decode()
    assert logged_in.get(f"/generations/{job.pk}/").status_code == 404
    assert logged_in.get(f"/generations/{job.pk}/files/0").status_code == 404
    assert Generation.objects.filter(pk=job.pk).exists()  # the row stays for the ledger
    assert wallet_audit() == []


def test_deleting_a_running_job_cancels_it_and_releases_the_hold(logged_in, owner, no_enqueue):
    job = make_job(owner, run=False)
    logged_in.post(f"/generations/{job.pk}/delete")
    job.refresh_from_db()
    assert job.status == "canceled" and job.deleted_at is not None and job.hold.state == "released"
    assert wallet_audit() == []


def test_watcher_drops_a_card_deleted_in_another_tab(logged_in, owner, no_enqueue):
    job = make_job(owner, run=False)
    page = logged_in.get("/history/").content.decode()
    watch = re.search(r'id="history-watch" hidden hx-get="([^"]+)"', page).group(1).replace("&amp;", "&")
    logged_in.post(f"/generations/{job.pk}/delete")
    assert f'<article id="gen-{job.pk}" hx-swap-oob="delete">' in logged_in.get(watch, **HX).content.decode()


def test_every_job_endpoint_answers_404_to_an_outsider(logged_in, owner, outsider, client, no_enqueue):
    job = make_job(owner, n=2)
    client.force_login(outsider)
    for method, url in [("get", f"/generations/{job.pk}/"), ("post", f"/generations/{job.pk}/cancel"),
                        ("post", f"/generations/{job.pk}/favorite"), ("post", f"/generations/{job.pk}/delete"),
                        ("get", f"/generations/{job.pk}/files/0"), ("get", f"/generations/{job.pk}/files.zip")]:
        assert getattr(client, method)(url).status_code == 404, url
    assert "a red fox" not in client.get("/history/").content.decode()
    watched = client.get(f"/history/updates?pending={job.pk}", **HX)  # guessing ids shows nothing
    assert str(job.pk) not in watched.content.decode()
    assert not Generation.objects.get(pk=job.pk).deleted_at


def test_pending_cards_show_progress_estimated_from_recent_runs(logged_in, owner, no_enqueue):
    for _ in range(3):
        done = make_job(owner)
        Generation.objects.filter(pk=done.pk).update(started_at=done.finished_at - timedelta(seconds=20))
    running = make_job(owner, run=False)
    Generation.objects.filter(pk=running.pk).update(status="running", started_at=timezone.now() - timedelta(seconds=5))
    from django.core.cache import cache

    cache.clear()
    body = logged_in.get("/history/").content.decode()
    assert re.search(r"Working · about 2[0-9]%", body) and "s left" in body and '<progress max="100" value="2' in body

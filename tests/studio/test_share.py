"""Public share links: a member shares one generation; anyone with the link sees it until it is revoked."""
import re

import pytest
from django.test import Client
from django.utils import timezone

from apps.catalog.models import AIModel
from apps.generations.models import Generation, ShareLink
from apps.generations.sharing import share_link_create
from tests.support.media import fetch

pytestmark = pytest.mark.django_db


def share_url(page: str) -> str:
    found = re.search(r'data-testid="share-url" aria-label="Public share link" value="http://testserver(/s/[^"]+)"', page)
    assert found, page
    return found.group(1)


def media_links(page: str) -> list[str]:
    return [link.replace("&amp;", "&") for link in re.findall(r'(?:src|href)="(/files/[^"]+)"', page)]


def test_share_then_revoke(finished, teammate, outsider):
    member = Client()
    member.force_login(teammate)
    detail = f"/generations/{finished.pk}/"
    assert 'data-testid="share"' in member.get(detail).content.decode()

    member.post(f"{detail}share")
    link = share_url(member.get(detail).content.decode())

    anonymous = Client()
    page = anonymous.get(link)
    assert page.status_code == 200 and page["Referrer-Policy"] == "no-referrer" and page["X-Robots-Tag"] == "noindex"
    links = media_links(page.content.decode())
    assert links and all(fetch(Client(), url)[0].status_code == 200 for url in links)
    assert fetch(Client(), links[-1])[1] == finished.outputs.get().file.open("rb").read()  # the download link
    stranger = Client()
    stranger.force_login(outsider)
    assert stranger.get(link).status_code == 200  # a link is for whoever it was given to

    member.post(f"{detail}unshare")
    assert anonymous.get(link).status_code == 404
    assert stranger.get(link).status_code == 404
    assert 'data-testid="share"' in member.get(detail).content.decode()

    member.post(f"{detail}share")  # sharing again makes a new link; the revoked one stays dead
    again = share_url(member.get(detail).content.decode())
    assert again != link and anonymous.get(again).status_code == 200 and anonymous.get(link).status_code == 404
    assert ShareLink.objects.filter(generation=finished).count() == 2


def test_only_members_share_and_only_finished_work(finished, owner, outsider, team):
    stranger = Client()
    stranger.force_login(outsider)
    assert stranger.post(f"/generations/{finished.pk}/share").status_code == 404
    assert Client().post(f"/generations/{finished.pk}/share").status_code == 302  # to the login page
    assert not ShareLink.objects.exists()

    first = share_link_create(generation=finished, user=owner)
    assert share_link_create(generation=finished, user=owner) == first  # one live link per generation
    assert stranger.post(f"/generations/{finished.pk}/unshare").status_code == 404
    assert Client().get(f"/s/{first.token}/").status_code == 200

    pending = Generation.objects.create(workspace=team, user=owner, model=AIModel.objects.get(slug="sandbox-image"),
                                        params={"prompt": "x"}, price=1000, deadline_at=timezone.now())
    member = Client()
    member.force_login(owner)
    response = member.post(f"/generations/{pending.pk}/share", follow=True)
    assert "Only a finished, successful generation can be shared." in response.content.decode()
    assert not ShareLink.objects.filter(generation=pending).exists()
    assert Client().get("/s/not-a-token/").status_code == 404


def test_staff_revoke_links_in_admin(finished, owner, make_user):
    link = share_link_create(generation=finished, user=owner)
    staff = make_user("staff@example.com", is_staff=True, is_superuser=True)
    admin = Client()
    admin.force_login(staff)
    assert admin.get("/admin/generations/sharelink/").status_code == 200
    response = admin.post("/admin/generations/sharelink/", {"action": "revoke", "_selected_action": [link.pk]})
    assert response.status_code == 302
    link.refresh_from_db()
    assert link.revoked_at and link.revoked_by == staff
    assert Client().get(f"/s/{link.token}/").status_code == 404

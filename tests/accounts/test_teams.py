"""Teams: create, invite by email link, accept, roles, caps, leave, remove, switch; outsiders 404."""
import re
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from apps.accounts.errors import TeamError
from apps.accounts.models import Invitation, Membership, Workspace
from apps.accounts.services import (
    invitation_accept,
    membership_leave,
    membership_remove,
    membership_set_role,
    team_create,
    team_invite,
    workspace_for_user,
    workspace_switch,
)
from apps.wallet.models import Wallet
from apps.wallet.selectors import member_cap
from apps.wallet.services import hold_place, member_cap_set

pytestmark = pytest.mark.django_db


def _code(callable_, *args, **kwargs):
    with pytest.raises(TeamError) as info:
        callable_(*args, **kwargs)
    return info.value.code


def _role(team, user):
    return Membership.objects.get(workspace=team, user=user).role


def test_team_create_makes_an_owner_and_an_empty_pool(owner):
    team = team_create(user=owner, name="  Night Shift ")
    assert team.kind == "team" and team.name == "Night Shift"
    assert _role(team, owner) == "owner"
    assert Wallet.objects.get(workspace=team).balance == 0
    assert _code(team_create, user=owner, name=" ") == "invalid_request"


def test_invite_sends_a_link_that_the_invitee_accepts(django_capture_on_commit_callbacks, team, owner, make_user):
    with django_capture_on_commit_callbacks(execute=True):
        invitation, token = team_invite(workspace=team, actor=owner, email="New@Example.com", role="admin")
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["new@example.com"]
    link = re.search(r"http\S+", mail.outbox[0].body).group(0)
    assert link.endswith(reverse("teams:accept", args=[token]))
    assert Invitation.objects.get().token_hash != token  # only the hash is stored
    newcomer = make_user("new@example.com")
    membership = invitation_accept(token=token, user=newcomer)
    assert membership.role == "admin"
    assert invitation_accept(token=token, user=newcomer) == membership  # clicking twice is harmless
    assert _code(team_invite, workspace=team, actor=owner, email="new@example.com") == "already_member"


def test_invitation_checks_email_expiry_and_reuse(team, owner, make_user):
    invitation, token = team_invite(workspace=team, actor=owner, email="a@example.com")
    assert _code(invitation_accept, token=token, user=make_user("b@example.com")) == "invitation_email_mismatch"
    assert _code(invitation_accept, token="bogus", user=owner) == "invitation_invalid"
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    invitee = make_user("a@example.com")
    assert _code(invitation_accept, token=token, user=invitee) == "invitation_expired"
    _, fresh = team_invite(workspace=team, actor=owner, email="a@example.com")
    assert _code(invitation_accept, token=token, user=invitee) == "invitation_invalid"  # replaced by the new one
    invitation_accept(token=fresh, user=invitee)


def test_only_owners_and_admins_manage(team, owner, teammate, outsider):
    assert _code(team_invite, workspace=team, actor=teammate, email="x@example.com") == "forbidden"
    assert _code(member_cap_set, workspace=team, actor=teammate, user_id=teammate.pk, cap=1) == "forbidden"
    assert _code(membership_set_role, workspace=team, actor=teammate, user_id=teammate.pk, role="admin") == "forbidden"
    assert _code(membership_remove, workspace=team, actor=teammate, user_id=owner.pk) == "forbidden"
    assert _code(member_cap_set, workspace=team, actor=outsider, user_id=teammate.pk, cap=1) == "not_found"
    membership_set_role(workspace=team, actor=owner, user_id=teammate.pk, role="admin")
    # An admin manages members but cannot touch owners.
    assert _code(membership_set_role, workspace=team, actor=teammate, user_id=owner.pk, role="member") == "forbidden"
    assert _code(team_invite, workspace=team, actor=teammate, email="o@example.com", role="owner") == "forbidden"
    member_cap_set(workspace=team, actor=teammate, user_id=teammate.pk, cap=5_000)
    assert member_cap(workspace=team, user=teammate) == 5_000


def test_last_owner_cannot_leave_or_be_demoted(team, owner, teammate):
    assert _code(membership_leave, workspace=team, user=owner) == "last_owner"
    assert _code(membership_set_role, workspace=team, actor=owner, user_id=owner.pk, role="admin") == "last_owner"
    membership_set_role(workspace=team, actor=owner, user_id=teammate.pk, role="owner")
    membership_leave(workspace=team, user=owner)
    assert not Membership.objects.filter(workspace=team, user=owner).exists()
    assert _code(membership_leave, workspace=team, user=teammate) == "last_owner"


def test_personal_workspace_cannot_be_left(owner):
    personal = Workspace.objects.get(created_by=owner, kind="personal")
    assert _code(membership_leave, workspace=personal, user=owner) == "personal_workspace"


def test_removed_member_falls_back_to_personal_and_cannot_spend_the_pool(team, owner, teammate):
    member_cap_set(workspace=team, actor=owner, user_id=teammate.pk, cap=3_000)
    workspace_switch(user=teammate, workspace_id=team.pk)
    assert workspace_for_user(user=teammate) == team
    membership_remove(workspace=team, actor=owner, user_id=teammate.pk)
    teammate.refresh_from_db()
    assert teammate.current_workspace.kind == "personal"
    assert workspace_for_user(user=teammate, workspace_id=team.pk) is None
    assert _code(workspace_switch, user=teammate, workspace_id=team.pk) == "not_found"
    assert member_cap(workspace=team, user=teammate) is None  # a rejoining member starts uncapped


def test_switch_only_into_own_workspaces(team, teammate, outsider):
    assert workspace_switch(user=teammate, workspace_id=team.pk) == team
    assert _code(workspace_switch, user=outsider, workspace_id=team.pk) == "not_found"


# ---- pages --------------------------------------------------------------------------------
def test_team_page_shows_spend_against_caps(client, team, owner, teammate):
    member_cap_set(workspace=team, actor=owner, user_id=teammate.pk, cap=20_000)
    hold_place(wallet=Wallet.objects.get(workspace=team), amount=5_000, member=teammate)
    client.force_login(owner)
    page = client.get(reverse("teams:detail", args=[team.pk])).content.decode()
    row = re.search(r'<tr data-member="teammate@example.com">.*?</tr>', page, re.S).group(0)
    assert 'data-testid="spent">5<' in row and "of 20" in row and 'value="25"' in row
    assert "Invite someone" in page


def test_member_sees_the_team_but_no_management(client, team, teammate):
    client.force_login(teammate)
    page = client.get(reverse("teams:detail", args=[team.pk])).content.decode()
    assert "Studio Team" in page and "Invite someone" not in page and "Set cap" not in page
    response = client.post(reverse("teams:invite", args=[team.pk]), {"email": "z@example.com"}, follow=True)
    assert "Only the team&#x27;s owners and admins" in response.content.decode()
    assert not Invitation.objects.exists()


def test_outsider_gets_404_on_every_team_endpoint(client, team, owner, teammate, outsider):
    invitation, _ = team_invite(workspace=team, actor=owner, email="p@example.com")
    client.force_login(outsider)
    assert client.get(reverse("teams:detail", args=[team.pk])).status_code == 404
    posts = [
        ("teams:invite", [team.pk], {"email": "x@example.com"}),
        ("teams:revoke", [team.pk, invitation.pk], {}),
        ("teams:role", [team.pk, teammate.pk], {"role": "admin"}),
        ("teams:cap", [team.pk, teammate.pk], {"cap": "1"}),
        ("teams:remove", [team.pk, teammate.pk], {}),
        ("teams:leave", [team.pk], {}),
        ("teams:switch", [], {"workspace": team.pk}),
    ]
    for name, args, data in posts:
        assert client.post(reverse(name, args=args), data).status_code == 404, name
    assert client.get(reverse("teams:accept", args=["not-a-token"])).status_code == 404
    assert Membership.objects.filter(workspace=team).count() == 2
    assert member_cap(workspace=team, user=teammate) is None


def test_accept_page_flow(client, django_capture_on_commit_callbacks, team, owner, make_user):
    with django_capture_on_commit_callbacks(execute=True):
        client.force_login(owner)
        client.post(reverse("teams:invite", args=[team.pk]), {"email": "joiner@example.com", "role": "member"})
    link = re.search(r"http\S+", mail.outbox[0].body).group(0)
    path = link.split("127.0.0.1:8000", 1)[1] if "127.0.0.1:8000" in link else link
    joiner = make_user("joiner@example.com")
    client.force_login(joiner)
    assert "Join Studio Team" in client.get(path).content.decode()
    response = client.post(path)
    assert response.status_code == 302 and response["Location"] == reverse("teams:detail", args=[team.pk])
    joiner.refresh_from_db()
    assert joiner.current_workspace == team and _role(team, joiner) == "member"
    # The switcher in the top bar now offers both workspaces.
    page = client.get(reverse("teams:list")).content.decode()
    assert 'id="workspace-switcher"' in page and "Studio Team (team)" in page


def test_cap_form_and_switcher(client, team, owner, teammate):
    client.force_login(owner)
    client.post(reverse("teams:cap", args=[team.pk, teammate.pk]), {"cap": "12.5"})
    assert member_cap(workspace=team, user=teammate) == 12_500
    client.post(reverse("teams:cap", args=[team.pk, teammate.pk]), {"cap": ""})
    assert member_cap(workspace=team, user=teammate) is None
    response = client.post(reverse("teams:switch"), {"workspace": team.pk, "next": "https://evil.example/"})
    assert response["Location"] == reverse("studio:gallery")
    owner.refresh_from_db()
    assert owner.current_workspace == team


def test_create_team_and_leave_via_pages(client, owner, teammate, team):
    client.force_login(owner)
    response = client.post(reverse("teams:new"), {"name": "Second"})
    created = Workspace.objects.get(name="Second")
    assert response["Location"] == reverse("teams:detail", args=[created.pk])
    client.force_login(teammate)
    assert client.post(reverse("teams:leave", args=[team.pk]))["Location"] == reverse("teams:list")
    assert not Membership.objects.filter(workspace=team, user=teammate).exists()


def test_the_invitation_page_names_team_and_inviter_only_to_the_invited_address(client, team, owner, make_user):
    _, token = team_invite(workspace=team, actor=owner, email="joiner@example.com")
    path = reverse("teams:accept", args=[token])
    client.force_login(make_user("someone-else@example.com"))  # holds the link, is not the invitee
    for response in (client.get(path), client.post(path)):
        page = response.content.decode()
        assert response.status_code == 403
        assert "Studio Team" not in page and "owner@example.com" not in page and "joiner@example.com" not in page
        assert "j***@example.com" in page and "invitation_email_mismatch" in page
    assert not Membership.objects.filter(workspace=team, user__email="someone-else@example.com").exists()
    client.force_login(make_user("Joiner@Example.com"))
    page = client.get(path).content.decode()
    assert "Join Studio Team" in page and "owner@example.com" in page and "Accept and join" in page

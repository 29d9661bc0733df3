"""Team pages: thin views over apps.accounts and apps.wallet services. Outsiders get 404 everywhere."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from apps.accounts.errors import TeamError
from apps.accounts.models import Invitation, Membership, Workspace
from apps.accounts.services import (
    email_hint,
    invitation_accept,
    invitation_for_token,
    invitation_is_for,
    invitation_revoke,
    membership_leave,
    membership_remove,
    membership_set_role,
    team_create,
    team_invite,
    workspace_switch,
)
from apps.catalog.money import credits_to_milli
from apps.core.errors import Kind
from apps.core.http import status_for
from apps.wallet.selectors import member_spend_this_month, wallet_summary
from apps.wallet.services import member_cap_set


def _team_or_404(user, pk) -> tuple[Workspace, Membership]:
    membership = (
        Membership.objects.select_related("workspace")
        .filter(user=user, workspace_id=pk, workspace__kind=Workspace.Kind.TEAM)
        .first()
    )
    if membership is None:
        raise Http404
    return membership.workspace, membership


def _refused(request, exc: TeamError):
    if exc.kind == Kind.NOT_FOUND:
        raise Http404
    messages.error(request, exc.message)


@login_required
def team_list(request):
    memberships = (
        Membership.objects.filter(user=request.user, workspace__kind=Workspace.Kind.TEAM)
        .select_related("workspace")
        .order_by("workspace__name")
    )
    return render(request, "teams/list.html", {"memberships": memberships})


@login_required
@require_POST
def team_new(request):
    try:
        workspace = team_create(user=request.user, name=request.POST.get("name", ""))
    except TeamError as exc:
        _refused(request, exc)
        return redirect("teams:list")
    messages.success(request, f"Team {workspace.name} created.")
    return redirect("teams:detail", pk=workspace.pk)


@login_required
def team_detail(request, pk):
    workspace, membership = _team_or_404(request.user, pk)
    context = {
        "team": workspace,
        "me": membership,
        "can_manage": membership.role in (Membership.Role.OWNER, Membership.Role.ADMIN),
        "is_owner": membership.role == Membership.Role.OWNER,
        "rows": member_spend_this_month(workspace=workspace),
        "pool": wallet_summary(workspace=workspace),
        "roles": Membership.Role.choices,
        "invitations": Invitation.objects.filter(workspace=workspace, accepted_at=None, revoked_at=None),
    }
    return render(request, "teams/team.html", context)


@login_required
@require_POST
def team_invite_view(request, pk):
    workspace, _ = _team_or_404(request.user, pk)
    try:
        invitation, _token = team_invite(
            workspace=workspace, actor=request.user, email=request.POST.get("email", ""),
            role=request.POST.get("role", Membership.Role.MEMBER),
        )
        messages.success(request, f"Invitation sent to {invitation.email}.")
    except TeamError as exc:
        _refused(request, exc)
    return redirect("teams:detail", pk=pk)


@login_required
@require_POST
def invitation_revoke_view(request, pk, invitation_id):
    workspace, _ = _team_or_404(request.user, pk)
    try:
        invitation_revoke(workspace=workspace, actor=request.user, invitation_id=invitation_id)
        messages.success(request, "Invitation revoked.")
    except TeamError as exc:
        _refused(request, exc)
    return redirect("teams:detail", pk=pk)


@login_required
@require_POST
def member_role(request, pk, user_id):
    workspace, _ = _team_or_404(request.user, pk)
    try:
        target = membership_set_role(workspace=workspace, actor=request.user, user_id=user_id, role=request.POST.get("role", ""))
        messages.success(request, f"{target.user.email} is now {target.get_role_display().lower()}.")
    except TeamError as exc:
        _refused(request, exc)
    return redirect("teams:detail", pk=pk)


@login_required
@require_POST
def member_cap(request, pk, user_id):
    workspace, _ = _team_or_404(request.user, pk)
    raw = request.POST.get("cap", "").strip()
    try:
        cap = credits_to_milli(raw) if raw else None
    except (ValueError, ArithmeticError):
        messages.error(request, "The cap must be a number of credits (up to three decimals).")
        return redirect("teams:detail", pk=pk)
    try:
        target = member_cap_set(workspace=workspace, actor=request.user, user_id=user_id, cap=cap)
        messages.success(request, f"Monthly cap for {target.user.email} updated.")
    except TeamError as exc:
        _refused(request, exc)
    return redirect("teams:detail", pk=pk)


@login_required
@require_POST
def member_remove(request, pk, user_id):
    workspace, _ = _team_or_404(request.user, pk)
    try:
        membership_remove(workspace=workspace, actor=request.user, user_id=user_id)
        messages.success(request, "Member removed.")
    except TeamError as exc:
        _refused(request, exc)
    return redirect("teams:detail", pk=pk)


@login_required
@require_POST
def team_leave(request, pk):
    workspace, _ = _team_or_404(request.user, pk)
    try:
        membership_leave(workspace=workspace, user=request.user)
    except TeamError as exc:
        _refused(request, exc)
        return redirect("teams:detail", pk=pk)
    messages.success(request, f"You left {workspace.name}.")
    return redirect("teams:list")


def invitation_view(request, token):
    """GET shows who invites you where; POST accepts. A logged-out invitee is sent to sign up
    (or log in) and back here; a different logged-in account is told to switch, and sees
    neither the team nor the inviter."""
    try:
        invitation = invitation_for_token(token=token)
    except TeamError:
        raise Http404 from None
    if not request.user.is_authenticated:
        return render(request, "teams/invitation_welcome.html", {"invited_email": invitation.email})
    if not invitation_is_for(invitation=invitation, user=request.user):
        # Anyone else holding the link learns neither the team nor the inviter, nor the whole address.
        return render(request, "teams/invitation_other_account.html", {"invited_email": email_hint(invitation.email)},
                      status=403)
    if request.method == "POST":
        try:
            invitation_accept(token=token, user=request.user)
        except TeamError as exc:
            messages.error(request, exc.message)
            return render(request, "teams/invitation.html", {"invitation": invitation, "error": exc}, status=status_for(exc))
        workspace_switch(user=request.user, workspace_id=invitation.workspace_id)
        messages.success(request, f"Welcome to {invitation.workspace.name}. You now generate in this team.")
        return redirect("teams:detail", pk=invitation.workspace_id)
    return render(request, "teams/invitation.html", {"invitation": invitation})


@login_required
@require_POST
def switch(request):
    try:
        workspace = workspace_switch(user=request.user, workspace_id=int(request.POST.get("workspace", "0")))
    except (TeamError, ValueError):
        raise Http404 from None
    messages.success(request, f"Now working in {workspace.name}.")
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        target = reverse("studio:gallery")
    return redirect(target)

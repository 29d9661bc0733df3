import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from apps.core.errors import Kind

from .errors import TeamError, not_allowed, not_found
from .models import Invitation, Membership, Plan, User, Workspace
from .signals import workspace_created


@transaction.atomic
def plan_default() -> Plan:
    """The plan of every workspace without one of its own (made on first use if missing)."""
    plan = Plan.objects.filter(is_default=True).first()
    if plan is None:
        plan, _ = Plan.objects.get_or_create(is_default=True, defaults={"name": "Default"})
    return plan


def plan_of(workspace: Workspace) -> Plan:
    return workspace.plan if workspace.plan is not None else plan_default()


def user_onboard(*, user: User) -> Workspace:
    """Give a new user a personal workspace (once); its wallet and sign-up grant come from the
    wallet app's workspace_created receiver, in this transaction."""
    workspace = Workspace.objects.filter(created_by=user, kind=Workspace.Kind.PERSONAL).first()
    if workspace is not None:
        return workspace
    workspace = Workspace.objects.create(kind=Workspace.Kind.PERSONAL, name="Personal", created_by=user)
    Membership.objects.create(workspace=workspace, user=user, role=Membership.Role.OWNER)
    workspace_created.send(sender=Workspace, workspace=workspace)
    User.objects.filter(pk=user.pk).update(current_workspace=workspace)
    user.current_workspace = workspace
    return workspace


def workspace_for_user(*, user: User, workspace_id: int | None = None) -> Workspace | None:
    """The workspace a request acts in: the given one if the user is a member, else their current one."""
    qs = Workspace.objects.filter(memberships__user=user)
    if workspace_id is not None:
        return qs.filter(pk=workspace_id).first()
    if user.current_workspace_id:
        found = qs.filter(pk=user.current_workspace_id).first()
        if found:
            return found
    return qs.order_by("id").first()


# ---- teams --------------------------------------------------------------------------------
INVITATION_DAYS = 7
MANAGERS = (Membership.Role.OWNER, Membership.Role.ADMIN)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _personal_workspace(user: User) -> Workspace | None:
    return Workspace.objects.filter(created_by=user, kind=Workspace.Kind.PERSONAL).first()


def membership_of(*, workspace: Workspace, user: User) -> Membership:
    """The user's membership, or not_found (outsiders see 404, never 403)."""
    membership = Membership.objects.filter(workspace=workspace, user=user).first()
    if membership is None:
        raise not_found()
    return membership


def membership_manager(*, workspace: Workspace, actor: User) -> Membership:
    """The actor's membership if they may manage this team (owner or admin); not_found for an
    outsider, team_required for a personal workspace, not_allowed for a plain member."""
    membership = membership_of(workspace=workspace, user=actor)
    if not workspace.is_team:
        raise TeamError("team_required", "This is a personal workspace.", Kind.INVALID)
    if membership.role not in MANAGERS:
        raise not_allowed()
    return membership


def membership_target(*, workspace: Workspace, user_id: int) -> Membership:
    """The membership a manager acts on, or not_found."""
    membership = Membership.objects.select_related("user").filter(workspace=workspace, user_id=user_id).first()
    if membership is None:
        raise not_found()
    return membership


def _owners_locked(workspace: Workspace) -> list[int]:
    """Owner user ids, with the owners' rows locked so two owners leaving at once cannot both
    pass the last-owner check (SQLite: the IMMEDIATE transaction already serialises writers)."""
    return list(
        Membership.objects.select_for_update()
        .filter(workspace=workspace, role=Membership.Role.OWNER)
        .order_by("pk")
        .values_list("user_id", flat=True)
    )


def _leave_current(workspace: Workspace, user: User) -> None:
    personal = _personal_workspace(user)
    User.objects.filter(pk=user.pk, current_workspace=workspace).update(current_workspace=personal)
    if user.current_workspace_id == workspace.pk:
        user.current_workspace = personal


@transaction.atomic
def team_create(*, user: User, name: str) -> Workspace:
    name = (name or "").strip()
    if not name:
        raise TeamError("invalid_request", "A team needs a name.")
    workspace = Workspace.objects.create(kind=Workspace.Kind.TEAM, name=name[:120], created_by=user)
    Membership.objects.create(workspace=workspace, user=user, role=Membership.Role.OWNER)
    workspace_created.send(sender=Workspace, workspace=workspace)
    return workspace


def team_invite(*, workspace: Workspace, actor: User, email: str, role: str = Membership.Role.MEMBER) -> tuple[Invitation, str]:
    """Create an invitation and email its accept link. Returns (invitation, raw token)."""
    actor_membership = membership_manager(workspace=workspace, actor=actor)
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise TeamError("invalid_email", "Enter a valid email address.") from None
    if role not in Membership.Role.values:
        raise TeamError("invalid_role", "Unknown role.")
    if role == Membership.Role.OWNER and actor_membership.role != Membership.Role.OWNER:
        raise TeamError("forbidden", "Only owners can invite owners.", Kind.FORBIDDEN)
    if Membership.objects.filter(workspace=workspace, user__email__iexact=email).exists():
        raise TeamError("already_member", f"{email} is already in this team.", Kind.CONFLICT)
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        # A new invitation replaces an older pending one for the same address.
        Invitation.objects.filter(workspace=workspace, email=email, accepted_at=None, revoked_at=None).update(revoked_at=now)
        invitation = Invitation.objects.create(
            workspace=workspace, email=email, role=role, token_hash=_token_hash(token), invited_by=actor,
            expires_at=now + timedelta(days=INVITATION_DAYS),
        )
        link = settings.SITE_URL.rstrip("/") + reverse("teams:accept", args=[token])
        body = render_to_string(
            "teams/invite_email.txt", {"workspace": workspace, "inviter": actor, "link": link, "invitation": invitation}
        )
        transaction.on_commit(
            lambda: send_mail(f"Join {workspace.name} on Atelier", body, None, [email], fail_silently=False)
        )
    return invitation, token


def invitation_for_token(*, token: str) -> Invitation:
    invitation = Invitation.objects.select_related("workspace", "invited_by").filter(token_hash=_token_hash(token or "")).first()
    if invitation is None or invitation.revoked_at is not None:
        raise TeamError("invitation_invalid", "This invitation link is not valid.", Kind.NOT_FOUND)
    return invitation


def invitation_is_for(*, invitation: Invitation, user: User) -> bool:
    """Only the invited address may see who invites it where: a forwarded or leaked link must
    not tell anyone else the team's name or the inviter's email."""
    return invitation.email.lower() == (user.email or "").lower()


def email_hint(email: str) -> str:
    """'joiner@example.com' -> 'j***@example.com': enough to recognise one's own address."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


@transaction.atomic
def invitation_accept(*, token: str, user: User) -> Membership:
    invitation = invitation_for_token(token=token)
    if not invitation_is_for(invitation=invitation, user=user):
        raise TeamError(
            "invitation_email_mismatch",
            f"This invitation was sent to another address ({email_hint(invitation.email)}); log in with that address.",
            Kind.FORBIDDEN,
        )
    existing = Membership.objects.filter(workspace=invitation.workspace, user=user).first()
    if invitation.accepted_at is not None:
        if existing is not None and invitation.accepted_by_id == user.pk:
            return existing  # the same link clicked twice
        raise TeamError("invitation_used", "This invitation has already been used.", Kind.CONFLICT)
    if invitation.expires_at <= timezone.now():
        raise TeamError("invitation_expired", "This invitation has expired; ask for a new one.", Kind.GONE)
    # Conditional UPDATE: two tabs accepting at once create one membership.
    claimed = Invitation.objects.filter(pk=invitation.pk, accepted_at=None, revoked_at=None).update(
        accepted_at=timezone.now(), accepted_by=user
    )
    if not claimed:
        raise TeamError("invitation_used", "This invitation has already been used.", Kind.CONFLICT)
    if existing is not None:
        return existing
    return Membership.objects.create(workspace=invitation.workspace, user=user, role=invitation.role)


def invitation_revoke(*, workspace: Workspace, actor: User, invitation_id: int) -> None:
    membership_manager(workspace=workspace, actor=actor)
    updated = Invitation.objects.filter(
        pk=invitation_id, workspace=workspace, accepted_at=None, revoked_at=None
    ).update(revoked_at=timezone.now())
    if not updated:
        raise not_found()


@transaction.atomic
def membership_leave(*, workspace: Workspace, user: User) -> None:
    membership = membership_of(workspace=workspace, user=user)
    if not workspace.is_team:
        raise TeamError("personal_workspace", "You cannot leave your personal workspace.", Kind.INVALID)
    if membership.role == Membership.Role.OWNER and _owners_locked(workspace) == [user.pk]:
        raise TeamError("last_owner", "You are the last owner: make someone else an owner first.", Kind.CONFLICT)
    membership.delete()
    _leave_current(workspace, user)


@transaction.atomic
def membership_remove(*, workspace: Workspace, actor: User, user_id: int) -> None:
    actor_membership = membership_manager(workspace=workspace, actor=actor)
    target = membership_target(workspace=workspace, user_id=user_id)
    if target.user_id == actor.pk:
        raise TeamError("use_leave", "To remove yourself, leave the team.", Kind.INVALID)
    if target.role == Membership.Role.OWNER:
        if actor_membership.role != Membership.Role.OWNER:
            raise TeamError("forbidden", "Only owners can remove owners.", Kind.FORBIDDEN)
        if _owners_locked(workspace) == [target.user_id]:
            raise TeamError("last_owner", "A team needs at least one owner.", Kind.CONFLICT)
    target.delete()
    _leave_current(workspace, target.user)


@transaction.atomic
def membership_set_role(*, workspace: Workspace, actor: User, user_id: int, role: str) -> Membership:
    actor_membership = membership_manager(workspace=workspace, actor=actor)
    if role not in Membership.Role.values:
        raise TeamError("invalid_role", "Unknown role.")
    target = membership_target(workspace=workspace, user_id=user_id)
    touches_owner = Membership.Role.OWNER in (role, target.role)
    if touches_owner and actor_membership.role != Membership.Role.OWNER:
        raise TeamError("forbidden", "Only owners can make or unmake owners.", Kind.FORBIDDEN)
    if target.role == Membership.Role.OWNER and role != Membership.Role.OWNER:
        if _owners_locked(workspace) == [target.user_id]:
            raise TeamError("last_owner", "A team needs at least one owner.", Kind.CONFLICT)
    Membership.objects.filter(pk=target.pk).update(role=role)
    target.role = role
    return target


def workspace_switch(*, user: User, workspace_id: int) -> Workspace:
    """Make `workspace_id` the one the user generates in (and whose wallet pays)."""
    workspace = workspace_for_user(user=user, workspace_id=workspace_id)
    if workspace is None:
        raise not_found()
    User.objects.filter(pk=user.pk).update(current_workspace=workspace)
    user.current_workspace = workspace
    return workspace

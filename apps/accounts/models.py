from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email, password=None, **extra):
        extra.update(is_staff=True, is_superuser=True)
        return self._create_user(email, password, **extra)


class User(AbstractUser):
    """Logs in with an email address; there is no username."""

    username = None
    email = models.EmailField("email address", unique=True)
    # The workspace the user generates in and whose wallet pays (personal or a team).
    current_workspace = models.ForeignKey(
        "accounts.Workspace", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []
    objects = UserManager()

    def __str__(self):
        return self.email


class Plan(models.Model):
    """The limits a workspace works within (reference 004's Pro and Max tiers). A workspace
    without a plan of its own uses the default plan; give a workspace its own plan in admin to
    change its limits alone. Blank limits are off."""

    name = models.CharField(max_length=80, unique=True)
    is_default = models.BooleanField(default=False, help_text="Used by every workspace without a plan.")
    max_active_keys = models.PositiveIntegerField(default=3, help_text="Active API keys per user.")
    requests_per_minute = models.PositiveIntegerField(default=60, help_text="Per API key, in any sliding minute.")
    polls_per_minute = models.PositiveIntegerField(default=300, help_text="Status reads per API key.")
    workspace_requests_per_minute = models.PositiveIntegerField(null=True, blank=True,
                                                                help_text="All keys of a workspace together.")
    model_requests_per_minute = models.PositiveIntegerField(null=True, blank=True,
                                                            help_text="Per workspace and model.")
    concurrent_video_jobs = models.PositiveIntegerField(null=True, blank=True, default=2,
                                                        help_text="Video jobs queued or running at once.")
    publishable_requests_per_minute = models.PositiveIntegerField(default=20,
                                                                  help_text="Per client IP, publishable keys.")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["is_default"], condition=models.Q(is_default=True),
                                               name="one_default_plan")]

    def __str__(self):
        return self.name


class Workspace(models.Model):
    """Who pays: a user's personal workspace or a team's shared pool. Owns one wallet."""

    class Kind(models.TextChoices):
        PERSONAL = "personal", "Personal"
        TEAM = "team", "Team"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    name = models.CharField(max_length=120)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, through="Membership", related_name="workspaces")
    plan = models.ForeignKey(Plan, null=True, blank=True, on_delete=models.PROTECT, related_name="workspaces",
                             help_text="Blank: the default plan.")

    class Meta:
        constraints = [
            # A user has exactly one personal workspace.
            models.UniqueConstraint(
                fields=["created_by"], condition=models.Q(kind="personal"), name="one_personal_workspace_per_user"
            )
        ]

    def __str__(self):
        return self.name

    @property
    def is_team(self):
        return self.kind == self.Kind.TEAM


class Membership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        ADMIN = "admin", "Admin"
        MEMBER = "member", "Member"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "user"], name="one_membership_per_workspace")]

    def __str__(self):
        return f"{self.user} in {self.workspace} ({self.role})"


class Invitation(models.Model):
    """An emailed link that lets whoever owns `email` join a team with `role`. Only a hash of
    the token is stored: the database alone cannot be used to accept invitations."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=16, choices=Membership.Role.choices, default=Membership.Role.MEMBER)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.email} to {self.workspace}"

    @property
    def is_pending(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None

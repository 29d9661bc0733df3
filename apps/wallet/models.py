from django.conf import settings
from django.db import models


class Wallet(models.Model):
    """A workspace's credits. balance and held change only together with a LedgerEntry."""

    workspace = models.OneToOneField("accounts.Workspace", on_delete=models.PROTECT, related_name="wallet")
    balance = models.BigIntegerField(default=0)  # millicredits
    held = models.BigIntegerField(default=0)  # millicredits reserved by open holds
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(held__gte=0), name="wallet_held_not_negative"),
            models.CheckConstraint(condition=models.Q(balance__gte=models.F("held")), name="wallet_covers_holds"),
        ]

    def __str__(self):
        return f"Wallet of {self.workspace}"

    @property
    def available(self) -> int:
        return self.balance - self.held


class Hold(models.Model):
    """Credits reserved for one generation until it is captured or released, once."""

    class State(models.TextChoices):
        OPEN = "open", "Open"
        CAPTURED = "captured", "Captured"
        RELEASED = "released", "Released"

    wallet = models.ForeignKey(Wallet, on_delete=models.PROTECT, related_name="holds")
    generation = models.OneToOneField(
        "generations.Generation", on_delete=models.PROTECT, related_name="hold", null=True, blank=True
    )
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True)
    amount = models.BigIntegerField()
    captured_amount = models.BigIntegerField(null=True, blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.OPEN, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    settled_at = models.DateTimeField(null=True, blank=True)
    # The MemberSpend month this hold counts against (holds placed by a member); settling gives
    # back to that month's counter, so a hold placed in May and released in June corrects May.
    spend_month = models.DateField(null=True, blank=True)
    # The Budget it also counts against (an API key's credit limit), and that budget's month.
    budget = models.ForeignKey("Budget", on_delete=models.PROTECT, related_name="holds", null=True, blank=True)
    budget_month = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="hold_amount_positive"),
            models.CheckConstraint(
                condition=models.Q(captured_amount__isnull=True) | models.Q(captured_amount__lte=models.F("amount")),
                name="capture_within_hold",
            ),
        ]


class MemberSpend(models.Model):
    """What one member has committed from one wallet in one calendar month (UTC): open holds
    plus captures. hold_place raises it with one upsert guarded by the member's cap
    (MemberCap), in the same transaction as the wallet UPDATE; releases and partial captures
    give back."""

    wallet = models.ForeignKey(Wallet, on_delete=models.PROTECT, related_name="member_spend")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    month = models.DateField()  # first day of the month
    amount = models.BigIntegerField(default=0)  # millicredits

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["wallet", "member", "month"], name="one_spend_row_per_member_month"),
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="member_spend_not_negative"),
        ]


class MemberCap(models.Model):
    """A member's monthly spending cap on a wallet (a team pool), in millicredits; no row, no
    cap. Set by the team's owners and admins (member_cap_set), dropped when the member leaves.
    The wallet owns it so the spend guard reads only wallet tables, in the same statement."""

    wallet = models.ForeignKey(Wallet, on_delete=models.PROTECT, related_name="member_caps")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    monthly_cap = models.BigIntegerField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["wallet", "member"], name="one_cap_per_member_wallet"),
            models.CheckConstraint(condition=models.Q(monthly_cap__gte=0), name="member_cap_not_negative"),
        ]


class Budget(models.Model):
    """A credit limit on one spender of a wallet other than a member: an API key (reference 004's
    "key credit limit"). Lifetime (`spent`, open holds plus captures, against `lifetime_limit`)
    and per calendar month (BudgetSpend against `monthly_limit`); a blank limit is no limit.
    Taken in the hold's transaction with conditional writes, so concurrent holds cannot pass it;
    the app that owns the spender keeps the budget's id."""

    wallet = models.ForeignKey(Wallet, on_delete=models.PROTECT, related_name="budgets")
    label = models.CharField(max_length=120)
    lifetime_limit = models.BigIntegerField(null=True, blank=True)  # millicredits
    monthly_limit = models.BigIntegerField(null=True, blank=True)  # millicredits
    spent = models.BigIntegerField(default=0)  # millicredits: open holds plus captures, all time
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(spent__gte=0), name="budget_spent_not_negative"),
        ]

    def __str__(self):
        return self.label


class BudgetSpend(models.Model):
    budget = models.ForeignKey(Budget, on_delete=models.PROTECT, related_name="months")
    month = models.DateField()  # first day of the month (UTC)
    amount = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["budget", "month"], name="one_budget_row_per_month"),
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="budget_spend_not_negative"),
        ]


class LedgerQuerySet(models.QuerySet):
    # Bulk paths bypass save()/delete(); close them too (the database triggers are the backstop).
    def update(self, **kwargs):
        raise ValueError("Ledger entries are append-only.")

    def delete(self):
        raise ValueError("Ledger entries are append-only.")


class LedgerEntry(models.Model):
    """Append-only. `amount` moves the balance, `held_delta` moves the held total."""

    class Kind(models.TextChoices):
        GRANT = "grant", "Grant"
        REDEEM = "redeem", "Redeem"
        HOLD = "hold", "Hold"
        CAPTURE = "capture", "Capture"
        RELEASE = "release", "Release"
        ADJUSTMENT = "adjustment", "Adjustment"
        # Credits given back for a finished generation, by an admin, with a reason (refunds.py).
        REFUND = "refund", "Refund"

    wallet = models.ForeignKey(Wallet, on_delete=models.PROTECT, related_name="entries")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    amount = models.BigIntegerField(default=0)
    held_delta = models.BigIntegerField(default=0)
    balance_after = models.BigIntegerField()
    held_after = models.BigIntegerField()
    hold = models.ForeignKey(Hold, on_delete=models.PROTECT, null=True, blank=True, related_name="entries")
    generation = models.ForeignKey(
        "generations.Generation", on_delete=models.PROTECT, null=True, blank=True, related_name="ledger_entries"
    )
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    reason = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = LedgerQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "ledger entries"
        constraints = [
            # The exactly-once rule: a hold settles by one capture or one release, never both, never twice.
            models.UniqueConstraint(
                fields=["hold"], condition=models.Q(kind__in=["capture", "release"]), name="hold_settles_once"
            ),
            models.UniqueConstraint(fields=["hold"], condition=models.Q(kind="hold"), name="hold_opens_once"),
        ]

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Ledger entries are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Ledger entries are append-only.")


class RedemptionBatch(models.Model):
    """A set of codes made by an admin: each code is worth `value` and can be redeemed by up to
    `max_redemptions` different users (once per user) until `expires_at`."""

    name = models.CharField(max_length=120)
    value = models.BigIntegerField()  # millicredits per redemption
    max_redemptions = models.PositiveIntegerField(default=1)  # per code
    expires_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "redemption batches"
        constraints = [
            models.CheckConstraint(condition=models.Q(value__gt=0), name="batch_value_positive"),
            models.CheckConstraint(condition=models.Q(max_redemptions__gt=0), name="batch_max_positive"),
        ]

    def __str__(self):
        return self.name


class RedemptionCode(models.Model):
    batch = models.ForeignKey(RedemptionBatch, on_delete=models.PROTECT, related_name="codes")
    code = models.CharField(max_length=40, unique=True)
    # Raised by a conditional UPDATE (times_redeemed < max) in the redeeming transaction.
    times_redeemed = models.PositiveIntegerField(default=0)

    def __str__(self):
        return self.code


class Redemption(models.Model):
    code = models.ForeignKey(RedemptionCode, on_delete=models.PROTECT, related_name="redemptions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    wallet = models.ForeignKey(Wallet, on_delete=models.PROTECT, related_name="redemptions")
    entry = models.OneToOneField(LedgerEntry, on_delete=models.PROTECT, related_name="redemption")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["code", "user"], name="code_once_per_user")]

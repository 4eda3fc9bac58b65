"""Loyalty programs, tiers, member accounts and the points ledger.

The ledger (:class:`PointsEntry`) is append-only: one signed row per movement, never updated or
deleted (a database trigger refuses both, see migration 0002). :class:`MemberAccount` caches the
balances that the entries add up to; only ``loyalty.services.ledger.points_post`` moves them, in
the same transaction as the entry and under a row lock on the account. :class:`PointsLot` tracks
what remains of each earning for first-to-expire spending and expiry. The invariants are listed
in docs/ledger.md and verified by ``manage.py check_ledger``.

Points are integers (``BigIntegerField``). Qualifying values for tiers are ``Decimal``: money in
the shop's currency for the *spend* basis, whole points for the *points* basis.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from marketplace.models import MONEY_DIGITS, MONEY_PLACES, Category, Customer, Order, Shop


class TierBasis(models.TextChoices):
    """What counts towards a tier threshold."""

    SPEND = "spend", "Goods spend in the shop's currency"
    POINTS = "points", "Points earned"


class TierWindow(models.TextChoices):
    """Over which period the qualifying value is summed."""

    LIFETIME = "lifetime", "Lifetime"
    CALENDAR_YEAR = "calendar_year", "Calendar year"
    ROLLING_12_MONTHS = "rolling_12_months", "Rolling 12 months"


class LoyaltyProgram(models.Model):
    """A shop's loyalty program: earning rate, pending period, expiry and how tiers qualify."""

    shop = models.OneToOneField(Shop, on_delete=models.CASCADE, related_name="program")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    points_per_currency_unit = models.DecimalField(
        max_digits=10,
        decimal_places=4,
        default=Decimal("1"),
        help_text="Points earned per one unit of the shop's currency of goods.",
    )
    minimum_order_amount = models.DecimalField(
        max_digits=MONEY_DIGITS,
        decimal_places=MONEY_PLACES,
        default=Decimal("0"),
        help_text="Orders whose goods amount is below this earn nothing.",
    )
    pending_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Days after delivery before earned points become available; empty = the shop's return window.",
    )
    expiry_months = models.PositiveIntegerField(
        null=True, blank=True, help_text="Months after becoming available that points expire; empty = never."
    )
    tier_basis = models.CharField(max_length=16, choices=TierBasis.choices, default=TierBasis.SPEND)
    tier_window = models.CharField(max_length=24, choices=TierWindow.choices, default=TierWindow.LIFETIME)
    downgrade_policy = models.CharField(
        max_length=24,
        choices=[("never", "Never downgrade"), ("requalification", "At requalification")],
        default="requalification",
        help_text="When members may move down a tier.",
    )
    downgrade_grace_days = models.PositiveIntegerField(
        default=0, help_text="Days after the window ends before a downgrade takes effect."
    )
    welcome_bonus_points = models.PositiveIntegerField(default=0, help_text="Points given on enrolment.")
    birthday_bonus_points = models.PositiveIntegerField(
        default=0, help_text="Points given once a year on the birthday."
    )
    point_value = models.DecimalField(
        max_digits=12,
        decimal_places=6,
        default=Decimal("0.01"),
        help_text="What one point is worth in the shop's currency (for liability and when spent at checkout).",
    )
    points_payment_max_percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal("100"),
        help_text="Largest share (percent, 0-100) of a basket after discounts payable with points; 0: never.",
    )
    points_payment_min_points = models.PositiveIntegerField(
        default=0, help_text="Fewest points a member may spend on one checkout."
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    config_version = models.PositiveBigIntegerField(
        default=0,
        editable=False,
        help_text=(
            "Bumped by database triggers on every change of the program's tiers, earning rules (and "
            "their categories and tiers) and referral settings; never lowered. Workers key their "
            "per-process caches of those rows on it (loyalty.services.tiers.program_config_cached)."
        ),
    )

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(points_per_currency_unit__gte=0), name="program_rate_nonnegative"),
            models.CheckConstraint(condition=Q(minimum_order_amount__gte=0), name="program_minimum_nonnegative"),
            models.CheckConstraint(
                condition=Q(points_payment_max_percent__gte=0) & Q(points_payment_max_percent__lte=100),
                name="program_points_payment_percent_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def effective_pending_days(self) -> int:
        """Days earned points stay pending: ``pending_days`` or else the shop's return window."""
        return self.pending_days if self.pending_days is not None else self.shop.return_window_days


class ProgramChange(models.Model):
    """Audit record of one ``programUpdate``: who, when, and each changed field's old and new value."""

    program = models.ForeignKey(LoyaltyProgram, on_delete=models.CASCADE, related_name="changes")
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    changed_at = models.DateTimeField(auto_now_add=True)
    changes = models.JSONField(help_text='{"field": {"old": "...", "new": "..."}} with values as strings.')

    class Meta:
        ordering = ["-changed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.program} changed by {self.changed_by} at {self.changed_at}"


class ActiveTierManager(models.Manager):
    """Tiers still on the ladder: archived (deleted) tiers are left out of every query and relation.

    Archived tiers stay in the table because the tier history (:class:`TierChange`) points at
    them; foreign keys to a tier use the base manager, so old history still reads them.
    """

    def get_queryset(self) -> models.QuerySet:
        """Only tiers without ``archived_at``."""
        return super().get_queryset().filter(archived_at__isnull=True)


class Tier(models.Model):
    """One level of a program; members at or above ``threshold`` hold it (ordered by ``position``).

    Along the positions of a program's live tiers the thresholds increase strictly from 0
    (enforced by ``services.tier_admin`` under the program lock). ``tierDelete`` archives a
    tier (``archived_at``) instead of deleting it, so that history keeps its name.
    """

    program = models.ForeignKey(LoyaltyProgram, on_delete=models.CASCADE, related_name="tiers")
    name = models.CharField(max_length=80)
    name_translations = models.JSONField(
        default=dict, blank=True, help_text='The name in other languages: {"fa": "طلایی"}.'
    )
    position = models.PositiveIntegerField(help_text="0 for the entry tier, then 1, 2, ... upwards.")
    threshold = models.DecimalField(
        max_digits=MONEY_DIGITS,
        decimal_places=MONEY_PLACES,
        help_text="Qualifying value (currency or points, per the program's basis) needed to hold the tier.",
    )
    multiplier = models.DecimalField(
        max_digits=5, decimal_places=2, default=Decimal("1"), help_text="Points multiplier (>= 1)."
    )
    discount_percent = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal("0"))
    benefits = models.JSONField(default=list, blank=True, help_text="List of benefit texts.")
    color = models.CharField(max_length=7, default="#8a8a8a", help_text="Badge colour, #RRGGBB.")
    archived_at = models.DateTimeField(null=True, blank=True, help_text="When the tier was deleted from the ladder.")

    all_objects = models.Manager()
    objects = ActiveTierManager()

    class Meta:
        ordering = ["program_id", "position"]
        base_manager_name = "all_objects"
        default_manager_name = "objects"
        constraints = [
            models.UniqueConstraint(
                fields=["program", "position"], condition=Q(archived_at__isnull=True), name="tier_unique_live_position"
            ),
            models.UniqueConstraint(
                fields=["program", "name"], condition=Q(archived_at__isnull=True), name="tier_unique_live_name"
            ),
            models.CheckConstraint(condition=Q(multiplier__gte=1), name="tier_multiplier_min_1"),
            models.CheckConstraint(
                condition=Q(discount_percent__gte=0) & Q(discount_percent__lte=100), name="tier_discount_range"
            ),
            models.CheckConstraint(condition=Q(threshold__gte=0), name="tier_threshold_nonnegative"),
        ]

    def __str__(self) -> str:
        return self.name


class RuleKind(models.TextChoices):
    """How an earning rule adds points."""

    MULTIPLIER = "multiplier", "Multiplies the points of the lines it covers"
    FIXED_BONUS = "fixed_bonus", "Adds a fixed number of points"


class EarningRule(models.Model):
    """A campaign: extra points for orders that meet its conditions (read in the shop's time zone).

    Conditions (all must hold; an empty one always holds): ``starts_at`` <= order time <
    ``ends_at``; weekday in ``days_of_week`` (0 = Monday); ``start_time`` <= time of day <
    ``end_time``; at least one line in ``categories`` (a multiplier then covers only those
    lines); goods amount >= ``min_order_amount``; member's tier in ``tiers``; member in one of the
    shop's segments ``segment_ids`` (crm's ids: loyalty sits below crm, so no foreign key; a
    deleted segment's id matches nobody; docs/crm.md, "Segments in earning rules"). Rules apply by
    ``priority`` (highest first); a non-stackable rule never combines with another. Seasonal
    events (Nowruz, Yalda, Black Friday) are dated rules. Evaluation: ``services.rules``.
    """

    program = models.ForeignKey(LoyaltyProgram, on_delete=models.CASCADE, related_name="earning_rules")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=RuleKind.choices)
    multiplier = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    bonus_points = models.BigIntegerField(null=True, blank=True)
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    days_of_week = models.JSONField(default=list, blank=True, help_text="Weekdays 0 (Monday) to 6; empty = every day.")
    start_time = models.TimeField(null=True, blank=True, help_text="Local time of day the rule starts (inclusive).")
    end_time = models.TimeField(null=True, blank=True, help_text="Local time of day the rule ends (exclusive).")
    categories = models.ManyToManyField(Category, blank=True, related_name="+")
    tiers = models.ManyToManyField(Tier, blank=True, related_name="+")
    segment_ids = models.JSONField(
        default=list,
        blank=True,
        help_text="Ids of the shop's segments (crm); the member must be in one of them. Empty = every member.",
    )
    min_order_amount = models.DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, null=True, blank=True)
    priority = models.IntegerField(default=0)
    stackable = models.BooleanField(default=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["program_id", "-priority", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind="multiplier") & Q(multiplier__gte=1) & Q(bonus_points__isnull=True))
                | (Q(kind="fixed_bonus") & Q(bonus_points__gt=0) & Q(multiplier__isnull=True)),
                name="rule_kind_fields",
            ),
            models.CheckConstraint(
                condition=Q(starts_at__isnull=True) | Q(ends_at__isnull=True) | Q(ends_at__gt=F("starts_at")),
                name="rule_dates_ordered",
            ),
            models.CheckConstraint(
                condition=(Q(start_time__isnull=True) & Q(end_time__isnull=True))
                | (Q(start_time__isnull=False) & Q(end_time__isnull=False) & Q(end_time__gt=F("start_time"))),
                name="rule_hours_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class MemberStatus(models.TextChoices):
    """A member's standing in a shop, set by its staff (docs/crm.md, "Status").

    ``blocked`` earns nothing (orders, bonuses, referrals) and redeems nothing (rewards, points at
    checkout); staff adjustments still apply. ``inactive`` is informational (a member who left).
    """

    ACTIVE = "active", "Active"
    INACTIVE = "inactive", "Inactive"
    BLOCKED = "blocked", "Blocked"


class MemberAccount(models.Model):
    """A customer's membership in one shop's program, with cached balances.

    The cached figures always equal the sums of the account's ledger entries (see
    ``loyalty.selectors.ledger_discrepancies``); they are changed only by
    ``loyalty.services.ledger.points_post`` under ``select_for_update`` on this row.
    """

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="accounts")
    program = models.ForeignKey(LoyaltyProgram, on_delete=models.CASCADE, related_name="accounts")
    tier = models.ForeignKey(Tier, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    points_available = models.BigIntegerField(default=0, help_text="Points that can be redeemed now.")
    points_pending = models.BigIntegerField(default=0, help_text="Points earned but still in the return window.")
    lifetime_points = models.BigIntegerField(default=0, help_text="Points earned ever, net of reversed earnings.")
    points_redeemed = models.BigIntegerField(default=0)
    points_expired = models.BigIntegerField(default=0)
    qualifying_value = models.DecimalField(
        max_digits=MONEY_DIGITS + 4,
        decimal_places=MONEY_PLACES,
        default=Decimal("0"),
        help_text="Value counted towards tiers as of the last evaluation (currency or points).",
    )
    enrolled_at = models.DateTimeField()
    last_activity_at = models.DateTimeField(null=True, blank=True)
    requalified_through = models.DateTimeField(
        null=True, blank=True, help_text="End of the last qualifying window requalification has settled."
    )
    status = models.CharField(max_length=16, choices=MemberStatus.choices, default=MemberStatus.ACTIVE)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    tier_floor = models.ForeignKey(
        Tier,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="A tier held regardless of spend while a paid membership lasts; ``tier`` is never below it.",
    )
    tier_earned = models.ForeignKey(
        Tier,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="While ``tier_floor`` is set: the tier the member's own qualifying value holds beneath it.",
    )
    membership_multiplier = models.DecimalField(
        max_digits=6,
        decimal_places=3,
        default=Decimal("1"),
        help_text="Extra earning multiplier of a paid membership (1: none), on top of the tier's.",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["customer", "program"], name="account_unique_member_program"),
            models.CheckConstraint(condition=Q(membership_multiplier__gte=1), name="account_membership_multiplier_min"),
            models.CheckConstraint(condition=Q(points_available__gte=0), name="account_available_nonnegative"),
            models.CheckConstraint(condition=Q(points_pending__gte=0), name="account_pending_nonnegative"),
            models.CheckConstraint(condition=Q(lifetime_points__gte=0), name="account_lifetime_nonnegative"),
            models.CheckConstraint(condition=Q(points_redeemed__gte=0), name="account_redeemed_nonnegative"),
            models.CheckConstraint(condition=Q(points_expired__gte=0), name="account_expired_nonnegative"),
        ]

    def __str__(self) -> str:
        return f"{self.customer} in {self.program}"

    @property
    def blocked(self) -> bool:
        """Whether the member is blocked: earns and redeems nothing."""
        return self.status == MemberStatus.BLOCKED


class EntryKind(models.TextChoices):
    """Kinds of ledger movement. How each kind moves the balances is in ``services.ledger``."""

    EARN = "earn", "Earned on an order"
    BONUS = "bonus", "Bonus"
    RELEASE = "release", "Pending points became available"
    REVERSE = "reverse", "Earning reversed (return or refund)"
    REDEEM = "redeem", "Redeemed for a reward"
    REFUND = "refund", "Points returned (redemption cancelled or expired unused)"
    EXPIRE = "expire", "Expired"
    ADJUST = "adjust", "Adjusted by staff"


class SourceType(models.TextChoices):
    """What caused a ledger entry."""

    ORDER = "order", "Order"
    REDEMPTION = "redemption", "Redemption"
    REFERRAL = "referral", "Referral"
    RULE = "rule", "Earning rule"
    STAFF = "staff", "Staff member"
    SYSTEM = "system", "Scheduled job"
    CHECKOUT = "checkout", "Checkout"
    MEMBERSHIP = "membership", "Paid membership"


class PointsEntry(models.Model):
    """One append-only ledger movement on a member account.

    ``points`` is the signed movement shown to the member (earn +120 pending, release +120 now
    available, reverse -120). ``available_delta`` / ``pending_delta`` say exactly how the two
    balances moved; ``available_after`` / ``pending_after`` are the balances after this entry.
    ``created_at`` is the business time of the movement (the order's delivery time for an earn,
    also during a historical replay); ``recorded_at`` is when the row was written.
    """

    account = models.ForeignKey(MemberAccount, on_delete=models.PROTECT, related_name="entries")
    kind = models.CharField(max_length=16, choices=EntryKind.choices)
    points = models.BigIntegerField()
    available_delta = models.BigIntegerField(default=0)
    pending_delta = models.BigIntegerField(default=0)
    available_after = models.BigIntegerField()
    pending_after = models.BigIntegerField()
    qualifying_delta = models.DecimalField(
        max_digits=MONEY_DIGITS + 4,
        decimal_places=MONEY_PLACES,
        default=Decimal("0"),
        help_text="Change to the tier qualifying value (spend or points) carried by this entry.",
    )
    reason = models.CharField(max_length=300, help_text="Human-readable reason shown on the member's history.")
    reason_code = models.CharField(
        max_length=40, blank=True, default="", help_text="The reason's code in loyalty.reasons (empty: older entries)."
    )
    reason_params = models.JSONField(
        default=dict, blank=True, help_text="Values the reason's text names (an order id, a reward's names, ...)."
    )
    applied_rules = models.JSONField(
        default=list, blank=True, help_text='Earning rules that added points: [{"id", "name", "points"}].'
    )
    source_type = models.CharField(max_length=16, choices=SourceType.choices)
    source_id = models.CharField(max_length=100, blank=True)
    order = models.ForeignKey(Order, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    staff_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    unrecovered_points = models.BigIntegerField(
        default=0, help_text="Points a reversal should have taken but the member had already spent (written off)."
    )
    idempotency_key = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField()
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "points entries"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["account", "-created_at", "-id"], name="entry_account_newest")]
        constraints = [
            models.CheckConstraint(condition=Q(available_after__gte=0), name="entry_available_after_nonnegative"),
            models.CheckConstraint(condition=Q(pending_after__gte=0), name="entry_pending_after_nonnegative"),
            models.CheckConstraint(condition=~Q(reason=""), name="entry_reason_required"),
            models.CheckConstraint(condition=~Q(idempotency_key=""), name="entry_key_required"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.points:+d} ({self.reason})"


class PointsLot(models.Model):
    """What remains of one earning, for spending first-to-expire and for expiry.

    A lot is *pending* until ``released_at`` is set (by a RELEASE entry) and *available* after.
    Invariant: the remainders of an account's released lots add up to ``points_available`` and
    those of its unreleased lots to ``points_pending``.
    """

    account = models.ForeignKey(MemberAccount, on_delete=models.PROTECT, related_name="lots")
    entry = models.OneToOneField(PointsEntry, on_delete=models.PROTECT, related_name="lot")
    points = models.BigIntegerField(help_text="Points the lot started with.")
    remaining = models.BigIntegerField(help_text="Points of the lot not yet spent, reversed or expired.")
    available_at = models.DateTimeField(help_text="When the lot becomes available (end of the pending period).")
    released_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["available_at"], name="lot_pending_due", condition=Q(released_at__isnull=True)),
            models.Index(
                fields=["expires_at"], name="lot_expiry_due", condition=Q(remaining__gt=0, expires_at__isnull=False)
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(remaining__gte=0), name="lot_remaining_nonnegative"),
            models.CheckConstraint(condition=Q(remaining__lte=F("points")), name="lot_remaining_le_points"),
        ]

    def __str__(self) -> str:
        return f"lot {self.pk}: {self.remaining}/{self.points}"


class PointsLotConsumption(models.Model):
    """How many points one spending entry (a redemption) took from one lot.

    Spending takes lots that expire first (see ``services.ledger.points_redeem``); a refund puts
    the points back into the same lots, so they keep their original expiry.
    """

    entry = models.ForeignKey(PointsEntry, on_delete=models.PROTECT, related_name="consumptions")
    lot = models.ForeignKey(PointsLot, on_delete=models.PROTECT, related_name="consumptions")
    points = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["entry", "lot"], name="consumption_unique_entry_lot"),
            models.CheckConstraint(condition=Q(points__gt=0), name="consumption_points_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.points} from lot {self.lot_id}"


class TierChange(models.Model):
    """History of an account's tier, with the reason for every change."""

    account = models.ForeignKey(MemberAccount, on_delete=models.CASCADE, related_name="tier_changes")
    from_tier = models.ForeignKey(Tier, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    to_tier = models.ForeignKey(Tier, on_delete=models.PROTECT, related_name="+")
    qualifying_value = models.DecimalField(max_digits=MONEY_DIGITS + 4, decimal_places=MONEY_PLACES)
    reason = models.CharField(max_length=300)
    created_at = models.DateTimeField()
    membership = models.BooleanField(
        default=False, help_text="A paid membership set or released this change (not the member's own value)."
    )

    class Meta:
        ordering = ["account_id", "created_at", "id"]

    def __str__(self) -> str:
        return f"{self.from_tier} -> {self.to_tier} ({self.reason})"

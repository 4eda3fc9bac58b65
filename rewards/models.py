"""Rewards catalogues and redemptions.

A :class:`Reward` belongs to one shop's program and costs points. Redeeming it debits the
member's available points through the ledger (``loyalty.services.ledger.points_redeem``) and
issues a :class:`Redemption` with a code (format: docs/redemption-codes.md) that the shop's
staff validate and consume at the till. Cancelling, or expiry when the reward says so, gives
the points back through a REFUND entry into the lots they came from.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from loyalty.models import LoyaltyProgram, MemberAccount, PointsEntry, Tier
from marketplace.models import MONEY_DIGITS, MONEY_PLACES, Shop


class RewardKind(models.TextChoices):
    """What a reward gives; ``value`` is money (shop currency) or a percentage where it applies."""

    FIXED_AMOUNT = "fixed_amount", "Fixed-amount discount"
    PERCENTAGE = "percentage", "Percentage discount"
    FREE_PRODUCT = "free_product", "Free product"
    FREE_SHIPPING = "free_shipping", "Free shipping"
    SERVICE = "service", "Service"
    GIFT = "gift", "Gift"


class LimitPeriod(models.TextChoices):
    """Period over which a per-member limit counts redemptions (calendar periods, UTC)."""

    DAY = "day", "Per day"
    WEEK = "week", "Per week"
    MONTH = "month", "Per month"
    YEAR = "year", "Per year"
    EVER = "ever", "Ever"


class RewardStatus(models.TextChoices):
    """Active rewards can be redeemed; archived ones stay visible in past redemptions."""

    ACTIVE = "active", "Active"
    ARCHIVED = "archived", "Archived"


class Reward(models.Model):
    """An item of a shop's rewards catalogue."""

    program = models.ForeignKey(LoyaltyProgram, on_delete=models.CASCADE, related_name="rewards")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    translations = models.JSONField(
        default=dict, blank=True, help_text='Per language: {"fa": {"name": "...", "description": "..."}}.'
    )
    kind = models.CharField(max_length=16, choices=RewardKind.choices)
    value = models.DecimalField(
        max_digits=MONEY_DIGITS,
        decimal_places=MONEY_PLACES,
        null=True,
        blank=True,
        help_text="Amount in the shop's currency (fixed amount) or percent (percentage); empty otherwise.",
    )
    points_cost = models.BigIntegerField(help_text="Points a redemption costs (> 0).")
    min_tier = models.ForeignKey(Tier, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    stock = models.PositiveIntegerField(null=True, blank=True, help_text="Units left; empty = unlimited.")
    per_member_limit = models.PositiveIntegerField(null=True, blank=True)
    limit_period = models.CharField(max_length=8, choices=LimitPeriod.choices, default=LimitPeriod.EVER)
    valid_from = models.DateTimeField(null=True, blank=True)
    valid_until = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=8, choices=RewardStatus.choices, default=RewardStatus.ACTIVE)
    image_url = models.URLField(blank=True)
    sort_order = models.IntegerField(default=0)
    code_lifetime_days = models.PositiveIntegerField(default=30, help_text="Days a redemption code stays valid.")
    refund_on_expiry = models.BooleanField(
        default=True, help_text="Whether points come back when a code expires unused."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["program_id", "sort_order", "points_cost", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(points_cost__gt=0), name="reward_cost_positive"),
            models.CheckConstraint(condition=Q(value__isnull=True) | Q(value__gte=0), name="reward_value_nonnegative"),
            models.CheckConstraint(
                condition=Q(valid_from__isnull=True) | Q(valid_until__isnull=True) | Q(valid_until__gt=F("valid_from")),
                name="reward_validity_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class RedemptionStatus(models.TextChoices):
    """Lifecycle of a redemption code."""

    ISSUED = "issued", "Issued"
    USED = "used", "Used"
    CANCELLED = "cancelled", "Cancelled"
    EXPIRED = "expired", "Expired"


class Redemption(models.Model):
    """A member's redemption of a reward: the points spent and the code to show at the till.

    ``code`` is the canonical 13-symbol form (no separators). ``idempotency_key`` is scoped to
    the member (``<customer id>:<key>``) so two members may use the same key string.
    """

    reward = models.ForeignKey(Reward, on_delete=models.PROTECT, related_name="redemptions")
    account = models.ForeignKey(MemberAccount, on_delete=models.PROTECT, related_name="redemptions")
    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="redemptions")
    code = models.CharField(max_length=13, unique=True)
    status = models.CharField(max_length=10, choices=RedemptionStatus.choices, default=RedemptionStatus.ISSUED)
    points = models.BigIntegerField(help_text="Points spent (the reward's cost at the time).")
    idempotency_key = models.CharField(max_length=220, unique=True)
    request_fingerprint = models.CharField(max_length=64)
    redeem_entry = models.OneToOneField(PointsEntry, on_delete=models.PROTECT, related_name="+")
    refund_entry = models.OneToOneField(PointsEntry, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    issued_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    used_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    order_external_id = models.CharField(max_length=120, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    expired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-issued_at", "-id"]
        indexes = [
            models.Index(fields=["account", "reward", "issued_at"], name="redemption_member_reward"),
            models.Index(fields=["expires_at"], name="redemption_issued_due", condition=Q(status="issued")),
        ]
        constraints = [models.CheckConstraint(condition=Q(points__gt=0), name="redemption_points_positive")]

    def __str__(self) -> str:
        return f"{self.code} ({self.status})"

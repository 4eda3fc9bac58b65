"""Referrals: a program's referral settings, each member's code, and the referrals made with it."""

from __future__ import annotations

from decimal import Decimal

from django.db import models

from loyalty.models import LoyaltyProgram, MemberAccount
from marketplace.models import MONEY_DIGITS, MONEY_PLACES, Customer, Order


class ReferralProgram(models.Model):
    """Referral settings of one loyalty program (absent or disabled: no referrals)."""

    program = models.OneToOneField(LoyaltyProgram, on_delete=models.CASCADE, related_name="referral_settings")
    enabled = models.BooleanField(default=False)
    referrer_bonus_points = models.PositiveIntegerField(default=0, help_text="Points for the member who referred.")
    referee_bonus_points = models.PositiveIntegerField(default=0, help_text="Points for the referred friend.")
    min_order_amount = models.DecimalField(
        max_digits=MONEY_DIGITS,
        decimal_places=MONEY_PLACES,
        default=Decimal("0"),
        help_text="Goods amount the friend's first delivered order must reach.",
    )
    open_days = models.PositiveIntegerField(default=30, help_text="Days an applied referral stays open.")
    monthly_cap = models.PositiveIntegerField(
        null=True, blank=True, help_text="Completed referrals per referrer per calendar month (UTC); empty = no cap."
    )

    def __str__(self) -> str:
        return f"Referrals of {self.program}"


class ReferralCode(models.Model):
    """A member's referral code in one shop: random, readable, unique; never derived from the member."""

    account = models.OneToOneField(MemberAccount, on_delete=models.CASCADE, related_name="referral_code")
    code = models.CharField(max_length=16, unique=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True, help_text="After this the code is refused; empty = never.")

    def __str__(self) -> str:
        return self.code


class ReferralStatus(models.TextChoices):
    """Where a referral stands."""

    OPEN = "open", "Open"
    COMPLETED = "completed", "Completed"
    EXPIRED = "expired", "Expired"
    REVERSED = "reversed", "Reversed"


class Referral(models.Model):
    """A friend (``referee``) applied ``code`` in the code's shop; at most one per friend per program."""

    program = models.ForeignKey(LoyaltyProgram, on_delete=models.CASCADE, related_name="referrals")
    code = models.ForeignKey(ReferralCode, on_delete=models.PROTECT, related_name="referrals")
    referee = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="referrals_received")
    status = models.CharField(max_length=16, choices=ReferralStatus.choices, default=ReferralStatus.OPEN)
    applied_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True, help_text="When it expired or was reversed.")
    qualifying_order = models.ForeignKey(Order, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    referrer_points = models.BigIntegerField(default=0, help_text="Bonus posted to the referrer.")
    referee_points = models.BigIntegerField(default=0, help_text="Bonus posted to the referee.")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["program", "referee"], name="referral_one_per_referee")]
        indexes = [models.Index(fields=["status", "expires_at"]), models.Index(fields=["code", "completed_at"])]

    def __str__(self) -> str:
        return f"{self.code} -> {self.referee_id} ({self.status})"

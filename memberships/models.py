"""Paid memberships: plans a shop sells, members' subscriptions to them, and their payments.

Patron holds no card data: the shop's payment system charges, Patron keeps the subscription's
state and asks for each charge (``membership.renewal_due``, docs/memberships.md). The state
machine is in ``memberships.services.lifecycle``; every move is a :class:`SubscriptionTransition`
with its reason and actor. A plan grants a tier held at least for the paid period
(``loyalty.services.tiers.tier_floor_set``) and an extra earning multiplier.

Money is ``Decimal`` in the shop's ISO 4217 currency; points are integers.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q

from loyalty.models import MemberAccount, Tier
from marketplace.models import MONEY_DIGITS, MONEY_PLACES, Shop


class IntervalUnit(models.TextChoices):
    """The unit of a plan's billing interval (``interval_count`` of them per period)."""

    DAY = "day", "Days"
    MONTH = "month", "Months"
    YEAR = "year", "Years"


class MembershipPlan(models.Model):
    """A membership a shop sells: "VIP Gold, 9.99 a month, double points".

    The price is charged every ``interval_count`` x ``interval_unit`` by the shop's system after
    ``trial_days`` free days. While a subscription is trialing, active or past due its member holds
    at least ``tier`` and earns ``earn_multiplier`` times more. ``translations`` holds the name and
    benefits per language (``{"fa": {"name": "...", "benefits": ["..."]}}``); ``benefits`` are the
    English lines. An archived plan is sold no more; its subscriptions go on.
    """

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="membership_plans")
    name = models.CharField(max_length=120)
    translations = models.JSONField(default=dict, blank=True)
    benefits = models.JSONField(default=list, blank=True, help_text="Benefit lines (English).")
    price = models.DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES)
    currency = models.CharField(max_length=3, help_text="ISO 4217; the shop's currency.")
    interval_unit = models.CharField(max_length=8, choices=IntervalUnit.choices, default=IntervalUnit.MONTH)
    interval_count = models.PositiveSmallIntegerField(default=1)
    trial_days = models.PositiveSmallIntegerField(default=0)
    tier = models.ForeignKey(Tier, on_delete=models.PROTECT, related_name="membership_plans")
    earn_multiplier = models.DecimalField(max_digits=6, decimal_places=3, default=Decimal("1"))
    reminder_days = models.PositiveSmallIntegerField(default=3, help_text="Days before a renewal that members hear.")
    archived_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["shop_id", "price", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(price__gt=0), name="plan_price_positive"),
            models.CheckConstraint(condition=Q(interval_count__gte=1), name="plan_interval_positive"),
            models.CheckConstraint(condition=Q(earn_multiplier__gte=1), name="plan_multiplier_min"),
        ]

    def __str__(self) -> str:
        return self.name


class SubscriptionStatus(models.TextChoices):
    """States of a subscription (the machine: docs/memberships.md and ``services.lifecycle``)."""

    PENDING = "pending", "Waiting for the shop's checkout to take the first payment"
    TRIALING = "trialing", "In the free trial"
    ACTIVE = "active", "Paid for the current period"
    PAST_DUE = "past_due", "The renewal charge has not succeeded yet; retries are scheduled"
    PAUSED = "paused", "Paused: no tier, no charges; the paid days left are kept"
    CANCELLED = "cancelled", "Cancelled by the member or staff"
    EXPIRED = "expired", "Ended: not renewed, the payment failed after the retries, or never paid"


#: States in which a subscription is live (one per account) and its plan's tier is held.
LIVE = (
    SubscriptionStatus.PENDING,
    SubscriptionStatus.TRIALING,
    SubscriptionStatus.ACTIVE,
    SubscriptionStatus.PAST_DUE,
    SubscriptionStatus.PAUSED,
)
HOLDING = (SubscriptionStatus.TRIALING, SubscriptionStatus.ACTIVE, SubscriptionStatus.PAST_DUE)


class Subscription(models.Model):
    """One member's subscription to a plan.

    ``current_period_start``/``current_period_end`` are the period paid for (or the trial);
    ``charge_attempts`` counts the charge requests of the renewal due at ``current_period_end``
    (0: none yet), which makes the renewal job idempotent; ``reminded_for`` is the period end whose
    reminder went out. Dates are UTC.
    """

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="subscriptions")
    plan = models.ForeignKey(MembershipPlan, on_delete=models.PROTECT, related_name="subscriptions")
    account = models.ForeignKey(MemberAccount, on_delete=models.CASCADE, related_name="subscriptions")
    status = models.CharField(max_length=12, choices=SubscriptionStatus.choices)
    created_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True, help_text="First trialing or active moment.")
    trial_end = models.DateTimeField(null=True, blank=True)
    current_period_start = models.DateTimeField(null=True, blank=True)
    current_period_end = models.DateTimeField(null=True, blank=True)
    auto_renew = models.BooleanField(default=True)
    cancel_at_period_end = models.BooleanField(default=False)
    charge_attempts = models.PositiveSmallIntegerField(default=0)
    last_charge_request_at = models.DateTimeField(null=True, blank=True)
    reminded_for = models.DateTimeField(null=True, blank=True)
    paused_remaining = models.DurationField(null=True, blank=True, help_text="Paid time left when paused.")
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account"],
                condition=Q(status__in=[s.value for s in LIVE]),
                name="subscription_one_live_per_account",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "current_period_end"], name="subscription_due"),
            models.Index(fields=["shop", "status"], name="subscription_shop_status"),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} on {self.plan_id}: {self.status}"


class ActorKind(models.TextChoices):
    """Who moved a subscription."""

    MEMBER = "member", "The member"
    STAFF = "staff", "Shop staff"
    SHOP_SYSTEM = "shop_system", "The shop's payment system (a payment report)"
    SYSTEM = "system", "Patron's scheduled job"


class SubscriptionTransition(models.Model):
    """One move of a subscription's state (or of its settings), with why and by whom."""

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="transitions")
    from_status = models.CharField(max_length=12, blank=True)
    to_status = models.CharField(max_length=12)
    reason = models.CharField(max_length=300)
    actor_kind = models.CharField(max_length=12, choices=ActorKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["subscription_id", "created_at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status or '-'} -> {self.to_status}: {self.reason}"


class PaymentOutcome(models.TextChoices):
    """What the shop's payment system reported."""

    SUCCEEDED = "succeeded", "Charged"
    FAILED = "failed", "Declined or failed"


class MembershipPayment(models.Model):
    """A charge the shop's system reported (``membershipPaymentRecord``), recorded once per
    ``idempotency_key`` in the shop. A success pays ``period_start``-``period_end`` and earns
    points (ledger key ``membership_payment:<id>``)."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="membership_payments")
    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="payments")
    outcome = models.CharField(max_length=10, choices=PaymentOutcome.choices)
    amount = models.DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES)
    currency = models.CharField(max_length=3)
    provider_reference = models.CharField(max_length=200, blank=True)
    idempotency_key = models.CharField(max_length=200)
    attempt = models.PositiveSmallIntegerField(default=0, help_text="The charge request answered (0: first payment).")
    period_start = models.DateTimeField(null=True, blank=True)
    period_end = models.DateTimeField(null=True, blank=True)
    points = models.BigIntegerField(default=0)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "idempotency_key"], name="membership_payment_unique_key"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="membership_payment_amount_nonnegative"),
        ]

    def __str__(self) -> str:
        return f"{self.outcome} {self.amount} {self.currency} for {self.subscription_id}"


class BulkActionKind(models.TextChoices):
    """What a staff bulk action does to each chosen subscription."""

    ENABLE_AUTO_RENEW = "enable_auto_renew", "Turn auto-renewal on"
    DISABLE_AUTO_RENEW = "disable_auto_renew", "Turn auto-renewal off"
    RETRY_NOW = "retry_now", "Ask for the overdue charge again now"
    CANCEL = "cancel", "Cancel now"


class SubscriptionBulkAction(models.Model):
    """A staff action over many subscriptions, run by a worker in chunks; ``done`` of ``total`` is
    its progress, ``failures`` lists ``{"subscription": id, "code": ..., "message": ...}``."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="subscription_bulk_actions")
    kind = models.CharField(max_length=24, choices=BulkActionKind.choices)
    subscription_ids = models.JSONField(default=list)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    changed = models.PositiveIntegerField(default=0)
    failures = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind}: {self.done}/{self.total}"

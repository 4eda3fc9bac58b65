"""Customer records per shop: statistics, tags, notes, segments, the shop's tag thresholds, privacy audits.

A member is a ``loyalty.MemberAccount`` (customer x shop's program); everything here hangs off it,
so one shop's notes, tags and segments never show in another's. Money is ``Decimal`` in the
shop's currency. Definitions and worked examples: docs/crm.md.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q

from loyalty.models import MemberAccount, Tier
from marketplace.models import MONEY_DIGITS, MONEY_PLACES, Customer, Shop


class CrmSettings(models.Model):
    """A shop's thresholds for the automatic tags (docs/crm.md, "Automatic tags"); defaults apply without a row."""

    shop = models.OneToOneField(Shop, on_delete=models.CASCADE, related_name="crm_settings")
    vip_tier = models.ForeignKey(
        Tier, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", help_text="This tier and above."
    )
    vip_spend = models.DecimalField(
        max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, null=True, blank=True, help_text="Or this total spend."
    )
    new_days = models.PositiveIntegerField(default=30, help_text="NEW: enrolled within this many days.")
    frequent_visits = models.PositiveIntegerField(default=4, help_text="FREQUENT: at least this many visits ...")
    frequent_days = models.PositiveIntegerField(default=90, help_text="... within this many days.")
    high_value_percentile = models.PositiveIntegerField(
        default=90, help_text="HIGH_VALUE: total spend at or above this percentile of the shop's members."
    )
    dormant_days = models.PositiveIntegerField(default=90, help_text="DORMANT: no visit for this many days.")
    high_value_spend = models.DecimalField(
        max_digits=MONEY_DIGITS,
        decimal_places=MONEY_PLACES,
        null=True,
        blank=True,
        help_text="The spend at high_value_percentile, computed by the nightly tag job (null before its first run).",
    )

    def __str__(self) -> str:
        return f"tag thresholds of {self.shop}"


class MemberProfile(models.Model):
    """The shop's own record of a member: contact details, dates and preferences its staff keep.

    The customer's marketplace-wide record (``marketplace.Customer``: the member's own name,
    e-mail, birth date and consents) stays theirs; a shop's staff correct the shop's copy here,
    which the console shows first. ``phone`` is E.164 (phonenumbers). ``personal_dates`` is a list
    of ``{"kind": "anniversary" | "custom", "label", "date": "YYYY-MM-DD"}``; ``preferences`` maps
    the shop's field names to short texts (docs/crm.md, "Profiles").
    """

    account = models.OneToOneField(MemberAccount, on_delete=models.CASCADE, related_name="profile")
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=20, blank=True, help_text="E.164, e.g. +989121234567.")
    birth_date = models.DateField(null=True, blank=True)
    personal_dates = models.JSONField(default=list, blank=True)
    preferences = models.JSONField(default=dict, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"profile of {self.account_id}"


class MemberStats(models.Model):
    """A member's visits and spend in one shop, kept current by the order worker (``crm.services.stats``).

    A *visit* is an order that was delivered and not cancelled; *spend* is its goods amount less
    what was returned or refunded (shop currency). ``year_spend`` counts the shop's local calendar
    year ``year``. ``visit_interval_days`` is the mean number of days between consecutive visits
    (null below two visits). ``lifetime_value`` is the historical customer lifetime value: the
    total spend (docs/crm.md, "Statistics").
    """

    account = models.OneToOneField(MemberAccount, on_delete=models.CASCADE, related_name="stats")
    visits = models.PositiveIntegerField(default=0)
    total_spend = models.DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, default=Decimal("0"))
    year = models.PositiveIntegerField(default=0, help_text="The local calendar year of year_spend.")
    year_spend = models.DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, default=Decimal("0"))
    average_order_value = models.DecimalField(
        max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, default=Decimal("0")
    )
    first_visit_at = models.DateTimeField(null=True, blank=True)
    last_visit_at = models.DateTimeField(null=True, blank=True)
    visit_interval_days = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    lifetime_value = models.DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, default=Decimal("0"))
    refreshed_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["last_visit_at"], name="crm_stats_last_visit"),
            models.Index(fields=["total_spend"], name="crm_stats_total_spend"),
        ]

    def __str__(self) -> str:
        return f"stats of {self.account_id}"


class TagSource(models.TextChoices):
    """Who set a tag: staff by hand, or the automatic rules."""

    MANUAL = "manual", "Set by staff"
    AUTO = "auto", "Set by the automatic rules"


class MemberTag(models.Model):
    """A tag on a member, with where it came from and why (``reason``: the rule and figure, or the staff's words)."""

    account = models.ForeignKey(MemberAccount, on_delete=models.CASCADE, related_name="tags")
    tag = models.CharField(max_length=40, help_text="Lower-case slug, e.g. 'vip' or 'wholesale'.")
    source = models.CharField(max_length=8, choices=TagSource.choices)
    reason = models.CharField(max_length=200, blank=True)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    assigned_at = models.DateTimeField()

    class Meta:
        ordering = ["tag", "source"]
        constraints = [models.UniqueConstraint(fields=["account", "tag", "source"], name="member_tag_unique")]
        indexes = [models.Index(fields=["tag"], name="crm_member_tag")]

    def __str__(self) -> str:
        return f"{self.tag} ({self.source}) on {self.account_id}"


class MemberNote(models.Model):
    """A staff note on a member: who wrote it and when. Never shown to the member."""

    account = models.ForeignKey(MemberAccount, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"note {self.pk} on {self.account_id}"


class SegmentKind(models.TextChoices):
    """A static segment lists its members; a dynamic one is whoever matches its criteria now."""

    STATIC = "static", "A list of members"
    DYNAMIC = "dynamic", "Members matching criteria"


class Segment(models.Model):
    """A named group of a shop's members (docs/crm.md, "Segments"); ``criteria`` as ``crm.segments`` reads them."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="segments")
    name = models.CharField(max_length=120)
    description = models.CharField(max_length=500, blank=True)
    kind = models.CharField(max_length=8, choices=SegmentKind.choices)
    criteria = models.JSONField(default=dict, blank=True)
    members = models.ManyToManyField(MemberAccount, blank=True, related_name="static_segments")
    snapshot = models.ManyToManyField(
        MemberAccount,
        blank=True,
        related_name="+",
        help_text="A dynamic segment's members as of snapshot_at: what earning rules see (docs/crm.md).",
    )
    snapshot_at = models.DateTimeField(null=True, blank=True, help_text="When the snapshot was taken.")
    snapshot_count = models.PositiveIntegerField(default=0, help_text="Members in the snapshot.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(fields=["shop", "name"], name="segment_name_unique_per_shop")]

    def __str__(self) -> str:
        return self.name


class PrivacyAction(models.TextChoices):
    """What a privacy audit row records."""

    EXPORT = "export", "Data export"
    ERASURE = "erasure", "Erasure"


class PrivacyAudit(models.Model):
    """Who exported or erased a customer's data, when, and from where (kept after the erasure)."""

    customer = models.ForeignKey(Customer, on_delete=models.SET_NULL, null=True, related_name="+")
    customer_ref = models.CharField(max_length=40, help_text="The customer's id, kept after erasure.")
    action = models.CharField(max_length=8, choices=PrivacyAction.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    shop = models.ForeignKey(Shop, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    details = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at", "-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(customer_ref=""), name="privacy_audit_customer_ref"),
        ]

    def __str__(self) -> str:
        return f"{self.action} of customer {self.customer_ref}"

"""Checkout: promotions (campaigns), coupons and their batches, quotes, commits and the uses they record.

Money is ``Decimal`` in the shop's currency (``MONEY_DIGITS`` / ``MONEY_PLACES``), points are
integers. How a basket is priced is ``checkout.pricing`` (docs/checkout.md); what is written when
a quote is committed is ``checkout.services.quotes``.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q

from loyalty.models import MemberAccount, PointsEntry, Tier
from marketplace.models import MONEY_DIGITS, MONEY_PLACES, Customer, Shop


class PromotionKind(models.TextChoices):
    """What a promotion gives (docs/checkout.md, "Promotion kinds", has a worked example of each)."""

    PERCENTAGE = "percentage", "Percentage off each qualifying line"
    FIXED_AMOUNT = "fixed_amount", "Fixed amount off each qualifying unit"
    FREE_PRODUCT = "free_product", "A product free"
    BUY_X_GET_Y = "buy_x_get_y", "Buy X get Y"
    CHEAPEST_FREE = "cheapest_free", "Cheapest item free"
    BASKET_DISCOUNT = "basket_discount", "Fixed amount off the basket"


class Stacking(models.TextChoices):
    """Whether a promotion combines with others (docs/checkout.md, "Priority and stacking")."""

    STACKABLE = "stackable", "Combines with other stackable discounts"
    EXCLUSIVE = "exclusive", "Applies alone"


class Promotion(models.Model):
    """A shop's campaign: a kind and its value, conditions, priority, stacking and usage limits.

    Conditions left empty do not restrict: no products, categories or brands = every line qualifies;
    no tiers = every member and guests; no payment types = any; no weekdays = every day; no hours =
    all day. ``requires_coupon`` promotions apply only through one of their coupons.
    """

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="promotions")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    kind = models.CharField(max_length=24, choices=PromotionKind.choices)
    value = models.DecimalField(
        max_digits=MONEY_DIGITS,
        decimal_places=MONEY_PLACES,
        default=Decimal("0"),
        help_text=(
            "Percent (PERCENTAGE; the discount on the free units of BUY_X_GET_Y, 100 = free) or money in the "
            "shop's currency (FIXED_AMOUNT per unit, BASKET_DISCOUNT per basket)."
        ),
    )
    buy_quantity = models.PositiveIntegerField(
        default=0, help_text="BUY_X_GET_Y: units to buy (X); CHEAPEST_FREE: qualifying units needed."
    )
    get_quantity = models.PositiveIntegerField(
        default=0, help_text="BUY_X_GET_Y: units that get the discount (Y); FREE_PRODUCT: free units."
    )
    free_product_id = models.CharField(
        max_length=100, blank=True, help_text="FREE_PRODUCT: the shop's product id of the free product."
    )
    product_ids = models.JSONField(default=list, blank=True, help_text="Qualifying products (shop's ids).")
    category_slugs = models.JSONField(default=list, blank=True, help_text="Qualifying categories (slugs).")
    brands = models.JSONField(default=list, blank=True, help_text="Qualifying brands (as the shop names them).")
    tiers = models.ManyToManyField(Tier, blank=True, related_name="+", help_text="Tiers that may use it.")
    segments = models.ManyToManyField(
        "crm.Segment", blank=True, related_name="promotions", help_text="Members of any of these segments only."
    )
    payment_types = models.JSONField(default=list, blank=True, help_text="Payment types it needs, e.g. ['card'].")
    minimum_amount = models.DecimalField(
        max_digits=MONEY_DIGITS,
        decimal_places=MONEY_PLACES,
        default=Decimal("0"),
        help_text="The qualifying lines' price before any discount must reach this.",
    )
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True, help_text="Exclusive.")
    weekdays = models.JSONField(default=list, blank=True, help_text="ISO weekdays (1 = Monday) in the shop's zone.")
    hour_from = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Shop-local hour, 0-23.")
    hour_to = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Shop-local hour, 1-24, exclusive.")
    requires_coupon = models.BooleanField(default=False)
    priority = models.IntegerField(default=10, help_text="Higher first; the tier discount runs at priority 0.")
    stacking = models.CharField(max_length=16, choices=Stacking.choices, default=Stacking.STACKABLE)
    usage_limit = models.PositiveIntegerField(null=True, blank=True, help_text="Uses in total; null = no limit.")
    usage_limit_per_member = models.PositiveIntegerField(null=True, blank=True, help_text="Uses per member.")
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["shop_id", "-priority", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(value__gte=0), name="promotion_value_nonnegative"),
            models.CheckConstraint(condition=Q(minimum_amount__gte=0), name="promotion_minimum_nonnegative"),
        ]

    def __str__(self) -> str:
        return self.name


class CouponBatch(models.Model):
    """Coupons generated together from one pattern (prefix, length, alphabet) for one channel."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="coupon_batches")
    promotion = models.ForeignKey(Promotion, on_delete=models.CASCADE, related_name="batches")
    name = models.CharField(max_length=200)
    prefix = models.CharField(max_length=20, blank=True)
    length = models.PositiveSmallIntegerField(help_text="Random symbols after the prefix.")
    alphabet = models.CharField(max_length=64)
    count = models.PositiveIntegerField()
    channel = models.CharField(max_length=40, blank=True, help_text="Where the codes go, e.g. 'email', 'print'.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name


class Coupon(models.Model):
    """A code that unlocks a promotion: single- or multi-use, public or personal, with validity.

    ``uses`` counts the commits holding an unreleased use of it; it changes only under a row lock
    on the coupon (``checkout.services.quotes``), so the last use raced by many tills goes to one.
    """

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="coupons")
    promotion = models.ForeignKey(Promotion, on_delete=models.CASCADE, related_name="coupons")
    batch = models.ForeignKey(CouponBatch, on_delete=models.CASCADE, null=True, blank=True, related_name="coupons")
    code = models.CharField(max_length=40, help_text="Canonical form: upper case, no spaces.")
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, null=True, blank=True, related_name="+", help_text="Personal coupon."
    )
    max_uses = models.PositiveIntegerField(null=True, blank=True, default=1, help_text="Null = unlimited.")
    max_uses_per_member = models.PositiveIntegerField(null=True, blank=True)
    uses = models.PositiveIntegerField(default=0)
    valid_from = models.DateTimeField(null=True, blank=True)
    valid_until = models.DateTimeField(null=True, blank=True, help_text="Exclusive.")
    channel = models.CharField(max_length=40, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "code"], name="coupon_code_unique_per_shop"),
            models.CheckConstraint(
                condition=Q(max_uses__isnull=True) | Q(uses__lte=models.F("max_uses")), name="coupon_uses_within_max"
            ),
        ]

    def __str__(self) -> str:
        return self.code


class CheckoutQuote(models.Model):
    """A priced basket: the input as given and the result as computed, valid for a few minutes.

    ``result`` is ``checkout.pricing.Priced.as_json()``; ``input`` the normalised input that
    priced it. A commit prices ``input`` again and refuses when the result differs.
    """

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    account = models.ForeignKey(MemberAccount, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    input = models.JSONField()
    result = models.JSONField()
    currency = models.CharField(max_length=3)
    total_due = models.DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"quote {self.pk} ({self.total_due} {self.currency})"


class CheckoutCommit(models.Model):
    """A committed quote: coupons and promotion uses consumed and points spent, exactly once.

    Unique per shop on ``idempotency_key`` and per quote. ``points_returned`` grows when the order
    (``order_external_id``) is returned, refunded or cancelled (``checkout.services.returns``).
    """

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    quote = models.OneToOneField(CheckoutQuote, on_delete=models.PROTECT, related_name="commit")
    account = models.ForeignKey(MemberAccount, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    idempotency_key = models.CharField(max_length=200)
    order_external_id = models.CharField(max_length=120, blank=True)
    discount_total = models.DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES)
    points_spent = models.BigIntegerField(default=0)
    points_amount = models.DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, default=Decimal("0"))
    total_due = models.DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES)
    points_entry = models.ForeignKey(PointsEntry, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    points_returned = models.BigIntegerField(default=0)
    released_at = models.DateTimeField(null=True, blank=True, help_text="When the whole order was given back.")
    committed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    committed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shop", "idempotency_key"], name="checkout_commit_key_unique"),
            models.CheckConstraint(
                condition=Q(points_returned__gte=0) & Q(points_returned__lte=models.F("points_spent")),
                name="checkout_points_returned_range",
            ),
        ]
        indexes = [models.Index(fields=["shop", "order_external_id"], name="checkout_commit_order")]

    def __str__(self) -> str:
        return f"commit {self.pk} of quote {self.quote_id}"


class PromotionUse(models.Model):
    """One promotion (or coupon) applied by a commit, with the discount it gave and who was at the till.

    ``coupon`` is set when the promotion came through a coupon. Released uses (the order was
    given back in full) no longer count towards limits but stay for the record.
    """

    commit = models.ForeignKey(CheckoutCommit, on_delete=models.CASCADE, related_name="uses")
    promotion = models.ForeignKey(Promotion, on_delete=models.CASCADE, related_name="uses")
    coupon = models.ForeignKey(Coupon, on_delete=models.CASCADE, null=True, blank=True, related_name="use_records")
    customer = models.ForeignKey(Customer, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    amount = models.DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES)
    revenue = models.DecimalField(
        max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, help_text="The basket's price after discounts."
    )
    staff_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["promotion", "customer"], name="promotion_use_member")]

    def __str__(self) -> str:
        return f"{self.promotion_id} used by commit {self.commit_id}"

"""Marketplace data: shops, their staff, customers, catalogue and orders with an event outbox.

Money is ``Decimal`` in the shop's ISO 4217 currency (``MONEY_DIGITS`` / ``MONEY_PLACES``); it is
never a float. Every order status change is written together with an :class:`OrderEvent` row in
the same transaction (the transactional outbox, see docs/architecture.md); the loyalty worker
processes those rows.
"""

from __future__ import annotations

import zoneinfo
from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q

MONEY_DIGITS = 14
MONEY_PLACES = 2

currency_validator = RegexValidator(r"^[A-Z]{3}$", "An ISO 4217 currency code: three capitals.")


def validate_timezone(value: str) -> None:
    """Raise ``ValidationError`` unless ``value`` is an IANA time-zone name."""
    from django.core.exceptions import ValidationError

    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"Unknown time zone {value!r}.")


class Shop(models.Model):
    """A seller on the marketplace; runs its own loyalty program in its own currency."""

    name = models.CharField(max_length=200, help_text="Display name of the shop.")
    slug = models.SlugField(max_length=80, unique=True, help_text="URL-safe unique name.")
    currency = models.CharField(max_length=3, validators=[currency_validator], help_text="ISO 4217 currency code.")
    timezone = models.CharField(
        max_length=64,
        default="UTC",
        validators=[validate_timezone],
        help_text="IANA time zone in which the shop's days and rules are read.",
    )
    return_window_days = models.PositiveIntegerField(
        default=14, help_text="Days after delivery during which an order can be returned."
    )
    external_id = models.CharField(
        max_length=100, unique=True, null=True, blank=True, help_text="The shop's id in an outside system."
    )
    is_demo = models.BooleanField(default=False, help_text="Created as demo data.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(currency__regex=r"^[A-Z]{3}$"), name="shop_currency_iso"),
        ]

    def __str__(self) -> str:
        return self.name


class StaffRole(models.TextChoices):
    """What a staff member may do in one shop."""

    OWNER = "owner", "Owner"
    MANAGER = "manager", "Manager"
    CASHIER = "cashier", "Cashier"


class StaffMembership(models.Model):
    """A user's role in one shop; a user may work for several shops."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_memberships")
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="staff")
    role = models.CharField(max_length=16, choices=StaffRole.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "shop"], name="staff_unique_user_shop")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.shop} ({self.role})"


class Customer(models.Model):
    """A buyer on the marketplace; holds one member account per shop program they bought from."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="customer",
        help_text="Login of the customer; imported customers may have none.",
    )
    display_name = models.CharField(max_length=200, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=32, blank=True)
    birth_date = models.DateField(null=True, blank=True, help_text="Date of birth (stored as a Gregorian date).")
    calendar = models.CharField(
        max_length=10,
        choices=[("gregorian", "Gregorian"), ("jalali", "Persian (Jalali)")],
        default="gregorian",
        help_text="Calendar the member keeps occasions in: a Jalali birthday recurs on its Jalali date.",
    )
    consent_email = models.BooleanField(default=False, help_text="Agreed to marketing e-mail.")
    consent_sms = models.BooleanField(default=False, help_text="Agreed to marketing SMS.")
    consent_push = models.BooleanField(default=False, help_text="Agreed to marketing push notifications.")
    locale = models.CharField(max_length=16, default="en")
    external_id = models.CharField(
        max_length=100, unique=True, null=True, blank=True, help_text="The customer's id in an outside system."
    )
    is_demo = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.display_name or self.external_id or f"customer {self.pk}"


class ConsentChannel(models.TextChoices):
    """A marketing channel a customer consents to."""

    EMAIL = "email", "E-mail"
    SMS = "sms", "SMS"
    PUSH = "push", "Push notifications"


class ConsentChange(models.Model):
    """One change of a customer's marketing consent: channel, new value, when and from where (append-only)."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="consent_changes")
    channel = models.CharField(max_length=8, choices=ConsentChannel.choices)
    granted = models.BooleanField()
    source = models.CharField(
        max_length=16, help_text="Where it was changed: 'member' (the dashboard), 'staff', 'import', 'erasure'."
    )
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    changed_at = models.DateTimeField()

    class Meta:
        ordering = ["changed_at", "id"]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.channel}={'yes' if self.granted else 'no'} ({self.source})"


class Category(models.Model):
    """A product category shared by the marketplace's shops."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=120, unique=True)

    class Meta:
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name


class Product(models.Model):
    """A product sold by one shop (minimal: enough to attribute order lines)."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="products")
    name = models.CharField(max_length=200, blank=True)
    category = models.ForeignKey(Category, on_delete=models.SET_NULL, null=True, blank=True)
    external_id = models.CharField(max_length=100)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["shop", "external_id"], name="product_unique_external")]

    def __str__(self) -> str:
        return self.name or self.external_id


class OrderStatus(models.TextChoices):
    """Lifecycle of an order; see ``marketplace.services.orders.ALLOWED_TRANSITIONS``."""

    PLACED = "placed", "Placed"
    PAID = "paid", "Paid"
    SHIPPED = "shipped", "Shipped"
    DELIVERED = "delivered", "Delivered"
    PARTIALLY_RETURNED = "partially_returned", "Partially returned"
    CANCELLED = "cancelled", "Cancelled"
    RETURNED = "returned", "Returned"
    REFUNDED = "refunded", "Refunded"


class Order(models.Model):
    """One shop's order (a marketplace order with several sellers becomes one order per shop)."""

    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="orders")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="orders")
    external_id = models.CharField(max_length=120, help_text="The order's id in the shop's system.")
    status = models.CharField(max_length=24, choices=OrderStatus.choices)
    currency = models.CharField(max_length=3, validators=[currency_validator])
    goods_amount = models.DecimalField(
        max_digits=MONEY_DIGITS,
        decimal_places=MONEY_PLACES,
        default=Decimal("0"),
        help_text="Sum of the lines (quantity x unit price); what earns points.",
    )
    shipping_amount = models.DecimalField(
        max_digits=MONEY_DIGITS,
        decimal_places=MONEY_PLACES,
        default=Decimal("0"),
        help_text="Shipping / freight; never earns points.",
    )
    points_paid_amount = models.DecimalField(
        max_digits=MONEY_DIGITS,
        decimal_places=MONEY_PLACES,
        default=Decimal("0"),
        help_text="Part of the goods paid with points (a reward's discount); earns no points.",
    )
    placed_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)
    status_changed_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shop", "external_id"], name="order_unique_external"),
            models.CheckConstraint(condition=Q(goods_amount__gte=0), name="order_goods_nonnegative"),
            models.CheckConstraint(condition=Q(shipping_amount__gte=0), name="order_shipping_nonnegative"),
            models.CheckConstraint(
                condition=Q(points_paid_amount__gte=0) & Q(points_paid_amount__lte=F("goods_amount")),
                name="order_points_paid_within_goods",
            ),
        ]
        indexes = [models.Index(fields=["customer", "shop"])]

    def __str__(self) -> str:
        return f"{self.shop_id}:{self.external_id}"


class OrderLine(models.Model):
    """One line of an order: quantity x unit price, in the order's currency."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    line_no = models.PositiveIntegerField()
    product = models.ForeignKey(Product, on_delete=models.SET_NULL, null=True, blank=True)
    category = models.ForeignKey(Category, on_delete=models.SET_NULL, null=True, blank=True)
    description = models.CharField(max_length=200, blank=True)
    quantity = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    returned_quantity = models.PositiveIntegerField(default=0, help_text="Units returned so far.")
    unit_price = models.DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES)

    class Meta:
        ordering = ["order_id", "line_no"]
        constraints = [
            models.UniqueConstraint(fields=["order", "line_no"], name="orderline_unique_no"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="orderline_quantity_positive"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="orderline_price_nonnegative"),
            models.CheckConstraint(
                condition=Q(returned_quantity__lte=F("quantity")), name="orderline_returned_within_quantity"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.unit_price}"

    @property
    def amount(self) -> Decimal:
        """Line total in the order's currency (quantity x unit price)."""
        return self.unit_price * self.quantity


class OrderEvent(models.Model):
    """Outbox row: one order status change, written in the same transaction as the change.

    ``processed_at`` is set by the loyalty worker in the transaction that applies the event, so
    a crash between commit and message send is repaired by the periodic sweep (re-send every row
    with ``processed_at`` null) without ever applying an event twice. An event whose processing
    keeps failing is parked (``failed_at``, ``failure``) after ``attempts`` bounded tries
    (``loyalty.tasks``); staff retry it after a fix (``order_event_retry``).
    """

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    status = models.CharField(max_length=24, choices=OrderStatus.choices, help_text="Status the order moved to.")
    previous_status = models.CharField(max_length=24, choices=OrderStatus.choices, blank=True)
    returned_lines = models.JSONField(
        default=list, blank=True, help_text='A partial return\'s lines: [{"line_no": 1, "quantity": 2}].'
    )
    occurred_at = models.DateTimeField(help_text="When the change happened in the shop (event time).")
    idempotency_key = models.CharField(max_length=200, unique=True)
    request_fingerprint = models.CharField(
        max_length=64, help_text="SHA-256 of the normalised input, to detect a key reused for other input."
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(
        default=0, help_text="Processing attempts: the successful one and every failed one since the last retry."
    )
    failed_at = models.DateTimeField(
        null=True, blank=True, help_text="Set when the event was parked as FAILED; the sweep skips it."
    )
    failure = models.TextField(blank=True, default="", help_text="The last processing error (type and message).")

    class Meta:
        indexes = [
            models.Index(fields=["created_at"], name="orderevent_unprocessed", condition=Q(processed_at__isnull=True)),
            models.Index(
                fields=["failed_at"],
                name="orderevent_failed",
                condition=Q(processed_at__isnull=True, failed_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order_id} -> {self.status}"


class ApiKey(models.Model):
    """A shop's API key: a secret its own systems send as ``Authorization: Bearer <key>``.

    The full key (``ptn_<prefix>_<secret>``) is shown once, at creation; only its SHA-256 is
    kept, with the ``prefix`` visible for lookup and for people to tell keys apart (the pattern of
    djangorestframework-api-key). A key acts only on ``shop`` and only within ``scopes`` (values
    of the capability table, ``marketplace.permissions.Capability``). Each key has a service user
    of its own (``user``, no password) so that audit trails (``OrderEvent.recorded_by``, a
    redemption's ``used_by``) name the key that acted.
    """

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100, help_text="What the key is for, e.g. 'Checkout server'.")
    prefix = models.CharField(max_length=16, unique=True, help_text="The key's visible first part.")
    hashed_key = models.CharField(max_length=64, help_text="SHA-256 (hex) of the whole key.")
    scopes = models.JSONField(default=list, help_text="Capability values the key holds, e.g. ['orders:write'].")
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="api_key", help_text="The key's service user."
    )
    rate_limit = models.CharField(
        max_length=32, blank=True, help_text="Requests allowed, e.g. '600/minute'; blank: the server's default."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="After this the key is refused; null: never.")
    last_used_at = models.DateTimeField(null=True, blank=True, help_text="Last request (to the minute).")
    revoked_at = models.DateTimeField(null=True, blank=True, help_text="Set when revoked; the key is then refused.")
    rotated_from = models.OneToOneField(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="rotated_to"
    )

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"


class MemberTokenIssuer(models.Model):
    """A marketplace system (its storefront) allowed to vouch for its users with signed member tokens.

    The issuer signs short-lived JWTs (HS256) with ``secret`` and names itself in the token's
    ``kid`` header (``key_id``); ``marketplace.services.member_tokens`` verifies them. The secret
    is stored as issued (HS256 needs it to verify); revoking refuses every token of the issuer.
    """

    name = models.CharField(max_length=100)
    key_id = models.CharField(max_length=40, unique=True, help_text="The JWT 'kid' header naming this issuer.")
    secret = models.CharField(max_length=128)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.key_id})"


class EventType(models.TextChoices):
    """What an integration can hear about (webhooks and the event feed); the value is the wire name."""

    MEMBER_ENROLLED = "member.enrolled", "A customer joined the shop's program"
    POINTS_EARNED = "points.earned", "Points earned (an order, a bonus)"
    POINTS_RELEASED = "points.released", "Pending points became available"
    POINTS_REVERSED = "points.reversed", "An earning was reversed (return, refund)"
    POINTS_EXPIRED = "points.expired", "Points expired"
    POINTS_ADJUSTED = "points.adjusted", "Staff adjusted points"
    POINTS_REDEEMED = "points.redeemed", "Points spent (on a reward, or paying at checkout)"
    POINTS_REFUNDED = "points.refunded", "Points given back (redemption cancelled or expired, checkout returned)"
    TIER_CHANGED = "tier.changed", "A member moved to another tier"
    REDEMPTION_ISSUED = "redemption.issued", "A reward code was issued"
    REDEMPTION_CONSUMED = "redemption.consumed", "A reward code was used at the till"
    REDEMPTION_CANCELLED = "redemption.cancelled", "A reward code was cancelled"
    REDEMPTION_EXPIRED = "redemption.expired", "A reward code expired unused"
    REFERRAL_COMPLETED = "referral.completed", "A referral completed (the friend's first order)"
    CHECKOUT_COMMITTED = "checkout.committed", "A basket was committed at a till or checkout"
    WEBHOOK_ENDPOINT_DISABLED = "webhook_endpoint.disabled", "A webhook endpoint was disabled after failing"
    MEMBERSHIP_STATUS_CHANGED = "membership.status_changed", "A paid membership changed state"
    MEMBERSHIP_RENEWAL_UPCOMING = "membership.renewal_upcoming", "A paid membership renews in a few days"
    MEMBERSHIP_RENEWAL_DUE = "membership.renewal_due", "Charge the member for the membership's renewal now"
    MEMBERSHIP_PAYMENT_RECORDED = "membership.payment_recorded", "A membership payment was reported"


class ShopEvent(models.Model):
    """Outbox row: something that happened in a shop, written in the transaction that did it.

    ``uid`` is the stable id integrators see (the ``webhook-id`` header and the feed's node id).
    ``position`` is null until the publisher (``integrations.services.publishing``) numbers
    committed events in one serialised step; the feed reads by position, so a reader that
    follows positions never skips an event committed late nor sees one twice.
    """

    uid = models.CharField(max_length=40, unique=True)
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="events")
    type = models.CharField(max_length=48, choices=EventType.choices)
    data = models.JSONField(help_text="The event's body (documented per type in docs/integrations.md).")
    occurred_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    position = models.BigIntegerField(null=True, blank=True, unique=True, help_text="Feed order; null: unpublished.")
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["shop", "position"], name="shopevent_feed"),
            models.Index(fields=["id"], name="shopevent_unpublished", condition=Q(position__isnull=True)),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.uid}"

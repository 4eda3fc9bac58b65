"""GraphQL types of the marketplace app: a shop's own fields, orders, customers, categories.

``Shop`` gathers fields from several apps and is composed in ``config.nodes`` from one *part*
per app; :class:`ShopMarketplacePart` gives the shop's own fields (name, slug, currency, time
zone, return window). Other types refer to the composite through ``strawberry.lazy`` (see
``SHOP``), so no app imports a higher one.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, cast

import strawberry
import strawberry_django
from strawberry import relay
from strawberry_django.relay import DjangoListConnection

from api_core.fields import column
from api_core.permissions import requires
from marketplace import models as mp
from marketplace.permissions import Capability
from marketplace.selectors import order_events_failed

#: The composite node types, resolved lazily from the composition root.
NODES = "config.nodes"
SHOP = Annotated["Shop", strawberry.lazy(NODES)]  # type: ignore[name-defined]  # noqa: F821  (resolved lazily by strawberry)

OrderStatus = mp.OrderStatus
strawberry.enum(OrderStatus, name="OrderStatus", description="Lifecycle status of an order.")


@strawberry_django.type(
    mp.Shop, name="ShopMarketplacePart", description="Marketplace part of Shop (not in the schema)."
)
class ShopMarketplacePart(relay.Node):
    """A shop's own public face: names, currency, time zone and return window; its failed events for staff."""

    name: str = column(description="Display name.")
    slug: str = column(description="Unique URL-safe name; use it with `shop(slug:)`.")
    currency: str = column(description="ISO 4217 currency of all the shop's amounts.")
    timezone: str = column(description="IANA time zone of the shop's days and rules.")
    return_window_days: int = column(description="Days after delivery an order may be returned.")
    is_demo: bool = column(description="True for demo data.")

    @strawberry_django.connection(
        DjangoListConnection["OrderEvent"],
        description=(
            "Order events parked as failed after their processing failed a bounded number of times, oldest "
            "first; retry one with orderEventRetry after a fix (capability orders:write: owner or manager). "
            "Errors: NOT_AUTHENTICATED, PERMISSION_DENIED."
        ),
        extensions=[
            requires(Capability.RECORD_ORDERS, message="Only the shop's owner or manager can see its failed events.")
        ],
    )
    def failed_order_events(self) -> list[mp.OrderEvent]:
        """The shop's parked events (the capability is checked by the field's extension)."""
        shop = cast(mp.Shop, self)
        return order_events_failed(shop_id=shop.pk)  # type: ignore[return-value]


@strawberry_django.type(mp.Customer, description="Who a member is: name and contact details.")
class MemberProfile:
    """The customer behind a member account (the member or the shop's staff see it)."""

    display_name: str = column(description="Name shown.")
    email: str = column(description="E-mail address, may be empty.")
    phone: str = column(description="Phone number, may be empty.")


@strawberry_django.type(mp.OrderLine, description="One line of an order.")
class OrderLine:
    """Quantity x unit price in the order's currency."""

    line_no: int = strawberry_django.field(description="Position in the order, from 1.")
    description: str = strawberry_django.field(description="What was bought.")
    quantity: int = strawberry_django.field(description="Units (>= 1).")
    returned_quantity: int = strawberry_django.field(description="Units returned so far (0 to quantity).")
    unit_price: Decimal = strawberry_django.field(description="Price of one unit, order currency.")


@strawberry_django.type(mp.Order, description="One shop's order.")
class Order(relay.Node):
    """An order as recorded by the shop, with its status."""

    external_id: str = strawberry_django.field(description="The shop's own id of the order.")
    status: OrderStatus = strawberry_django.field(description="Current status.")
    currency: str = strawberry_django.field(description="ISO 4217 currency of the amounts.")
    goods_amount: Decimal = strawberry_django.field(
        description="Sum of the lines; what earns points, less pointsPaidAmount."
    )
    shipping_amount: Decimal = strawberry_django.field(description="Shipping; earns nothing.")
    points_paid_amount: Decimal = strawberry_django.field(
        description="Part of the goods paid with points or a reward's discount; earns nothing."
    )
    placed_at: dt.datetime = strawberry_django.field(description="When the order was placed.")
    delivered_at: dt.datetime | None = strawberry_django.field(description="When it was delivered, if it was.")
    shop: SHOP = strawberry_django.field(description="The shop.")
    lines: list[OrderLine] = strawberry_django.field(description="The order's lines.")


@strawberry_django.type(mp.OrderEvent, description="One recorded status change of an order (an outbox row).")
class OrderEvent(relay.Node):
    """An order event as the worker sees it: processed, pending, or parked as failed with its error."""

    order: Order = strawberry_django.field(description="The order.")
    status: OrderStatus = strawberry_django.field(description="Status the order moved to.")
    occurred_at: dt.datetime = strawberry_django.field(description="When the change happened in the shop.")
    recorded_at: dt.datetime = strawberry_django.field(field_name="created_at", description="When it was recorded.")
    processed_at: dt.datetime | None = strawberry_django.field(description="When points were applied; null until then.")
    attempts: int = strawberry_django.field(description="Processing attempts since it was recorded or last retried.")
    failed_at: dt.datetime | None = strawberry_django.field(
        description="When it was parked as failed (retries stopped); null unless parked."
    )
    failure: str = strawberry_django.field(description="The last processing error; empty when none.")


@strawberry_django.type(mp.Category, description="A product category shared by the marketplace's shops.")
class Category:
    """A category earning rules can name (by slug)."""

    name: str = strawberry_django.field(description="Display name.")
    slug: str = strawberry_django.field(description="Stable slug; earning rules and order lines name it.")

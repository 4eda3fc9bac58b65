"""``orderEventRecord``: shops' systems and staff report an order's status changes.

``orderEventRetry``: staff re-queue an event parked as failed (``shop.failedOrderEvents``) after
a fix; the service is ``marketplace.services.order_events.order_event_retry``.

The resolver translates the input and calls ``marketplace.services.orders.order_event_record``;
the capability check (``Capability.RECORD_ORDERS``: owner or manager, never a cashier) is the
service's. Delivery then queues the points through the outbox (docs/architecture.md).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, cast

import strawberry
from strawberry.types import Info

from api_core.context import current_user
from api_core.errors import handle_domain_errors
from api_core.ids import decode_global_id
from marketplace.api.errors import OrderError
from marketplace.api.types import Order, OrderEvent, OrderStatus
from marketplace.services.order_events import order_event_retry
from marketplace.services.orders import (
    CustomerInput,
    OrderEventInput,
    OrderLineInput,
    ReturnedLineInput,
    order_event_record,
)


@strawberry.input(name="OrderLineInput", description="One order line: quantity x unit price in the shop's currency.")
class OrderLineInputType:
    """An order line as sent by the shop."""

    quantity: int = strawberry.field(description="Units, 1 to 100000.")
    unit_price: Decimal = strawberry.field(description="Price of one unit, shop currency, at most 2 decimals.")
    description: str = strawberry.field(default="", description="What was bought.")
    category_slug: str | None = strawberry.field(default=None, description="Category slug (created when new).")
    product_id: str | None = strawberry.field(default=None, description="The shop's product id (created when new).")


@strawberry.input(name="CustomerInput", description="Who bought, identified by the marketplace-wide customer id.")
class CustomerInputType:
    """Customer of a new order."""

    external_id: str = strawberry.field(description="The customer's id in the shop's or marketplace's system.")
    display_name: str = strawberry.field(default="", description="Name to show.")
    email: str = strawberry.field(default="", description="E-mail address.")
    phone: str = strawberry.field(default="", description="Phone number.")


@strawberry.input(name="ReturnedLineInput", description="Units of one order line returned by a return event.")
class ReturnedLineInputType:
    """One returned line of ``orderEventRecord``'s ``returnedLines``."""

    line_no: int = strawberry.field(description="The line's number in the order, from 1 (order of `lines`).")
    quantity: int = strawberry.field(description="Units returned by this event (1 to what is still unreturned).")


@strawberry.input(description="An order's status change; the first event of an order creates it with its lines.")
class OrderEventRecordInput:
    """Input of ``orderEventRecord``."""

    shop_id: strawberry.ID = strawberry.field(description="Global id of the shop.")
    order_id: str = strawberry.field(description="The shop's own id of the order (unique per shop).")
    status: OrderStatus = strawberry.field(description="Status the order moves to.")
    currency: str = strawberry.field(description="ISO 4217 currency; must be the shop's.")
    occurred_at: dt.datetime = strawberry.field(description="When the change happened (with time zone).")
    customer: CustomerInputType | None = strawberry.field(default=None, description="Required for a new order.")
    lines: list[OrderLineInputType] | None = strawberry.field(
        default=None, description="Required for a new order; if repeated later it must be unchanged."
    )
    shipping_amount: Decimal = strawberry.field(default=Decimal("0"), description="Shipping; earns nothing.")
    points_paid_amount: Decimal = strawberry.field(
        default=Decimal("0"),
        description=(
            "Part of the goods paid with points or a reward's discount (0 to the goods amount); earns "
            "nothing and does not count towards tiers. Given when the order is first recorded."
        ),
    )
    returned_lines: list[ReturnedLineInputType] | None = strawberry.field(
        default=None,
        description=(
            "Units returned by THIS event: required for PARTIALLY_RETURNED; optional for RETURNED / "
            "REFUNDED, which return everything still unreturned (if given, exactly that)."
        ),
    )

    def to_domain(self) -> OrderEventInput:
        """The service's input, with the shop's global id decoded (0 when it is not a Shop id)."""
        return OrderEventInput(
            shop_id=decode_global_id(self.shop_id, "Shop") or 0,
            order_external_id=self.order_id,
            status=self.status.value if hasattr(self.status, "value") else str(self.status),
            currency=self.currency,
            occurred_at=self.occurred_at,
            customer=CustomerInput(
                external_id=self.customer.external_id,
                display_name=self.customer.display_name,
                email=self.customer.email,
                phone=self.customer.phone,
            )
            if self.customer
            else None,
            lines=tuple(
                OrderLineInput(
                    quantity=line.quantity,
                    unit_price=line.unit_price,
                    description=line.description,
                    category_slug=line.category_slug,
                    product_external_id=line.product_id,
                )
                for line in self.lines or ()
            ),
            shipping_amount=self.shipping_amount,
            points_paid_amount=self.points_paid_amount,
            returned_lines=tuple(
                ReturnedLineInput(line_no=line.line_no, quantity=line.quantity) for line in self.returned_lines or ()
            ),
        )


@strawberry.type(description="Result of orderEventRecord.")
class OrderEventRecordPayload:
    """The order after the change, or coded errors (and then nothing changed)."""

    order: Order | None = strawberry.field(default=None, description="The order, null when refused.")
    replayed: bool = strawberry.field(
        default=False, description="True when this idempotency key was seen before (no change)."
    )
    errors: list[OrderError] = strawberry.field(
        default_factory=list, description="Why the event was refused; empty on success."
    )


@strawberry.type(description="Result of orderEventRetry.")
class OrderEventRetryPayload:
    """The events queued again, or coded errors (and then nothing changed)."""

    events: list[OrderEvent] = strawberry.field(
        default_factory=list,
        description="The event and the later parked events of its order, un-parked and queued again, oldest first.",
    )
    errors: list[OrderError] = strawberry.field(
        default_factory=list, description="Why the retry was refused; empty on success."
    )


@strawberry.type
class OrderMutation:
    """Order events from shops' systems and staff."""

    @strawberry.mutation(
        description=(
            "Record an order and its status change (the shop's owner or manager, capability orders:write). "
            "Delivery queues the points; returns/refunds reverse them. Idempotent on idempotencyKey. "
            "Codes: see OrderErrorCode."
        )
    )
    @handle_domain_errors(OrderEventRecordPayload, OrderError)
    def order_event_record(
        self,
        info: Info,
        input: Annotated[OrderEventRecordInput, strawberry.argument(description="The order and its new status.")],
        idempotency_key: Annotated[
            str, strawberry.argument(description="Unique per event (1-200 chars); a replay returns the first result.")
        ],
    ) -> OrderEventRecordPayload:
        """Translate the input and call ``order_event_record``."""
        result = order_event_record(data=input.to_domain(), idempotency_key=idempotency_key, actor=current_user(info))
        return OrderEventRecordPayload(order=cast(Order, result.order), replayed=result.replayed, errors=[])

    @strawberry.mutation(
        description=(
            "Queue an order event parked as failed (shop.failedOrderEvents) again after a fix, with the later "
            "parked events of its order (the shop's owner or manager, capability orders:write). Codes: "
            "NOT_AUTHENTICATED, ORDER_EVENT_NOT_FOUND (also for callers without the capability), "
            "ORDER_EVENT_NOT_FAILED."
        )
    )
    @handle_domain_errors(OrderEventRetryPayload, OrderError)
    def order_event_retry(
        self,
        info: Info,
        event_id: Annotated[strawberry.ID, strawberry.argument(description="Global id of the failed OrderEvent.")],
    ) -> OrderEventRetryPayload:
        """Decode the id and call ``order_event_retry``."""
        events = order_event_retry(event_id=decode_global_id(event_id, "OrderEvent") or 0, actor=current_user(info))
        return OrderEventRetryPayload(events=cast(list[OrderEvent], events), errors=[])

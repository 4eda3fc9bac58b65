"""factory_boy factories and small builders shared by the tests."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model

from loyalty.services.programs import program_create, standard_tiers
from marketplace.models import Customer, Shop, StaffMembership, StaffRole
from marketplace.services.orders import CustomerInput, OrderEventInput, OrderLineInput, ReturnedLineInput

PASSWORD = "correct horse battery staple"


class UserFactory(factory.django.DjangoModelFactory):
    """A login with ``PASSWORD``."""

    class Meta:
        model = get_user_model()

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password(PASSWORD)


class ShopFactory(factory.django.DjangoModelFactory):
    """A USD shop in New York with a 14-day return window."""

    class Meta:
        model = Shop

    name = factory.Sequence(lambda n: f"Shop {n}")
    slug = factory.Sequence(lambda n: f"shop-{n}")
    currency = "USD"
    timezone = "America/New_York"
    return_window_days = 14


class CustomerFactory(factory.django.DjangoModelFactory):
    """A customer with a login."""

    class Meta:
        model = Customer

    user = factory.SubFactory(UserFactory)
    display_name = factory.Sequence(lambda n: f"Customer {n}")
    email = factory.LazyAttribute(lambda c: c.user.email if c.user else "")
    external_id = factory.Sequence(lambda n: f"c{n:05d}")


def shop_with_program(**shop_fields) -> Shop:
    """A shop running the standard program: 1 point per unit, Bronze 0 / Silver 100 / Gold 250 / Platinum 500."""
    shop = ShopFactory(**shop_fields)
    program_create(shop=shop, name=f"{shop.name} Rewards", tiers=standard_tiers((0, 100, 250, 500)))
    return shop


def staff(shop: Shop, role: StaffRole = StaffRole.OWNER, *, user=None):
    """A user (a new one unless given) with ``role`` in ``shop``."""
    user = user or UserFactory()
    StaffMembership.objects.create(user=user, shop=shop, role=role)
    return user


def order_input(
    shop: Shop,
    order_id: str,
    status: str = "delivered",
    *,
    customer: Customer | None = None,
    amount: str = "10.00",
    at: dt.datetime | None = None,
    lines: bool = True,
    items: tuple[tuple[int, str] | tuple[int, str, str], ...] = (),
    points_paid: str = "0",
    returned: tuple[tuple[int, int], ...] = (),
) -> OrderEventInput:
    """An order event for ``shop``: one line of ``amount`` for ``customer``.

    ``items`` replaces that line with ``(quantity, unit price[, category slug])`` lines;
    ``points_paid`` is the points-paid part of the goods; ``returned`` the ``(line no,
    quantity)`` units a return event takes back.
    """
    order_lines = tuple(
        OrderLineInput(quantity=item[0], unit_price=Decimal(item[1]), category_slug=item[2] if len(item) > 2 else None)
        for item in items
    ) or (OrderLineInput(quantity=1, unit_price=Decimal(amount)),)
    return OrderEventInput(
        shop_id=shop.pk,
        order_external_id=order_id,
        status=status,
        currency=shop.currency,
        occurred_at=at or dt.datetime(2026, 1, 5, 12, tzinfo=dt.UTC),
        customer=CustomerInput(external_id=customer.external_id) if customer else None,
        lines=order_lines if lines else (),
        points_paid_amount=Decimal(points_paid),
        returned_lines=tuple(ReturnedLineInput(line_no=no, quantity=quantity) for no, quantity in returned),
    )

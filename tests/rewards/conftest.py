"""Fixtures for rewards: members with available points in a shop that releases points at once."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from loyalty.models import LoyaltyProgram
from loyalty.services.orders import order_event_process
from marketplace.services.orders import order_event_record
from rewards.models import Reward, RewardKind
from tests.factories import CustomerFactory, order_input, shop_with_program


def points_shop(**fields):
    """A shop whose points are available at once (pending 0 days) and expire after 12 months."""
    shop = shop_with_program(**fields)
    LoyaltyProgram.objects.filter(shop=shop).update(pending_days=0, expiry_months=12)
    return shop


def member_with_points(shop, amounts=("1000.00",), start=dt.datetime(2026, 1, 1, 12, tzinfo=dt.UTC), customer=None):
    """A customer who earned ``amounts`` (one delivered order each, a day apart) in ``shop``."""
    customer = customer or CustomerFactory()
    for number, amount in enumerate(amounts):
        at = start + dt.timedelta(days=number)
        result = order_event_record(
            data=order_input(shop, f"{customer.external_id}-{number}", customer=customer, amount=amount, at=at),
            idempotency_key=f"{shop.pk}-{customer.pk}-{number}",
            actor=None,
        )
        order_event_process(event_id=result.event.pk, broadcast=False)
    return customer


def reward(shop, **fields) -> Reward:
    """A 100-point gift in ``shop``'s program."""
    defaults = {"name": "Mug", "kind": RewardKind.GIFT, "points_cost": 100, "value": Decimal("0")}
    return Reward.objects.create(program=shop.program, **{**defaults, **fields})

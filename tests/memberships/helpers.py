"""Shared set-up of the memberships tests: a shop selling "VIP Gold" and a member with some spend."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction

from loyalty.models import MemberAccount, Tier
from loyalty.services.orders import order_event_process
from loyalty.services.tiers import account_get_or_enroll
from marketplace.models import StaffRole
from marketplace.services.orders import order_event_record
from memberships.models import IntervalUnit, MembershipPlan
from tests.factories import CustomerFactory, order_input, shop_with_program, staff

T0 = dt.datetime(2026, 1, 1, 10, tzinfo=dt.UTC)


def vip_shop(**plan_fields):
    """A USD shop (Bronze 0 / Silver 100 / Gold 250 / Platinum 500 of lifetime spend) selling VIP Gold:
    9.99 a month, 7 days' trial, Gold at least and double points; and its owner."""
    shop = shop_with_program()
    gold = Tier.objects.get(program__shop=shop, name="Gold")
    fields = {
        "name": "VIP Gold",
        "price": Decimal("9.99"),
        "currency": "USD",
        "interval_unit": IntervalUnit.MONTH,
        "interval_count": 1,
        "trial_days": 7,
        "tier": gold,
        "earn_multiplier": Decimal("2"),
        "reminder_days": 3,
        "translations": {"fa": {"name": "طلایی ویژه", "benefits": []}},
    } | plan_fields
    plan = MembershipPlan.objects.create(shop=shop, **fields)
    return shop, plan, staff(shop, StaffRole.OWNER)


def member_of(shop, *, spend: str = "", at: dt.datetime = T0 - dt.timedelta(days=30)) -> MemberAccount:
    """A customer enrolled in the shop's program; with ``spend``, after a delivered order of that amount."""
    customer = CustomerFactory()
    with transaction.atomic():
        account, _ = account_get_or_enroll(customer=customer, program=shop.program, at=at)
    if spend:
        deliver(shop, customer, f"before-{customer.pk}", spend, at)
    return MemberAccount.objects.select_related("tier", "customer").get(pk=account.pk)


def deliver(shop, customer, order_id: str, amount: str, at: dt.datetime) -> None:
    """Record and post a delivered order of ``amount`` (the worker's path)."""
    event = order_event_record(
        data=order_input(shop, order_id, customer=customer, amount=amount, at=at),
        idempotency_key=f"{order_id}:delivered",
        actor=None,
    ).event
    order_event_process(event_id=event.pk, broadcast=False)


def tier_of(account: MemberAccount) -> str:
    """The account's tier name now."""
    return MemberAccount.objects.select_related("tier").get(pk=account.pk).tier.name

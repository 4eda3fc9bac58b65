"""Builders shared by the referral tests."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction

from loyalty.models import MemberAccount
from loyalty.services.orders import order_event_process
from loyalty.services.tiers import account_get_or_enroll
from marketplace.services.orders import order_event_record
from referrals.models import ReferralCode
from referrals.services import ReferralSettingsInput, referral_code_for, referral_settings_update
from tests.factories import CustomerFactory, order_input, shop_with_program

T0 = dt.datetime(2026, 1, 2, 12, tzinfo=dt.UTC)


def referral_shop(**settings):
    """A shop with the standard program and referrals on: 100 / 50 points, minimum 20.00, 30 days."""
    shop = shop_with_program()
    data = {
        "enabled": True,
        "referrer_bonus_points": 100,
        "referee_bonus_points": 50,
        "min_order_amount": Decimal("20.00"),
        "open_days": 30,
        **settings,
    }
    referral_settings_update(program=shop.program, data=ReferralSettingsInput(**data))
    return shop


def member_with_code(shop, **customer_fields) -> tuple[MemberAccount, ReferralCode]:
    """A new customer enrolled in ``shop``'s program and their referral code."""
    customer = CustomerFactory(**customer_fields)
    with transaction.atomic():
        account, _ = account_get_or_enroll(customer=customer, program=shop.program, at=T0)
    return account, referral_code_for(account, now=T0)


def deliver(shop, customer, order_id: str, amount: str = "30.00", at: dt.datetime | None = None, status="delivered"):
    """Record and process an order event; returns the event."""
    event = order_event_record(
        data=order_input(shop, order_id, status, customer=customer, amount=amount, at=at or T0 + dt.timedelta(days=3)),
        idempotency_key=f"{order_id}:{status}",
        actor=None,
    ).event
    order_event_process(event_id=event.pk, broadcast=False)
    return event

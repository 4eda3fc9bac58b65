"""Shared set-up of the engagement tests: a Tehran shop with a program and members in both languages."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from loyalty.models import MemberAccount
from loyalty.services.tiers import account_get_or_enroll
from tests.factories import CustomerFactory, shop_with_program

TEHRAN = "Asia/Tehran"


def member(shop, *, locale: str = "en", at: dt.datetime | None = None, **customer_fields) -> MemberAccount:
    """A member of ``shop`` (enrolled at ``at``) with what the planning reads loaded."""
    customer = CustomerFactory(locale=locale, **customer_fields)
    with transaction.atomic():
        account, _ = account_get_or_enroll(
            customer=customer, program=shop.program, at=at or dt.datetime(2025, 1, 10, 9, tzinfo=dt.UTC)
        )
    return MemberAccount.objects.select_related("customer", "tier", "program__shop").get(pk=account.pk)


def tehran_shop(**fields):
    """A shop in Tehran running the standard program."""
    return shop_with_program(timezone=TEHRAN, **fields)

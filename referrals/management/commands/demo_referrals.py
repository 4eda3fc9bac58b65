"""``manage.py demo_referrals``: referral settings for the demo shops and a second demo member
who applied the first member's code in Demo Coffee Roasters (idempotent).

Runs after ``patron_demo`` (demo shops and the first member); ``scripts/run`` calls it. The
friend's qualifying order is left for the demo itself: log in as ``owner`` and record a
delivered order of at least 10 USD for customer ``demo-member-2`` with ``orderEventRecord``
while both members watch ``accountUpdated``; ``--deliver`` records and processes one here
instead (live updates then reach open dashboards in services mode, where Redis carries them).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from loyalty.services.orders import order_event_process
from loyalty.services.tiers import account_get_or_enroll
from marketplace.models import Customer, Order, Shop
from marketplace.services.orders import CustomerInput, OrderEventInput, OrderLineInput, order_event_record
from marketplace.services.people import customer_ensure_login
from referrals.models import Referral
from referrals.services import ReferralSettingsInput, referral_apply, referral_code_for, referral_settings_update

#: Second demo member (the friend): login and password.
DEMO_FRIEND = ("demo2", "demo-friend-pass")
#: shop slug -> (referrer points, referee points, minimum order amount)
DEMO_SETTINGS = {
    "demo-coffee": (100, 50, Decimal("10.00")),
    "demo-books": (120, 60, Decimal("15.00")),
    "demo-bazaar": (200_000, 100_000, Decimal("500000")),
}


class Command(BaseCommand):
    """Enable referrals in the demo shops; the second demo member applies the first member's code."""

    help = "Enable referrals in the demo shops and open a demo referral (--deliver completes it)."

    def add_arguments(self, parser: CommandParser) -> None:
        """``--deliver`` records the friend's qualifying order now."""
        parser.add_argument("--deliver", action="store_true", help="Deliver the friend's first order now.")

    def handle(self, *args: Any, **options: Any) -> None:
        """Create what is missing; print the codes."""
        for slug, (referrer, referee, minimum) in DEMO_SETTINGS.items():
            shop = Shop.objects.filter(slug=slug, is_demo=True).select_related("program").first()
            if shop is None:
                raise CommandError(f"demo shop {slug} is missing: run patron_demo first")
            if not hasattr(shop.program, "referral_settings"):
                referral_settings_update(
                    program=shop.program,
                    data=ReferralSettingsInput(
                        enabled=True,
                        referrer_bonus_points=referrer,
                        referee_bonus_points=referee,
                        min_order_amount=minimum,
                        open_days=30,
                        monthly_cap=10,
                    ),
                )
        shop = Shop.objects.select_related("program").get(slug="demo-coffee", is_demo=True)
        member = Customer.objects.get(external_id="demo-member-1")
        with transaction.atomic():
            account, _ = account_get_or_enroll(customer=member, program=shop.program, at=timezone.now())
        code = referral_code_for(account)
        friend = customer_ensure_login(
            username=DEMO_FRIEND[0],
            password=DEMO_FRIEND[1],
            display_name="Farid Friend",
            email="farid.demo@example.com",
            external_id="demo-member-2",
            is_demo=True,
        )
        if not Referral.objects.filter(program=shop.program, referee=friend).exists():
            referral_apply(user=friend.user, shop_id=shop.pk, code=code.code)
        self.stdout.write(
            f"demo referral: {DEMO_FRIEND[0]} / {DEMO_FRIEND[1]} applied code {code.code} of the demo member "
            f"in {shop.name}; deliver an order of 10 USD or more for customer demo-member-2 to complete it"
        )
        if options["deliver"] and not Order.objects.filter(shop=shop, external_id="DEMO-REF-1").exists():
            if friend.external_id is None:
                raise CommandError(f"the login {DEMO_FRIEND[0]} belongs to a customer without an external id")
            result = order_event_record(
                data=OrderEventInput(
                    shop_id=shop.pk,
                    order_external_id="DEMO-REF-1",
                    status="delivered",
                    currency=shop.currency,
                    occurred_at=timezone.now(),
                    customer=CustomerInput(external_id=friend.external_id),
                    lines=(OrderLineInput(quantity=1, unit_price=Decimal("18.00"), description="Demo purchase"),),
                ),
                idempotency_key="demo:demo-coffee:DEMO-REF-1:delivered",
                actor=None,
                notify=False,
            )
            order_event_process(event_id=result.event.pk, broadcast=True)
            status = Referral.objects.get(program=shop.program, referee=friend).status
            self.stdout.write(f"demo referral delivered: status {status}")

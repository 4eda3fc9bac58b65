"""``manage.py demo_memberships``: the demo shops' paid plans, and the demo member's trial at the bookshop (idempotent).

Runs after ``patron_demo``; ``scripts/run`` calls it. Demo Coffee Roasters sells "VIP Gold" (9.99 USD a
month, 14 days' trial, Gold and double points) and a yearly plan; the Demo Bookshop "Reading circle Gold"
(7.99 EUR a month, 14 days' trial) and a yearly circle; the Tehran bazaar a Persian plan. The demo member
starts a trial of the bookshop's circle, so the dashboard shows the membership card with its
auto-renewal switch (and, at the coffee roasters, the plans on sale), and the console a subscriber.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from loyalty.models import Tier
from marketplace.models import Shop
from memberships.models import IntervalUnit, MembershipPlan, Subscription
from memberships.services.subscriptions import membership_subscribe

#: shop slug -> [(name, Persian name, price, unit, count, trial days, tier name, multiplier, benefits)]
DEMO_PLANS: dict[str, list[tuple[str, str, str, str, int, int, str, str, list[str]]]] = {
    "demo-coffee": [
        (
            "VIP Gold",
            "طلایی ویژه",
            "9.99",
            IntervalUnit.MONTH,
            1,
            14,
            "Gold",
            "2",
            ["Gold tier while subscribed", "Double points on every order", "15% off beans on Fridays"],
        ),
        ("VIP Platinum yearly", "پلاتینی سالانه", "99.00", IntervalUnit.YEAR, 1, 0, "Platinum", "2", ["Platinum tier"]),
    ],
    "demo-books": [
        (
            "Reading circle Gold",
            "حلقهٔ کتاب‌خوانی طلایی",
            "7.99",
            IntervalUnit.MONTH,
            1,
            14,
            "Gold",
            "1.5",
            ["Gold tier while subscribed", "50% more points", "A new release each month at 10% off"],
        ),
        (
            "Reading circle yearly",
            "حلقهٔ کتاب‌خوانی سالانه",
            "49.00",
            IntervalUnit.YEAR,
            1,
            0,
            "Silver",
            "1.5",
            ["Silver tier"],
        ),
    ],
    "demo-bazaar": [
        ("Bazaar Gold", "طلایی بازار", "2500000", IntervalUnit.MONTH, 1, 7, "Gold", "1.5", ["Gold tier"]),
    ],
}


class Command(BaseCommand):
    """Create what is missing of the demo's memberships."""

    help = __doc__

    def handle(self, *args: Any, **options: Any) -> None:
        """Plans in every demo shop; the demo member's trial of Reading circle Gold at the Demo Bookshop."""
        created = 0
        for slug, plans in DEMO_PLANS.items():
            shop = Shop.objects.filter(slug=slug, is_demo=True).first()
            if shop is None:
                raise CommandError(f"demo shop {slug} is missing: run patron_demo first")
            for name, name_fa, price, unit, count, trial, tier_name, multiplier, benefits in plans:
                tier = Tier.objects.get(program__shop=shop, name=tier_name)
                _, new = MembershipPlan.objects.get_or_create(
                    shop=shop,
                    name=name,
                    defaults={
                        "price": Decimal(price),
                        "currency": shop.currency,
                        "interval_unit": unit,
                        "interval_count": count,
                        "trial_days": trial,
                        "tier": tier,
                        "earn_multiplier": Decimal(multiplier),
                        "benefits": benefits,
                        "translations": {"fa": {"name": name_fa, "benefits": []}},
                    },
                )
                created += new
        member = get_user_model().objects.filter(username="demo").first()
        circle = MembershipPlan.objects.filter(shop__slug="demo-books", name="Reading circle Gold").first()
        if member is not None and circle is not None and not Subscription.objects.filter(plan=circle).exists():
            membership_subscribe(user=member, plan_id=circle.pk)
        self.stdout.write(f"demo memberships: {created} plans created; the demo member trials Reading circle Gold")

"""``manage.py demo_memberships``: the demo shops' paid plans, and the demo member's VIP Gold trial (idempotent).

Runs after ``patron_demo``; ``scripts/run`` calls it. Demo Coffee Roasters sells "VIP Gold" (9.99 USD a
month, 14 days' trial, Gold and double points) and a yearly plan; the Demo Bookshop a yearly reading
circle; the Tehran bazaar a Persian plan. The demo member starts a VIP Gold trial, so the dashboard
shows the membership card with its auto-renewal switch and the console a subscriber.
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
        ("Reading circle", "حلقهٔ کتاب‌خوانی", "49.00", IntervalUnit.YEAR, 1, 0, "Silver", "1.5", ["Silver tier"]),
    ],
    "demo-bazaar": [
        ("Bazaar Gold", "طلایی بازار", "2500000", IntervalUnit.MONTH, 1, 7, "Gold", "1.5", ["Gold tier"]),
    ],
}


class Command(BaseCommand):
    """Create what is missing of the demo's memberships."""

    help = __doc__

    def handle(self, *args: Any, **options: Any) -> None:
        """Plans in every demo shop; the demo member's trial of VIP Gold at Demo Coffee Roasters."""
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
        vip = MembershipPlan.objects.filter(shop__slug="demo-coffee", name="VIP Gold").first()
        if member is not None and vip is not None and not Subscription.objects.filter(plan=vip).exists():
            membership_subscribe(user=member, plan_id=vip.pk)
        self.stdout.write(f"demo memberships: {created} plans created; the demo member trials VIP Gold")

"""``manage.py patron_demo``: load the bundled samples and the labelled demo data (idempotent)."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Min
from django.utils import timezone

from loyalty.models import EarningRule, LoyaltyProgram, RuleKind, TierWindow
from loyalty.services.lifecycle import points_release_due
from loyalty.services.orders import order_event_process
from loyalty.services.programs import program_create, standard_tiers
from loyalty.services.rules_admin import EarningRuleData, earning_rule_create
from marketplace.events import node_id
from marketplace.models import Order, Shop, StaffRole
from marketplace.services.orders import CustomerInput, OrderEventInput, OrderLineInput, order_event_record
from marketplace.services.people import customer_ensure_login, staff_grant, user_ensure

if TYPE_CHECKING:
    from django.contrib.auth.models import User

DEMO_MEMBER = ("demo", "demo-member-pass")
DEMO_OWNER = ("owner", "demo-owner-pass")
DEMO_CASHIER = ("cashier", "demo-cashier-pass")

#: Every demo program: points expire a year after they become available, a welcome bonus (repeated
#: on the membership anniversary) and a birthday bonus; Demo Coffee Roasters requalifies tiers
#: per calendar year, the others keep them for life.
DEMO_EXPIRY_MONTHS = 12
DEMO_BONUSES = {"welcome_bonus_points": 50, "birthday_bonus_points": 100}
#: Persian names of the demo tiers (the dashboard shows them in its Persian layout).
DEMO_TIER_NAMES_FA = {"Bronze": "برنزی", "Silver": "نقره‌ای", "Gold": "طلایی", "Platinum": "پلاتینی"}

#: (slug, name, currency, time zone, tier thresholds, [(days ago, goods amount), ...])
DEMO_SHOPS = [
    ("demo-coffee", "Demo Coffee Roasters", "USD", "America/New_York", (0, 100, 250, 500),
     [(120, "64.00"), (60, "48.50"), (3, "22.00")]),
    ("demo-books", "Demo Bookshop", "EUR", "Europe/Berlin", (0, 150, 400, 800),
     [(200, "129.90"), (40, "35.00")]),
    ("demo-bazaar", "Demo Tehran Bazaar", "IRR", "Asia/Tehran", (0, 5_000_000, 20_000_000, 50_000_000),
     [(90, "3200000"), (30, "2500000"), (1, "900000")]),
]  # fmt: skip

#: Seasonal campaigns as dated earning rules: shop slug -> [(name, settings)]. ``starts`` and
#: ``ends`` (exclusive) are local times in the shop's zone. Nowruz 1406 falls on 21 March 2027
#: (the equinox is late on the 20th in Tehran); the campaign runs from the eve to Sizdah Bedar
#: (2 April). Yalda is the night of 21 December 2026. The bazaar trades in rials (about a
#: million per order), so its Yalda bonus is 200,000 points rather than 200.
DEMO_CAMPAIGNS: dict[str, list[tuple[str, dict]]] = {
    "demo-bazaar": [
        ("Nowruz 1406: double points", {"kind": RuleKind.MULTIPLIER, "multiplier": Decimal("2"),
                                        "starts": (2027, 3, 20), "ends": (2027, 4, 3), "priority": 20}),
        ("Yalda night: 200,000 bonus points", {"kind": RuleKind.FIXED_BONUS, "bonus_points": 200_000,
                                               "starts": (2026, 12, 21, 18), "ends": (2026, 12, 22), "priority": 10}),
    ],
    "demo-coffee": [
        ("Black Friday: triple points", {"kind": RuleKind.MULTIPLIER, "multiplier": Decimal("3"),
                                         "starts": (2026, 11, 27), "ends": (2026, 11, 28), "priority": 100,
                                         "stackable": False}),
    ],
    "demo-books": [
        ("Black Friday: triple points", {"kind": RuleKind.MULTIPLIER, "multiplier": Decimal("3"),
                                         "starts": (2026, 11, 27), "ends": (2026, 11, 28), "priority": 100,
                                         "stackable": False}),
    ],
}  # fmt: skip


class Command(BaseCommand):
    """Import the bundled CDNOW and Olist samples, then create demo shops, a member, staff and
    seasonal campaigns (dated earning rules, created by the demo owner and audited).

    Everything goes through the same services as production (orders through
    ``order_event_record`` + ``order_event_process``), with fixed idempotency keys, so running
    the command again changes nothing. Demo rows are labelled ``is_demo``.
    """

    help = __doc__

    def add_arguments(self, parser: CommandParser) -> None:
        """``--skip-samples`` leaves the bundled data sets out (faster)."""
        parser.add_argument("--skip-samples", action="store_true", help="Do not import the bundled samples.")

    def handle(self, *args: Any, **options: Any) -> None:
        """Load samples and demo data and print the logins."""
        samples = Path(settings.BASE_DIR) / "samples"
        if not options["skip_samples"]:
            call_command("import_orders", str(samples / "cdnow_sample.csv.gz"), format="cdnow", stdout=self.stdout)
            call_command("import_orders", str(samples / "olist"), format="olist", stdout=self.stdout)
        member = customer_ensure_login(
            username=DEMO_MEMBER[0],
            password=DEMO_MEMBER[1],
            display_name="Dana Demo",
            email="dana.demo@example.com",
            external_id="demo-member-1",
            is_demo=True,
        )
        if member.external_id is None:
            raise CommandError(f"the login {DEMO_MEMBER[0]} belongs to a customer without an external id")
        if member.birth_date is None:
            # A Jalali birthday twelve days from the first demo run, and e-mail consent, so that
            # shop.upcomingOccasions and the birthday job have something to show in the demo.
            soon = timezone.localdate() + dt.timedelta(days=12)
            type(member).objects.filter(pk=member.pk).update(
                birth_date=soon.replace(year=1990) if (soon.month, soon.day) != (2, 29) else dt.date(1990, 3, 1),
                calendar="jalali",
                consent_email=True,
            )
        owner = user_ensure(username=DEMO_OWNER[0], password=DEMO_OWNER[1], email="owner@example.com")
        cashier = user_ensure(username=DEMO_CASHIER[0], password=DEMO_CASHIER[1], email="cashier@example.com")
        now = timezone.now().replace(minute=0, second=0, microsecond=0)
        for slug, name, currency, tz, thresholds, orders in DEMO_SHOPS:
            shop, _ = Shop.objects.get_or_create(
                slug=slug,
                defaults={"name": name, "currency": currency, "timezone": tz, "external_id": slug, "is_demo": True},
            )
            if not LoyaltyProgram.objects.filter(shop=shop).exists():
                program = program_create(
                    shop=shop,
                    name=f"{name} Rewards",
                    tiers=standard_tiers(thresholds),
                    description="Demo program: 1 point per unit of currency, Bronze to Platinum.",
                    expiry_months=DEMO_EXPIRY_MONTHS,
                    tier_window=TierWindow.CALENDAR_YEAR if slug == "demo-coffee" else TierWindow.LIFETIME,
                )
                # Bonuses and expiry give the scheduler's jobs something to do in the demo.
                LoyaltyProgram.objects.filter(pk=program.pk).update(**DEMO_BONUSES)
                for tier in program.tiers.all():
                    tier.name_translations = {"fa": DEMO_TIER_NAMES_FA[tier.name]}
                    tier.save(update_fields=["name_translations"])
            staff_grant(user=owner, shop=shop, role=StaffRole.OWNER)
            staff_grant(user=cashier, shop=shop, role=StaffRole.CASHIER)
            self._campaigns(shop, owner)
            for number, (days_ago, amount) in enumerate(orders, start=1):
                self._deliver(
                    shop, member.external_id, f"DEMO-{number}", Decimal(amount), now - dt.timedelta(days=days_ago)
                )
        points_release_due(now=timezone.now(), broadcast=False)
        call_command("check_ledger", stdout=self.stdout)
        self.stdout.write(
            self.style.SUCCESS(
                "Demo logins (demo data): member "
                f"{DEMO_MEMBER[0]} / {DEMO_MEMBER[1]}; shop owner {DEMO_OWNER[0]} / {DEMO_OWNER[1]}; "
                f"cashier {DEMO_CASHIER[0]} / {DEMO_CASHIER[1]}"
            )
        )
        self._print_example_ids(member.external_id)

    def _print_example_ids(self, member_external_id: str) -> None:
        """Print what the examples in README.md and docs/api.md need from this database.

        The shops' global ids (``shopId`` arguments), the demo member's customer external id
        (``orderEventRecord``'s ``customer.externalId``: an order for it fires the demo login's
        ``accountUpdated``) and the analytics period holding the demo orders. The demo's dates are
        relative to the first run, so the period is read from the stored orders rather than from
        today. tests/api/test_doc_examples.py runs the examples with these printed values.
        """
        shops = Shop.objects.filter(slug__in=[row[0] for row in DEMO_SHOPS]).order_by("pk")
        ids = ", ".join(f"{shop.slug} {node_id('Shop', shop.pk)}" for shop in shops)
        self.stdout.write(f"Demo shop ids (shopId): {ids}")
        self.stdout.write(
            f"Demo member customer externalId: {member_external_id} (orderEventRecord's customer; "
            f"its points reach login {DEMO_MEMBER[0]} on accountUpdated)"
        )
        coffee = shops.get(slug="demo-coffee")
        zone = zoneinfo.ZoneInfo(coffee.timezone)
        today = timezone.now().astimezone(zone).date()
        first = Order.objects.filter(
            shop=coffee, external_id__startswith="DEMO-", delivered_at__isnull=False
        ).aggregate(first=Min("delivered_at"))["first"]
        start = (first.astimezone(zone).date() if first else today).replace(day=1)
        # shop.analytics refuses periods over 366 days (a demo database kept for a year).
        start = max(start, today - dt.timedelta(days=365))
        self.stdout.write(
            f"Demo analytics period (demo-coffee, its orders and points): from {start.isoformat()} "
            f"to {today.isoformat()}"
        )

    @staticmethod
    def _campaigns(shop: Shop, owner: User) -> None:
        """Create the shop's seasonal campaigns (``DEMO_CAMPAIGNS``) as the owner, skipping existing names."""
        zone = zoneinfo.ZoneInfo(shop.timezone)
        for name, settings_ in DEMO_CAMPAIGNS.get(shop.slug, []):
            if EarningRule.objects.filter(program__shop=shop, name=name).exists():
                continue
            fields = dict(settings_)
            starts, ends = (dt.datetime(*fields.pop(key)).replace(tzinfo=zone) for key in ("starts", "ends"))
            earning_rule_create(
                user=owner, shop_id=shop.pk, data=EarningRuleData(name=name, starts_at=starts, ends_at=ends, **fields)
            )

    @staticmethod
    def _deliver(shop: Shop, customer_external_id: str, order_id: str, amount: Decimal, at: dt.datetime) -> None:
        """Record a demo order as delivered at ``at`` and post its points, unless it exists already.

        The dates are relative to today, so a second run skips existing orders rather than replaying
        their keys with other input (which the service rightly refuses as a conflict).
        """
        if Order.objects.filter(shop=shop, external_id=order_id).exists():
            return
        result = order_event_record(
            data=OrderEventInput(
                shop_id=shop.pk,
                order_external_id=order_id,
                status="delivered",
                currency=shop.currency,
                occurred_at=at,
                customer=CustomerInput(external_id=customer_external_id),
                lines=(OrderLineInput(quantity=1, unit_price=amount, description="Demo purchase"),),
            ),
            idempotency_key=f"demo:{shop.slug}:{order_id}:delivered",
            actor=None,
            notify=False,
        )
        order_event_process(event_id=result.event.pk, broadcast=False)

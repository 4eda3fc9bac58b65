# ruff: noqa: RUF001  (Persian names)
"""``manage.py demo_rewards``: a rewards catalogue for the demo shops and two demo redemptions (idempotent).

Runs after ``patron_demo`` (which creates the demo shops and member); ``scripts/run`` calls both.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from marketplace.models import Customer, Shop
from rewards.codes import code_display
from rewards.models import Reward, RewardKind
from rewards.services import reward_redeem

#: shop slug -> [(name, kind, points cost, value, stock)]
CATALOGUES: dict[str, list[tuple[str, RewardKind, int, Decimal | None, int | None]]] = {
    "demo-coffee": [
        ("Free espresso", RewardKind.FREE_PRODUCT, 50, None, None),
        ("Bag of house beans", RewardKind.FREE_PRODUCT, 100, None, 25),
        ("5 USD off", RewardKind.FIXED_AMOUNT, 150, Decimal("5.00"), None),
    ],
    "demo-books": [
        ("Bookmark", RewardKind.GIFT, 30, None, None),
        ("10% off one book", RewardKind.PERCENTAGE, 80, Decimal("10"), None),
        ("5 EUR voucher", RewardKind.FIXED_AMOUNT, 150, Decimal("5.00"), 10),
    ],
    "demo-bazaar": [
        ("Free shipping", RewardKind.FREE_SHIPPING, 500_000, None, None),
        ("Tea glass set", RewardKind.GIFT, 1_000_000, None, 5),
    ],
}
#: The rewards' Persian names, as the demo's Persian readers see them (no placeholders).
NAMES_FA = {
    "Free espresso": "اسپرسوی رایگان",
    "Bag of house beans": "یک بسته قهوهٔ دانه‌ای",
    "5 USD off": "۵ دلار تخفیف",
    "Bookmark": "نشانک کتاب",
    "10% off one book": "۱۰٪ تخفیف یک کتاب",
    "5 EUR voucher": "بن خرید ۵ یورویی",
    "Free shipping": "ارسال رایگان",
    "Tea glass set": "سرویس استکان کمرباریک",
}
#: (shop slug, reward name) the demo member redeems, so the dashboard lists codes in several shops.
DEMO_REDEMPTIONS = [("demo-coffee", "Free espresso"), ("demo-books", "Bookmark")]


class Command(BaseCommand):
    """Create the demo shops' catalogues and redeem two rewards for the demo member."""

    help = __doc__

    def handle(self, *args: Any, **options: Any) -> None:
        """Create what is missing; redeem with fixed idempotency keys (a second run replays)."""
        for slug, rewards in CATALOGUES.items():
            shop = Shop.objects.filter(slug=slug, is_demo=True).select_related("program").first()
            if shop is None:
                raise CommandError(f"demo shop {slug} is missing: run patron_demo first")
            for order, (name, kind, cost, value, stock) in enumerate(rewards):
                translations = {"fa": {"name": NAMES_FA[name], "description": "جایزهٔ نمایشی."}}
                reward, created = Reward.objects.get_or_create(
                    program=shop.program,
                    name=name,
                    defaults={
                        "kind": kind,
                        "points_cost": cost,
                        "value": value,
                        "stock": stock,
                        "sort_order": order,
                        "description": "Demo reward.",
                        "translations": translations,
                    },
                )
                if not created and reward.translations != translations:  # demo data of an earlier version
                    reward.translations = translations
                    reward.save(update_fields=["translations"])
        member = Customer.objects.select_related("user").get(external_id="demo-member-1")
        if member.user is None:
            raise CommandError("the demo member has no login: run patron_demo first")
        for slug, name in DEMO_REDEMPTIONS:
            reward = Reward.objects.get(program__shop__slug=slug, name=name)
            result = reward_redeem(user=member.user, reward_id=reward.pk, idempotency_key=f"demo:{slug}:{name}")
            self.stdout.write(f"demo redemption {slug}: {name} -> code {code_display(result.redemption.code)}")

"""``manage.py coupons_export SHOP_SLUG [--promotion ID] [--batch ID]``: a shop's coupons as CSV on stdout.

The same columns as ``CouponBatch.csv`` (and what ``coupons_import`` reads), newest first.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from checkout.selectors import coupons_of_shop
from checkout.services import coupons_csv
from marketplace.models import Shop


class Command(BaseCommand):
    """Export coupons as CSV."""

    help = __doc__

    def add_arguments(self, parser: CommandParser) -> None:
        """SHOP_SLUG and optional filters."""
        parser.add_argument("shop", help="The shop's slug.")
        parser.add_argument("--promotion", type=int, default=None, help="Only this promotion's coupons.")
        parser.add_argument("--batch", type=int, default=None, help="Only this batch's coupons.")

    def handle(self, *args: Any, **options: Any) -> None:
        """Write the CSV to stdout."""
        shop = Shop.objects.filter(slug=options["shop"]).first()
        if shop is None:
            raise CommandError(f"no shop {options['shop']!r}")
        coupons = coupons_of_shop(shop_id=shop.pk, promotion_id=options["promotion"], batch_id=options["batch"])
        self.stdout.write(coupons_csv(coupons.iterator()), ending="")

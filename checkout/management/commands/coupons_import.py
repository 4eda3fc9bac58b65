"""``manage.py coupons_import SHOP_SLUG PROMOTION_ID FILE.csv``: create a promotion's coupons from CSV.

The columns are those ``coupons_export`` and ``CouponBatch.csv`` write (``code`` required; the
others optional: ``customer_id``, ``max_uses`` (empty: unlimited), ``max_uses_per_member``,
``valid_from``, ``valid_until`` (ISO 8601 with a zone), ``channel``). All or nothing: a bad line
is named and nothing is written. A progress bar (tqdm) goes to stderr when it is a terminal.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from checkout.errors import CheckoutError
from checkout.models import Promotion
from checkout.services import coupons_import


def _advance(bar: tqdm) -> None:
    bar.update()


class Command(BaseCommand):
    """Import coupon codes for one promotion."""

    help = __doc__

    def add_arguments(self, parser: CommandParser) -> None:
        """SHOP_SLUG PROMOTION_ID FILE."""
        parser.add_argument("shop", help="The shop's slug.")
        parser.add_argument("promotion", type=int, help="The promotion's id (as in the admin).")
        parser.add_argument("file", type=Path, help="CSV file with a header line.")

    def handle(self, *args: Any, **options: Any) -> None:
        """Read the file, import every row in one transaction, print how many."""
        promotion = Promotion.objects.filter(pk=options["promotion"], shop__slug=options["shop"]).first()
        if promotion is None:
            raise CommandError(f"no promotion {options['promotion']} in shop {options['shop']!r}")
        try:
            with options["file"].open(newline="", encoding="utf-8-sig") as handle:
                rows = list(csv.DictReader(handle))
        except OSError as error:
            raise CommandError(f"cannot read {options['file']}: {error.strerror}") from error
        bar = tqdm(total=len(rows), desc="coupons", unit="code", file=sys.stderr, disable=None)
        try:
            created = coupons_import(promotion=promotion, rows=rows, progress=lambda _: _advance(bar))
        except CheckoutError as error:
            raise CommandError(f"{error.code.value}: {error.message} (nothing was imported)") from error
        finally:
            bar.close()
        self.stdout.write(f"imported coupons={created} promotion={promotion.pk} shop={options['shop']}")

"""``manage.py crm_refresh [--shop SLUG] [--as-of ISO-DATETIME]``: recompute statistics and automatic tags.

The job of ``crm_refresh_task`` (nightly), for one shop or all; ``--as-of`` evaluates dormancy,
the local year and birthdays at that time (for replays and tests).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.dateparse import parse_datetime

from crm.services.stats import members_refresh_all
from loyalty.management.commands._jobs import add_shop_argument, shop_id_of


class Command(BaseCommand):
    """Refresh member statistics and automatic tags."""

    help = __doc__

    def add_arguments(self, parser: CommandParser) -> None:
        """--shop and --as-of."""
        add_shop_argument(parser)
        parser.add_argument("--as-of", default=None, help="Evaluate at this ISO 8601 time with a zone.")

    def handle(self, *args: Any, **options: Any) -> None:
        """Run the refresh and print how many members it covered."""
        shop_id = shop_id_of(options)
        now = None
        if options["as_of"]:
            now = parse_datetime(options["as_of"])
            if now is None or now.tzinfo is None:
                raise CommandError("--as-of needs an ISO 8601 time with a zone")
        count = members_refresh_all(shop_id=shop_id, now=now)
        self.stdout.write(f"refreshed members={count}")

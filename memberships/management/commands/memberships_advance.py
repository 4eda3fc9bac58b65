"""``manage.py memberships_advance [--shop SLUG] [--as-of ISO-DATETIME] [--dry-run]``.

Runs the scheduled renewal job (``memberships_advance_task``) now, here: renewal reminders, charge
requests and their retries, past due, expiries and period ends, for one shop or all. ``--dry-run``
writes nothing and prints what is due; ``--as-of`` runs it as at another time. Running it twice does
nothing twice (docs/memberships.md).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from loyalty.management.commands._jobs import add_job_arguments, add_shop_argument, job_now, shop_id_of
from memberships.services.lifecycle import subscriptions_advance


class Command(BaseCommand):
    """Advance subscriptions to now (or ``--as-of``)."""

    help = __doc__

    def add_arguments(self, parser: CommandParser) -> None:
        """--shop, --as-of and --dry-run."""
        add_shop_argument(parser)
        add_job_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        """Advance and print the counts per step."""
        summary = subscriptions_advance(now=job_now(options), dry_run=options["dry_run"], shop_id=shop_id_of(options))
        self.stdout.write(f"{'due' if options['dry_run'] else 'advanced'}: {summary}")

"""``manage.py engagement_send [--shop SLUG] [--kind KIND ...] [--as-of ISO-DATETIME] [--dry-run]``.

Plans the day's messages (``engagement_daily_task``'s job: birthdays, anniversaries, cultural
events with their bonuses, expiring points, win-back) for one shop or all and the given kinds,
then sends every planned message now due, here in this process (retries and quiet hours
included). ``--dry-run`` writes and sends nothing and prints what would be planned. Running it
twice sends nothing twice (each message is keyed per kind, occasion, member and channel).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from engagement.models import EngagementKind, EventStatus
from engagement.services.delivery import deliver, due_events
from engagement.services.jobs import engagement_plan_daily
from loyalty.management.commands._jobs import add_shop_argument, shop_id_of


class Command(BaseCommand):
    """Plan the day's messages and send what is due."""

    help = __doc__

    def add_arguments(self, parser: CommandParser) -> None:
        """--shop, --kind (repeatable), --as-of and --dry-run."""
        add_shop_argument(parser)
        parser.add_argument(
            "--kind", action="append", choices=EngagementKind.values, help="Only these kinds (repeat the option)."
        )
        parser.add_argument("--as-of", default=None, help="Plan and send as at this ISO 8601 time with a zone.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Write and send nothing; print what would be planned."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        """Plan, then deliver due messages; print the counts."""
        shop_id = shop_id_of(options)
        now = timezone.now()
        if options["as_of"]:
            parsed = parse_datetime(options["as_of"])
            if parsed is None or parsed.tzinfo is None:
                raise CommandError("--as-of needs an ISO 8601 time with a zone")
            now = parsed
        kinds = set(options["kind"]) if options["kind"] else None
        summary = engagement_plan_daily(now=now, shop_id=shop_id, kinds=kinds, dry_run=options["dry_run"])
        self.stdout.write(f"{'would plan' if options['dry_run'] else 'planned'} {summary}")
        if options["dry_run"]:
            return
        sent = failed = 0
        for event_id in due_events(now=now, limit=100_000, shop_id=shop_id):
            result = deliver(event_id, now=now)
            if result is not None and result.sent:
                sent += 1
            elif result is not None and result.status == EventStatus.FAILED:
                failed += 1
        self.stdout.write(f"sent={sent} failed={failed}")

"""``manage.py requalify_tiers``: requalify members whose tier window ended (``tiers_requalify_task``)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from loyalty.management.commands._jobs import add_job_arguments, job_now, job_suffix
from loyalty.services.lifecycle import tiers_requalify_due


class Command(BaseCommand):
    """Requalify tiers at the end of each qualifying window (``tiers_requalify_due``); idempotent.

    Prints ``requalify_tiers: accounts=N kept=N moved_down=N marked=N as_of=... dry_run=yes|no``.
    """

    help = "Requalify member tiers whose qualifying window (plus grace) ended (--dry-run, --as-of)."

    def add_arguments(self, parser: CommandParser) -> None:
        """--dry-run, --as-of."""
        add_job_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        """Run the job and print the summary line."""
        now, dry_run = job_now(options), bool(options["dry_run"])
        summary = tiers_requalify_due(now=now, dry_run=dry_run)
        self.stdout.write(
            f"requalify_tiers: accounts={summary.accounts} kept={summary.kept} moved_down={summary.moved_down} "
            f"marked={summary.marked} {job_suffix(now, dry_run)}"
        )

"""``manage.py release_points``: make due pending points available (the job of ``points_release_task``)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from loyalty.management.commands._jobs import add_job_arguments, job_now, job_suffix
from loyalty.services.lifecycle import points_release_due


class Command(BaseCommand):
    """Release every pending lot whose return window has passed (``points_release_due``); idempotent.

    Prints ``release_points: accounts=N lots=N points=N as_of=... dry_run=yes|no``.
    """

    help = "Make pending points available once their return window passed (--dry-run, --as-of)."

    def add_arguments(self, parser: CommandParser) -> None:
        """--dry-run, --as-of."""
        add_job_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        """Run the job and print the summary line."""
        now, dry_run = job_now(options), bool(options["dry_run"])
        summary = points_release_due(now=now, dry_run=dry_run)
        self.stdout.write(
            f"release_points: accounts={summary.accounts} lots={summary.lots} points={summary.points} "
            f"{job_suffix(now, dry_run)}"
        )

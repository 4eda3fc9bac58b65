"""``manage.py expire_points``: expire what remains of due lots (the job of ``points_expire_task``)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from loyalty.management.commands._jobs import add_job_arguments, job_now, job_suffix
from loyalty.services.lifecycle import points_expire_due


class Command(BaseCommand):
    """Expire the remainders of lots past ``expires_at`` (``points_expire_due``); idempotent.

    Prints ``expire_points: accounts=N lots=N points=N as_of=... dry_run=yes|no``.
    """

    help = "Expire what remains of points lots past their expiry (--dry-run, --as-of)."

    def add_arguments(self, parser: CommandParser) -> None:
        """--dry-run, --as-of."""
        add_job_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        """Run the job and print the summary line."""
        now, dry_run = job_now(options), bool(options["dry_run"])
        summary = points_expire_due(now=now, dry_run=dry_run)
        self.stdout.write(
            f"expire_points: accounts={summary.accounts} lots={summary.lots} points={summary.points} "
            f"{job_suffix(now, dry_run)}"
        )

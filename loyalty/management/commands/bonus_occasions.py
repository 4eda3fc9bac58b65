"""``manage.py bonus_occasions``: pay the birthday and anniversary bonuses due (the job of ``occasions_bonus_task``)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from loyalty.management.commands._jobs import add_job_arguments, job_now, job_suffix
from loyalty.services.occasions import CATCH_UP_DAYS, occasions_bonus_due


class Command(BaseCommand):
    """Run ``occasions_bonus_due`` once, as the daily job does; idempotent, safe beside the scheduler.

    Prints ``bonus_occasions: birthdays=N anniversaries=N points=N as_of=... dry_run=yes|no``.
    """

    help = (
        "Pay birthday and anniversary bonuses due on each shop's local date "
        f"(and the {CATCH_UP_DAYS - 1} days before, if missed) (--dry-run, --as-of)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        """--dry-run, --as-of."""
        add_job_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        """Run the job and print the summary line."""
        now, dry_run = job_now(options), bool(options["dry_run"])
        summary = occasions_bonus_due(now=now, dry_run=dry_run)
        self.stdout.write(
            f"bonus_occasions: birthdays={summary.birthdays} anniversaries={summary.anniversaries} "
            f"points={summary.points} {job_suffix(now, dry_run)}"
        )

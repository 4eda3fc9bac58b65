"""``manage.py expire_referrals``: close open referrals past their expiry (the job of ``referrals_expire_task``)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from loyalty.management.commands._jobs import add_job_arguments, job_now, job_suffix
from referrals.services import referrals_expire_due


class Command(BaseCommand):
    """Expire OPEN referrals whose ``expires_at`` has passed (``referrals_expire_due``); idempotent.

    Prints ``expire_referrals: referrals=N as_of=... dry_run=yes|no``.
    """

    help = "Expire open referrals past their expiry (--dry-run, --as-of)."

    def add_arguments(self, parser: CommandParser) -> None:
        """--dry-run, --as-of."""
        add_job_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        """Run the job and print the summary line."""
        now, dry_run = job_now(options), bool(options["dry_run"])
        count = referrals_expire_due(now, dry_run=dry_run)
        self.stdout.write(f"expire_referrals: referrals={count} {job_suffix(now, dry_run)}")

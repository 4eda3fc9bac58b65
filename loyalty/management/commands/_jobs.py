"""Shared options of the job commands (``release_points``, ``expire_points``, ``requalify_tiers``, and
the higher apps' ``crm_refresh``, ``engagement_send``, ``memberships_advance``)."""

from __future__ import annotations

import argparse
import datetime as dt

from django.core.management.base import CommandError, CommandParser
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from marketplace.models import Shop


def as_of(value: str) -> dt.datetime:
    """argparse type of ``--as-of``: an ISO 8601 date-time (or a date, meaning its midnight).

    Without a UTC offset the time is read in Django's ``TIME_ZONE`` (UTC).
    """
    parsed = parse_datetime(value)
    if parsed is None:
        day = parse_date(value)
        if day is None:
            raise argparse.ArgumentTypeError(f"not an ISO 8601 date-time: {value!r}")
        parsed = dt.datetime.combine(day, dt.time())
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, timezone.get_default_timezone())
    return parsed


def add_job_arguments(parser: CommandParser) -> None:
    """``--dry-run`` and ``--as-of``."""
    parser.add_argument("--dry-run", action="store_true", help="Say what is due; write nothing.")
    parser.add_argument(
        "--as-of",
        type=as_of,
        default=None,
        metavar="ISO-DATETIME",
        help="Run as if it were this moment (for replays of history); default now.",
    )


def job_now(options: dict) -> dt.datetime:
    """The ``--as-of`` moment, or now."""
    return options["as_of"] or timezone.now()


def job_suffix(now: dt.datetime, dry_run: bool) -> str:
    """`` as_of=... dry_run=...`` for the summary line."""
    return f"as_of={now.isoformat()} dry_run={'yes' if dry_run else 'no'}"


def add_shop_argument(parser: CommandParser) -> None:
    """``--shop SLUG``: only this shop."""
    parser.add_argument("--shop", default=None, help="Only this shop (slug).")


def shop_id_of(options: dict) -> int | None:
    """The id of the ``--shop`` slug, ``None`` without one; ``CommandError`` for an unknown slug."""
    if not options.get("shop"):
        return None
    shop_id = Shop.objects.filter(slug=options["shop"]).values_list("pk", flat=True).first()
    if shop_id is None:
        raise CommandError(f"no shop {options['shop']!r}")
    return shop_id

"""``manage.py lifecycle_replay``: replay an order history month by month with the lifecycle jobs.

For benchmarks and consistency checks on real data (docs/lifecycle.md, "Replaying history"):
the import of ``import_orders`` interleaved with the scheduler's jobs run "as of" each month end.
"""

from __future__ import annotations

import datetime as dt
import time
import zoneinfo
from collections import defaultdict
from dataclasses import replace
from pathlib import Path
from typing import Any

from dateutil.relativedelta import relativedelta
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Count, Sum
from django.db.models.functions import TruncQuarter

from loyalty.importers import READERS, ImportBatch, ImportFormatError, batch_read
from loyalty.importers.replay import ReplayError, batch_replay, shops_ensure
from loyalty.models import EntryKind, LoyaltyProgram, PointsEntry, TierChange, TierWindow
from loyalty.services.lifecycle import points_expire_due, points_release_due, tiers_requalify_due

SETTINGS = ("expiry_months", "tier_window", "downgrade_policy", "downgrade_grace_days")


def _month(value: str) -> dt.date:
    """argparse type of ``--through``: ``YYYY-MM``."""
    return dt.datetime.strptime(value, "%Y-%m").date()


class Command(BaseCommand):
    """Import an order history a month at a time and run release, expiry and requalification at each month end.

    Sets the imported shops' programs to the given expiry and tier-window policy first (and
    refuses when a program already has history under other settings, since lots keep the expiry
    they were earned with). Then, for each month from the first event's to ``--through``: the
    month's events go through ``batch_replay`` (exactly as ``import_orders``, without its final
    release), then ``points_release_due``, ``points_expire_due`` and ``tiers_requalify_due`` run
    with ``now`` = the first instant of the next month in the shop's time zone. Prints the
    settings, one line per quarter from the ledger (orders that earned, points earned, released,
    expired, tier moves up / down / kept at requalification), what this run's jobs did, then runs
    ``check_ledger`` (non-zero exit on any discrepancy). Safe to run again: it then adds nothing.
    Points are integers.
    """

    help = "Replay an order history month by month, running the lifecycle jobs as of each month end."

    def add_arguments(self, parser: CommandParser) -> None:
        """PATH, --format, --expiry-months, --tier-window, --downgrade-policy, --grace-days, --through."""
        parser.add_argument("path", help="File or directory, as for import_orders.")
        parser.add_argument("--format", default="cdnow", choices=sorted(READERS), help="Format of PATH (cdnow).")
        parser.add_argument("--expiry-months", type=int, default=12, help="Months after release points expire (12).")
        parser.add_argument(
            "--tier-window",
            default=TierWindow.CALENDAR_YEAR,
            choices=[TierWindow.CALENDAR_YEAR, TierWindow.ROLLING_12_MONTHS, TierWindow.LIFETIME],
            help="Qualifying window of the tiers (calendar_year).",
        )
        parser.add_argument(
            "--downgrade-policy",
            default="requalification",
            choices=["requalification", "never"],
            help="(requalification)",
        )
        parser.add_argument("--grace-days", type=int, default=0, help="Days after a window before a downgrade (0).")
        parser.add_argument(
            "--through",
            type=_month,
            default=None,
            metavar="YYYY-MM",
            help="Last month end (default: December of the last event's year).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        """Configure, replay month by month, print the quarters, check the ledger."""
        started = time.perf_counter()
        path, fmt = Path(str(options["path"])), str(options["format"])
        if not path.exists():
            raise CommandError(f"{path}: no such file or directory")
        if int(options["expiry_months"]) < 0 or int(options["grace_days"]) < 0:
            raise CommandError("--expiry-months and --grace-days cannot be negative")
        try:
            batch = batch_read(fmt, path)
        except ImportFormatError as exc:
            raise CommandError(f"nothing imported: {exc}") from exc
        if not batch.events:
            raise CommandError("the source holds no order events")
        tier_window = str(options["tier_window"])
        settings = {
            "expiry_months": int(options["expiry_months"]) or None,
            "tier_window": tier_window,
            "downgrade_policy": str(options["downgrade_policy"]),
            "downgrade_grace_days": int(options["grace_days"]),
        }
        shops = shops_ensure(
            {
                key: replace(spec, program=replace(spec.program, tier_window=tier_window))
                for key, spec in batch.shops.items()
            }
        )
        programs = list(
            LoyaltyProgram.objects.select_related("shop").filter(shop__in=list(shops.values())).order_by("pk")
        )
        for program in programs:
            self._configure(program, settings)
        tz = zoneinfo.ZoneInfo(programs[0].shop.timezone)
        events = sorted(batch.events, key=lambda event: event.sort_key())
        first = events[0].occurred_at.astimezone(tz)
        through = options["through"] or dt.date(events[-1].occurred_at.astimezone(tz).year, 12, 1)
        month = dt.datetime(first.year, first.month, 1, tzinfo=tz)
        last_end = dt.datetime(through.year, through.month, 1, tzinfo=tz) + relativedelta(months=1)
        released = expired = requalified = kept = down = imported = 0
        position = 0
        while month < last_end:
            end = month + relativedelta(months=1)
            chunk = []
            while position < len(events) and events[position].occurred_at < end:
                chunk.append(events[position])
                position += 1
            if chunk:
                sub = ImportBatch(format=batch.format, shops=batch.shops, events=chunk, orders=0, notes=[])
                try:
                    summary = batch_replay(sub, release=False)
                except ReplayError as exc:
                    raise CommandError(
                        f"stopped at {exc}; re-running the replay after fixing the file is safe"
                    ) from exc
                imported += summary.points_posted
            released += points_release_due(now=end, broadcast=False).points
            expired += points_expire_due(now=end, broadcast=False).points
            result = tiers_requalify_due(now=end, broadcast=False)
            requalified, kept, down = requalified + result.accounts, kept + result.kept, down + result.moved_down
            month = end
        self._quarters([program.pk for program in programs], tz)
        self.stdout.write(
            f"this run: months={self._months(first, last_end, tz)} events={len(events)} points_posted={imported} "
            f"released={released} expired={expired} requalified={requalified} kept={kept} moved_down={down} "
            f"seconds={time.perf_counter() - started:.1f}"
        )
        call_command("check_ledger", stdout=self.stdout, stderr=self.stderr)

    def _configure(self, program: LoyaltyProgram, settings: dict) -> None:
        """Give ``program`` the replay's settings; refuse when it has history under other ones."""
        current = {name: getattr(program, name) for name in SETTINGS}
        if current != settings:
            if PointsEntry.objects.filter(account__program=program).exists():
                raise CommandError(
                    f"program {program.name!r} already has ledger entries under other settings ({current}); "
                    "replay into a fresh database or repeat the first run's options"
                )
            LoyaltyProgram.objects.filter(pk=program.pk).update(**settings)
            for name, value in settings.items():
                setattr(program, name, value)
        self.stdout.write(
            f"program {program.name!r} (shop {program.shop.slug}): expiry_months={program.expiry_months} "
            f"tier_window={program.tier_window} tier_basis={program.tier_basis} "
            f"downgrade_policy={program.downgrade_policy} downgrade_grace_days={program.downgrade_grace_days} "
            f"pending_days={program.effective_pending_days}"
        )

    @staticmethod
    def _months(first: dt.datetime, last_end: dt.datetime, tz: zoneinfo.ZoneInfo) -> int:
        """Month ends the replay ran the jobs at."""
        delta = relativedelta(last_end, dt.datetime(first.year, first.month, 1, tzinfo=tz))
        return delta.years * 12 + delta.months

    def _quarters(self, program_ids: list[int], tz: zoneinfo.ZoneInfo) -> None:
        """One line per quarter (shop's time zone) from the ledger and the tier history."""
        rows: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        entries = (
            PointsEntry.objects.filter(
                account__program_id__in=program_ids, kind__in=(EntryKind.EARN, EntryKind.RELEASE, EntryKind.EXPIRE)
            )
            .annotate(quarter=TruncQuarter("created_at", tzinfo=tz))
            .values("quarter", "kind")
            .annotate(points=Sum("points"), count=Count("pk"))
        )
        for row in entries:
            quarter = f"{row['quarter'].year}Q{(row['quarter'].month - 1) // 3 + 1}"
            rows[quarter][row["kind"]] += row["points"]
            if row["kind"] == EntryKind.EARN:
                rows[quarter]["orders"] += row["count"]
        changes = TierChange.objects.filter(account__program_id__in=program_ids, from_tier__isnull=False).values_list(
            "created_at", "from_tier__position", "to_tier__position"
        )
        for created_at, old, new in changes.iterator(chunk_size=5000):
            local = created_at.astimezone(tz)
            quarter = f"{local.year}Q{(local.month - 1) // 3 + 1}"
            rows[quarter]["up" if new > old else "down" if new < old else "kept"] += 1
        header = ("quarter", "orders", "earned", "released", "expired", "tier_up", "tier_down", "tier_kept")
        self.stdout.write(" ".join(f"{name:>9}" for name in header))
        totals: dict[str, int] = defaultdict(int)
        for quarter in sorted(rows):
            figures = rows[quarter]
            values = (
                figures["orders"],
                figures[EntryKind.EARN],
                figures[EntryKind.RELEASE],
                -figures[EntryKind.EXPIRE],
                figures["up"],
                figures["down"],
                figures["kept"],
            )
            for name, value in zip(header[1:], values, strict=True):
                totals[name] += value
            self.stdout.write(" ".join([f"{quarter:>9}", *(f"{value:>9}" for value in values)]))
        self.stdout.write(" ".join([f"{'total':>9}", *(f"{totals[name]:>9}" for name in header[1:])]))

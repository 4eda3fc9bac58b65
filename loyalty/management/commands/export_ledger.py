"""``manage.py export_ledger``: every points ledger entry as CSV, for audits and reconciliation."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser, OutputWrapper

from loyalty.models import PointsEntry
from marketplace.models import Shop

#: The first columns, in this order (docs/importing.md, "Exporting the ledger"); more follow.
COLUMNS = (
    "shop_external_id",
    "customer_external_id",
    "kind",
    "points",
    "available_after",
    "pending_after",
    "reason",
    "idempotency_key",
    "created_at",
)
EXTRA_COLUMNS = ("entry_id", "account_id", "available_delta", "pending_delta", "qualifying_delta", "source_type")


def entry_row(entry: PointsEntry) -> list[object]:
    """One CSV row: shops and customers without an external id are named by slug / ``customer:<pk>``.

    Points are integers; ``qualifying_delta`` is a Decimal (currency or points); times are ISO
    8601 in UTC.
    """
    account = entry.account
    shop = account.program.shop
    customer = account.customer
    return [
        shop.external_id or shop.slug,
        customer.external_id or f"customer:{customer.pk}",
        entry.kind,
        entry.points,
        entry.available_after,
        entry.pending_after,
        entry.reason,
        entry.idempotency_key,
        entry.created_at.isoformat(),
        entry.pk,
        account.pk,
        entry.available_delta,
        entry.pending_delta,
        entry.qualifying_delta,
        entry.source_type,
    ]


class _Unterminated:
    """File-like view of a command's stdout that adds no line ending (the csv writer writes its own)."""

    def __init__(self, out: OutputWrapper) -> None:
        self.out = out

    def write(self, text: str) -> None:
        """Write ``text`` as is."""
        self.out.write(text, ending="")


class Command(BaseCommand):
    """Write the points ledger as CSV, ordered by shop, account, ``created_at``, id.

    Streams with one query (``select_related`` + ``iterator``), so memory and query count do not
    grow with the ledger.
    """

    help = "Export every points ledger entry as CSV (to stdout or --output PATH)."

    def add_arguments(self, parser: CommandParser) -> None:
        """--shop SLUG, --format csv, --output PATH."""
        parser.add_argument("--shop", metavar="SLUG", help="Export only this shop's entries.")
        parser.add_argument("--format", choices=["csv"], default="csv", help="Output format (csv).")
        parser.add_argument("--output", metavar="PATH", help="Write to PATH instead of stdout.")

    def handle(self, *args: Any, **options: Any) -> None:
        """Write the header and one row per entry."""
        entries = PointsEntry.objects.select_related("account__program__shop", "account__customer").order_by(
            "account__program__shop_id", "account_id", "created_at", "id"
        )
        if options["shop"]:
            shop = Shop.objects.filter(slug=options["shop"]).first()
            if shop is None:
                raise CommandError(f"no shop with slug {options['shop']!r}")
            entries = entries.filter(account__program__shop=shop)
        output = options["output"]
        if output:
            with Path(str(output)).open("w", newline="", encoding="utf-8") as handle:
                count = self._write(handle, entries)
            self.stderr.write(f"exported {count} entries to {output}")
        else:
            self._write(_Unterminated(self.stdout), entries)

    def _write(self, handle, entries) -> int:
        """Stream ``entries`` to ``handle`` as CSV; return how many rows were written."""
        writer = csv.writer(handle)
        writer.writerow([*COLUMNS, *EXTRA_COLUMNS])
        count = 0
        for entry in entries.iterator(chunk_size=2000):
            writer.writerow(entry_row(entry))
            count += 1
        return count

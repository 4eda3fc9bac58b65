"""``manage.py check_ledger``: verify that cached balances equal the ledger, account by account."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from loyalty.models import MemberAccount, PointsEntry
from loyalty.selectors import ledger_discrepancies
from marketplace.models import Shop


class Command(BaseCommand):
    """Print every broken ledger invariant (see ``loyalty.selectors.ledger_discrepancies``).

    Ends with ``check_ledger: N accounts, N entries, N discrepancies`` and exits non-zero
    (``CommandError``) when there is any discrepancy, so that it can gate a deploy or a cron.
    Points are integers; qualifying values are Decimal.
    """

    help = "Check that every member account's cached balances equal the sums of its ledger entries."

    def add_arguments(self, parser: CommandParser) -> None:
        """--shop SLUG restricts the check to one shop's accounts."""
        parser.add_argument("--shop", metavar="SLUG", help="Check only this shop's accounts.")

    def handle(self, *args: Any, **options: Any) -> None:
        """Run the checks, print each discrepancy, then the totals."""
        accounts = MemberAccount.objects.all()
        entries = PointsEntry.objects.all()
        account_ids = None
        if options["shop"]:
            shop = Shop.objects.filter(slug=options["shop"]).first()
            if shop is None:
                raise CommandError(f"no shop with slug {options['shop']!r}")
            accounts = accounts.filter(program__shop=shop)
            entries = entries.filter(account__program__shop=shop)
            account_ids = list(accounts.values_list("pk", flat=True))
        found = ledger_discrepancies(account_ids=account_ids)
        described = {
            account.pk: account
            for account in MemberAccount.objects.select_related("program__shop", "customer").filter(
                pk__in=sorted({item.account_id for item in found})
            )
        }
        for item in found:
            account = described[item.account_id]
            customer = account.customer.external_id or f"customer:{account.customer_id}"
            self.stdout.write(
                f"account {item.account_id} shop={account.program.shop.slug} customer={customer} "
                f"check={item.check} expected={item.expected} cached={item.cached}"
            )
        self.stdout.write(
            f"check_ledger: {accounts.count()} accounts, {entries.count()} entries, {len(found)} discrepancies"
        )
        if found:
            raise CommandError(f"{len(found)} ledger discrepancies")

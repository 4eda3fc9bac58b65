"""``manage.py member_erase CUSTOMER_EXTERNAL_ID --reason TEXT [--dry-run]``: the operator erases a customer.

For requests that reach the marketplace itself (a letter, a support ticket) rather than a shop's
console or the member's dashboard. The same erasure as everywhere (``crm.services.privacy.member_erase``,
docs/privacy.md), audited with no actor and no shop. ``--dry-run`` prints what would be done and
changes nothing. An erased customer is found by their new id ``erased-<pk>`` only (the old one is
gone with the rest), and a second erasure is refused (ALREADY_ERASED).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from crm.errors import CrmError
from crm.services.privacy import ErasureSummary, member_erase, member_erasure_plan
from marketplace.models import Customer


class Command(BaseCommand):
    """Erase one customer's personal data in every shop (or show what would be erased)."""

    help = "Erase a customer's personal data in every shop; --dry-run shows what would change."

    def add_arguments(self, parser: CommandParser) -> None:
        """The customer's external id, ``--reason`` (required, kept in the audit) and ``--dry-run``."""
        parser.add_argument("customer_external_id", help="The customer's external id (Customer.external_id).")
        parser.add_argument("--reason", required=True, help="Why (kept in the privacy audit), 1-500 characters.")
        parser.add_argument("--dry-run", action="store_true", help="Show what would be erased; change nothing.")

    def handle(self, *args: Any, **options: Any) -> None:
        """Look the customer up, then plan (dry run) or erase; a refusal exits with its code."""
        external_id = options["customer_external_id"]
        customer = Customer.objects.filter(external_id=external_id).first()
        if customer is None:
            raise CommandError(f"NOT_FOUND: no customer with external id {external_id!r}")
        try:
            if options["dry_run"]:
                summary = member_erasure_plan(customer=customer, reason=options["reason"])
                self.stdout.write(f"dry run: would erase customer {customer.pk} ({external_id}); nothing changed")
            else:
                summary = member_erase(actor=None, customer=customer, reason=options["reason"])
                self.stdout.write(f"erased customer {customer.pk}; their id is now {summary.customer_ref}")
        except CrmError as error:
            raise CommandError(f"{error.code.value}: {error.message}") from None
        self._report(summary)

    def _report(self, summary: ErasureSummary) -> None:
        consents = ", ".join(summary.consents_cleared) or "none"
        self.stdout.write(
            f"  accounts: {summary.accounts}\n"
            f"  shop profiles blanked: {summary.profiles_blanked}\n"
            f"  staff notes deleted: {summary.notes_deleted}\n"
            f"  redemption codes cancelled: {summary.redemptions_cancelled} ({summary.points_refunded} points back)\n"
            f"  referral codes deactivated: {summary.referral_codes_deactivated}\n"
            f"  consents cleared: {consents}"
        )

"""``manage.py api_key_create``: an operator creates a shop's API key from the command line.

The same service as the ``apiKeyCreate`` mutation, acting as the shop's owner (``--owner``, or the
shop's first owner). Prints the full key once (stdout, alone on its line with ``--quiet``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from marketplace.errors import ApiKeyError
from marketplace.models import Shop, StaffMembership, StaffRole
from marketplace.services.api_keys import api_key_create


class Command(BaseCommand):
    """Create an API key for a shop and print it."""

    help = "Create an API key for a shop (e.g. --shop demo-coffee --scope orders:write) and print it once."

    def add_arguments(self, parser: CommandParser) -> None:
        """``--shop`` slug, ``--name``, repeated ``--scope``; optional ``--owner``, ``--expires-in-days``."""
        parser.add_argument("--shop", required=True, help="The shop's slug.")
        parser.add_argument("--name", default="Command-line key", help="What the key is for.")
        parser.add_argument("--scope", action="append", required=True, help="A scope (repeat), e.g. orders:write.")
        parser.add_argument("--owner", help="Username of the owner creating it (default: the shop's first owner).")
        parser.add_argument("--expires-in-days", type=int, help="Days until it expires (default: never).")
        parser.add_argument("--quiet", action="store_true", help="Print only the key.")

    def handle(self, *args: Any, **options: Any) -> None:
        """Create the key through ``api_key_create``; refusals become a ``CommandError`` with their code."""
        shop = Shop.objects.filter(slug=options["shop"]).first()
        if shop is None:
            raise CommandError(f"No shop with slug {options['shop']!r}.")
        owners = StaffMembership.objects.filter(shop=shop, role=StaffRole.OWNER).select_related("user")
        if options["owner"]:
            owners = owners.filter(user__username=options["owner"])
        membership = owners.order_by("pk").first()
        if membership is None:
            raise CommandError("The shop has no such owner; give it one in /admin/ first.")
        days = options["expires_in_days"]
        try:
            issued = api_key_create(
                user=membership.user,
                shop_id=shop.pk,
                name=options["name"],
                scopes=options["scope"],
                expires_at=timezone.now() + dt.timedelta(days=days) if days else None,
            )
        except ApiKeyError as error:
            raise CommandError(f"{error.code.value}: {error.message}") from None
        if options["quiet"]:
            self.stdout.write(issued.key)
            return
        self.stdout.write(f"API key for {shop.slug} ({', '.join(issued.api_key.scopes)}), shown once:")
        self.stdout.write(issued.key)

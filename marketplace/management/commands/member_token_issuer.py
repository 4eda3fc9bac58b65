"""``manage.py member_token_issuer``: issue (or revoke) the secret a storefront signs member tokens with.

``create NAME`` prints the issuer's ``kid`` and secret (``--json``: as one JSON object), which the
marketplace's server keeps and uses to sign (docs/integrations.md, "Member tokens");
``revoke KID`` makes Patron refuse every token of that issuer; ``list`` shows them.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from marketplace.models import MemberTokenIssuer
from marketplace.services.member_tokens import member_token_issuer_create


class Command(BaseCommand):
    """Create, revoke or list member-token issuers."""

    help = "Issue a storefront's member-token secret: create NAME | revoke KID | list."

    def add_arguments(self, parser: CommandParser) -> None:
        """``action`` (create, revoke, list), its ``value`` and ``--json``."""
        parser.add_argument("action", choices=["create", "revoke", "list"])
        parser.add_argument("value", nargs="?", help="The issuer's name (create) or kid (revoke).")
        parser.add_argument("--json", action="store_true", help="create: print {kid, secret, audience} as JSON.")

    def handle(self, *args: Any, **options: Any) -> None:
        """Do the action; prints the secret of a new issuer once."""
        from django.conf import settings

        action, value = options["action"], options["value"]
        if action == "list":
            for issuer in MemberTokenIssuer.objects.order_by("pk"):
                state = f"revoked {issuer.revoked_at:%Y-%m-%d}" if issuer.revoked_at else "active"
                self.stdout.write(f"{issuer.key_id}  {issuer.name}  {state}")
            return
        if not value:
            raise CommandError(f"{action} needs a {'name' if action == 'create' else 'kid'}.")
        if action == "revoke":
            if not MemberTokenIssuer.objects.filter(key_id=value, revoked_at__isnull=True).update(
                revoked_at=timezone.now()
            ):
                raise CommandError(f"No active issuer {value!r}.")
            self.stdout.write(f"Revoked {value}: its tokens are refused from now on.")
            return
        issuer = member_token_issuer_create(name=value)
        audience = settings.PATRON_MEMBER_TOKEN_AUDIENCE
        if options["json"]:
            self.stdout.write(json.dumps({"kid": issuer.key_id, "secret": issuer.secret, "audience": audience}))
            return
        self.stdout.write(f"kid:      {issuer.key_id}\nsecret:   {issuer.secret}\naudience: {audience}")

"""Time-driven movements: pending points become available when the return window passes.

Expiry, requalification and occasions are added by the lifecycle issue; they follow the same
pattern (an idempotent job over due rows, one short transaction per account).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction

from loyalty.broadcasts import AccountUpdate, broadcast_on_commit
from loyalty.models import MemberAccount, PointsLot
from loyalty.services.ledger import account_lock, points_release


def account_release_due(*, account: MemberAccount, now: dt.datetime) -> tuple[int, int]:
    """Release the account's pending lots due at ``now``; return (lots, points released).

    Caller holds the account lock in an open transaction. Each release is dated at its lot's
    ``available_at`` (when the points really became available), so a historical replay keeps
    the account's ledger in event-time order.
    """
    pending = list(
        PointsLot.objects.select_related("entry__order")
        .filter(account_id=account.pk, released_at__isnull=True, available_at__lte=now)
        .order_by("available_at", "pk")
    )
    moved = 0
    for lot in pending:
        entry = points_release(account=account, lot=lot, at=lot.available_at)
        moved += entry.points if entry else 0
    return len(pending), moved


@dataclass(frozen=True)
class ReleaseSummary:
    """What ``points_release_due`` did: accounts touched and points made available."""

    accounts: int
    lots: int
    points: int


def points_release_due(*, now: dt.datetime, broadcast: bool = True, dry_run: bool = False) -> ReleaseSummary:
    """Release every pending lot whose ``available_at`` is at or before ``now``.

    One short durable transaction per account, under its row lock; each release is keyed
    ``lot:<id>:release`` so a second run, or two runs at once, release nothing twice. With
    ``dry_run`` nothing is written and the summary says what would be released.
    """
    due = (
        PointsLot.objects.filter(released_at__isnull=True, available_at__lte=now)
        .values_list("account_id", flat=True)
        .distinct()
        .order_by("account_id")
    )
    accounts = lots = points = 0
    for account_id in list(due):
        with transaction.atomic(durable=not dry_run):
            account = account_lock(account_ids=[account_id]).select_related("program").get()
            if dry_run:
                pending = PointsLot.objects.filter(
                    account_id=account_id, released_at__isnull=True, available_at__lte=now
                )
                accounts, lots = accounts + 1, lots + pending.count()
                points += sum(pending.values_list("remaining", flat=True))
                continue
            released, moved = account_release_due(account=account, now=now)
            accounts, lots, points = accounts + 1, lots + released, points + moved
            if broadcast and moved:
                broadcast_on_commit(
                    AccountUpdate(
                        account_id=account.pk,
                        customer_id=account.customer_id,
                        shop_id=account.program.shop_id,
                        entry_id=None,
                        kind="release",
                        points=moved,
                        reason="Pending points became available",
                    )
                )
    return ReleaseSummary(accounts=accounts, lots=lots, points=points)

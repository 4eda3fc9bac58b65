"""The loyalty app's shop events (``marketplace.events``): enrolments, points movements, tier changes.

Recorded by the ledger (every entry), the enrolment and the tier services, inside their
transactions. Bodies name the member by Relay ids and by the shop's own customer id
(``externalId``), which is what an integrator knows its customers by. See docs/integrations.md
for every type's body.
"""

from __future__ import annotations

from typing import Any

from loyalty.models import EntryKind, MemberAccount, PointsEntry, TierChange
from marketplace.events import node_id, shop_event_record
from marketplace.models import EventType

#: Ledger entry kind -> the event it is.
ENTRY_EVENTS: dict[str, EventType] = {
    EntryKind.EARN: EventType.POINTS_EARNED,
    EntryKind.BONUS: EventType.POINTS_EARNED,
    EntryKind.RELEASE: EventType.POINTS_RELEASED,
    EntryKind.REVERSE: EventType.POINTS_REVERSED,
    EntryKind.EXPIRE: EventType.POINTS_EXPIRED,
    EntryKind.ADJUST: EventType.POINTS_ADJUSTED,
    EntryKind.REDEEM: EventType.POINTS_REDEEMED,
    EntryKind.REFUND: EventType.POINTS_REFUNDED,
}

_REF_CACHE = "_patron_event_ref"


def member_ref(account: MemberAccount) -> tuple[int, dict[str, Any]]:
    """``(shop id, member part of a body)`` for ``account``; one query per account instance at most (none
    when its program and customer are loaded)."""
    cached = getattr(account, _REF_CACHE, None)
    if cached is None:
        # The related rows a caller already loaded cost nothing; otherwise one joined query.
        program = account._state.fields_cache.get("program")
        customer = account._state.fields_cache.get("customer")
        if program is not None and customer is not None:
            shop_id, external_id = program.shop_id, customer.external_id
        else:
            shop_id, external_id = MemberAccount.objects.values_list("program__shop_id", "customer__external_id").get(
                pk=account.pk
            )
        cached = (
            shop_id,
            {
                "accountId": node_id("MemberAccount", account.pk),
                "customerExternalId": external_id,
            },
        )
        setattr(account, _REF_CACHE, cached)
    return cached


def entry_event_record(account: MemberAccount, entry: PointsEntry) -> None:
    """Record the ``points.*`` event of ledger ``entry`` on ``account`` (caller's transaction).

    Body: ``member``, ``entryId``, ``kind``, ``points`` (signed), ``pointsAvailable`` and
    ``pointsPending`` after the entry, ``reason``, ``source {type id}``, ``orderId`` (or null).
    """
    shop_id, member = member_ref(account)
    shop_event_record(
        shop_id=shop_id,
        type=ENTRY_EVENTS[entry.kind],
        occurred_at=entry.created_at,
        data={
            "member": member,
            "entryId": node_id("PointsEntry", entry.pk),
            "kind": entry.kind,
            "points": entry.points,
            "pointsAvailable": entry.available_after,
            "pointsPending": entry.pending_after,
            "reason": entry.reason,
            "source": {"type": entry.source_type, "id": entry.source_id},
            "orderId": node_id("Order", entry.order_id) if entry.order_id else None,
        },
    )


def enrolled_event_record(account: MemberAccount) -> None:
    """Record ``member.enrolled`` for a new ``account``: body ``member``, ``tierId`` (or null), ``enrolledAt``."""
    shop_id, member = member_ref(account)
    shop_event_record(
        shop_id=shop_id,
        type=EventType.MEMBER_ENROLLED,
        occurred_at=account.enrolled_at,
        data={
            "member": member,
            "tierId": node_id("Tier", account.tier_id) if account.tier_id else None,
            "enrolledAt": account.enrolled_at.isoformat(),
        },
    )


def tier_changed_event_record(account: MemberAccount, change: TierChange) -> None:
    """Record ``tier.changed`` (caller's transaction).

    Body: ``member``, ``tierChangeId``, ``fromTierId`` (or null), ``toTierId``, ``qualifyingValue``
    (decimal string), ``reason``.
    """
    shop_id, member = member_ref(account)
    shop_event_record(
        shop_id=shop_id,
        type=EventType.TIER_CHANGED,
        occurred_at=change.created_at,
        data={
            "member": member,
            "tierChangeId": node_id("TierChange", change.pk),
            "fromTierId": node_id("Tier", change.from_tier_id) if change.from_tier_id else None,
            "toTierId": node_id("Tier", change.to_tier_id),
            "qualifyingValue": str(change.qualifying_value),
            "reason": change.reason,
        },
    )

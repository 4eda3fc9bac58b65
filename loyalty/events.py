"""The loyalty app's shop events (``marketplace.events``): enrolments, points movements, tier changes.

Recorded by the ledger (every entry), the enrolment and the tier services, inside their
transactions. Bodies name the member by Relay ids and by the shop's own customer id
(``externalId``), which is what an integrator knows its customers by. See docs/integrations.md
for every type's body.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
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
        cached = (shop_id, member_body(account_id=account.pk, customer_external_id=external_id))
        setattr(account, _REF_CACHE, cached)
    return cached


def member_body(*, account_id: int, customer_external_id: str | None) -> dict[str, Any]:
    """The ``member`` part of every member event's body: the account's Relay id and the customer's external id."""
    return {"accountId": node_id("MemberAccount", account_id), "customerExternalId": customer_external_id}


def entry_event_data(
    member: dict[str, Any],
    *,
    entry_id: int,
    kind: str,
    points: int,
    available_after: int,
    pending_after: int,
    reason: str,
    source_type: str,
    source_id: str,
    order_id: int | None,
) -> dict[str, Any]:
    """Body of the ``points.*`` event of a ledger entry (see :func:`entry_event_record`)."""
    return {
        "member": member,
        "entryId": node_id("PointsEntry", entry_id),
        "kind": kind,
        "points": points,
        "pointsAvailable": available_after,
        "pointsPending": pending_after,
        "reason": reason,
        "source": {"type": source_type, "id": source_id},
        "orderId": node_id("Order", order_id) if order_id else None,
    }


def entry_event_body(member: dict[str, Any], entry: PointsEntry) -> dict[str, Any]:
    """:func:`entry_event_data` of a saved ``entry``."""
    return entry_event_data(
        member,
        entry_id=entry.pk,
        kind=entry.kind,
        points=entry.points,
        available_after=entry.available_after,
        pending_after=entry.pending_after,
        reason=entry.reason,
        source_type=entry.source_type,
        source_id=entry.source_id,
        order_id=entry.order_id,
    )


def enrolled_event_data(member: dict[str, Any], *, tier_id: int | None, enrolled_at: dt.datetime) -> dict[str, Any]:
    """Body of ``member.enrolled`` (see :func:`enrolled_event_record`)."""
    return {
        "member": member,
        "tierId": node_id("Tier", tier_id) if tier_id else None,
        "enrolledAt": enrolled_at.isoformat(),
    }


def tier_changed_event_data(
    member: dict[str, Any],
    *,
    change_id: int,
    from_tier_id: int | None,
    to_tier_id: int,
    qualifying_value: Decimal,
    reason: str,
) -> dict[str, Any]:
    """Body of ``tier.changed`` (see :func:`tier_changed_event_record`)."""
    return {
        "member": member,
        "tierChangeId": node_id("TierChange", change_id),
        "fromTierId": node_id("Tier", from_tier_id) if from_tier_id else None,
        "toTierId": node_id("Tier", to_tier_id),
        "qualifyingValue": str(qualifying_value),
        "reason": reason,
    }


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
        data=entry_event_body(member, entry),
    )


def enrolled_event_record(account: MemberAccount) -> None:
    """Record ``member.enrolled`` for a new ``account``: body ``member``, ``tierId`` (or null), ``enrolledAt``."""
    shop_id, member = member_ref(account)
    shop_event_record(
        shop_id=shop_id,
        type=EventType.MEMBER_ENROLLED,
        occurred_at=account.enrolled_at,
        data=enrolled_event_data(member, tier_id=account.tier_id, enrolled_at=account.enrolled_at),
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
        data=tier_changed_event_data(
            member,
            change_id=change.pk,
            from_tier_id=change.from_tier_id,
            to_tier_id=change.to_tier_id,
            qualifying_value=change.qualifying_value,
            reason=change.reason,
        ),
    )

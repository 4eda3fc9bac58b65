"""The rewards app's shop events (``marketplace.events``): a redemption issued, consumed, cancelled, expired.

Recorded by ``rewards.services.redemptions`` inside the transaction that changed the redemption.
Body of every ``redemption.*`` event: ``redemptionId``, ``code``, ``status``, ``member``,
``rewardId``, ``rewardName``, ``points`` (spent), ``expiresAt``, ``orderExternalId`` (the order a
consumed code was used on, or empty).
"""

from __future__ import annotations

import datetime as dt

from loyalty.events import member_ref
from marketplace.events import node_id, shop_event_record
from marketplace.models import EventType
from rewards.models import Redemption


def redemption_event_record(redemption: Redemption, type: EventType, *, at: dt.datetime) -> None:
    """Record ``type`` (a ``redemption.*`` event) for ``redemption`` as it is now (caller's transaction)."""
    _, member = member_ref(redemption.account)
    shop_event_record(
        shop_id=redemption.shop_id,
        type=type,
        occurred_at=at,
        data={
            "redemptionId": node_id("Redemption", redemption.pk),
            "code": redemption.code,
            "status": redemption.status,
            "member": member,
            "rewardId": node_id("Reward", redemption.reward_id),
            "rewardName": redemption.reward.name,
            "points": redemption.points,
            "expiresAt": redemption.expires_at.isoformat(),
            "orderExternalId": redemption.order_external_id,
        },
    )

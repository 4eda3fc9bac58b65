"""Live updates: typed messages to channel-layer groups, sent only after commit.

Groups: ``member.<customer id>`` (every dashboard of that customer) and ``shop.<shop id>`` (the
shop's staff consoles). The GraphQL subscriptions ``accountUpdated`` and ``shopActivity`` listen
to them. Delivery is best-effort: a dashboard that reconnects refetches, so a lost message costs
freshness, never correctness; a channel-layer outage is logged and does not fail the posting.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import asdict, dataclass

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

#: Channel-layer message type; the consumer side filters on it.
ACCOUNT_UPDATED = "loyalty.account_updated"


def member_group(customer_id: int) -> str:
    """Channel group of one customer's dashboards."""
    return f"member.{customer_id}"


def shop_group(shop_id: int) -> str:
    """Channel group of one shop's staff consoles."""
    return f"shop.{shop_id}"


@dataclass(frozen=True)
class AccountUpdate:
    """A member account changed: ``points`` is the signed movement of entry ``entry_id``."""

    account_id: int
    customer_id: int
    shop_id: int
    entry_id: int | None
    kind: str
    points: int
    reason: str
    tier_changed: bool = False
    #: Only the member's dashboards hear it (a new inbox message is no shop activity).
    member_only: bool = False

    def as_message(self) -> dict:
        """The channel-layer message: ``type``, the fields and a ``message_id`` unique to this message.

        Every socket that receives the message (member and shop groups alike) sees the same
        ``message_id``: a web process reads the account once per message, not once per socket.
        """
        return {"type": ACCOUNT_UPDATED, **asdict(self), "message_id": uuid.uuid4().hex}


def broadcast(update: AccountUpdate) -> None:
    """Send ``update`` to the member's group and, unless ``member_only``, the shop's, now (call after commit)."""
    layer = get_channel_layer()
    if layer is None:
        return
    message = update.as_message()

    async def send_both() -> None:
        # One event loop (and Redis connection) for both groups, sent concurrently: each
        # async_to_sync call from a worker thread starts a loop of its own and connects anew.
        groups = [member_group(update.customer_id)]
        if not update.member_only:
            groups.append(shop_group(update.shop_id))
        await asyncio.gather(*(layer.group_send(group, message) for group in groups))

    try:
        async_to_sync(send_both)()
    except (OSError, RedisError) as exc:  # redis outage: the posting stands, clients refetch
        logger.warning("live update for account %s not sent: %s", update.account_id, exc)


def broadcast_on_commit(update: AccountUpdate) -> None:
    """Send ``update`` once the current transaction commits (never for a rolled-back one)."""
    transaction.on_commit(lambda: broadcast(update))


def broadcast_tier_change_on_commit(*, account_id: int, customer_id: int, shop_id: int, reason: str) -> None:
    """After commit, tell the member and the shop that the account moved tier without a points movement.

    Used by the tier ladder re-evaluation and by requalification (kind ``tier``, 0 points).
    """
    broadcast_on_commit(
        AccountUpdate(
            account_id=account_id,
            customer_id=customer_id,
            shop_id=shop_id,
            entry_id=None,
            kind="tier",
            points=0,
            reason=reason,
            tier_changed=True,
        )
    )

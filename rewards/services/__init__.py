"""Rewards services: ``redemptions`` (redeem, till, cancel, expire) and ``catalogue`` (owners' edits)."""

from rewards.services.catalogue import RewardInput, reward_archive, reward_create, reward_restore, reward_update
from rewards.services.redemptions import (
    TILL_RATE_PER_SHOP,
    TILL_RATE_PER_STAFF,
    RedeemResult,
    redemption_cancel,
    redemption_consume,
    redemption_validate,
    redemptions_expire,
    reward_redeem,
)

__all__ = [
    "TILL_RATE_PER_SHOP",
    "TILL_RATE_PER_STAFF",
    "RedeemResult",
    "RewardInput",
    "redemption_cancel",
    "redemption_consume",
    "redemption_validate",
    "redemptions_expire",
    "reward_archive",
    "reward_create",
    "reward_redeem",
    "reward_restore",
    "reward_update",
]

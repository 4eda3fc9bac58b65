"""Domain errors of the rewards app and their stable codes (exposed as a GraphQL enum)."""

from __future__ import annotations

import enum

from marketplace.errors import DomainError


class RewardErrorCode(enum.Enum):
    """Why a redemption, a till operation or a catalogue change was refused."""

    NOT_AUTHENTICATED = "NOT_AUTHENTICATED"
    PERMISSION_DENIED = "PERMISSION_DENIED"
    NOT_FOUND = "NOT_FOUND"
    INVALID_INPUT = "INVALID_INPUT"
    INSUFFICIENT_POINTS = "INSUFFICIENT_POINTS"
    OUT_OF_STOCK = "OUT_OF_STOCK"
    TIER_REQUIRED = "TIER_REQUIRED"
    LIMIT_REACHED = "LIMIT_REACHED"
    REWARD_INACTIVE = "REWARD_INACTIVE"
    CODE_INVALID = "CODE_INVALID"
    CODE_ALREADY_USED = "CODE_ALREADY_USED"
    CODE_EXPIRED = "CODE_EXPIRED"
    CODE_CANCELLED = "CODE_CANCELLED"
    NOT_CANCELLABLE = "NOT_CANCELLABLE"
    #: The shop blocked this member: nothing can be redeemed (docs/crm.md, "Status").
    MEMBER_BLOCKED = "MEMBER_BLOCKED"
    RATE_LIMITED = "RATE_LIMITED"
    IDEMPOTENCY_CONFLICT = "IDEMPOTENCY_CONFLICT"
    #: A dependency (Redis: the till's rate-limit counters) is unreachable; nothing changed, try again.
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"


class RewardError(DomainError):
    """A refused rewards operation (``code`` from :class:`RewardErrorCode`): nothing was written."""

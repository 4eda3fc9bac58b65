"""Domain errors of paid memberships and their stable codes (exposed as a GraphQL enum)."""

from __future__ import annotations

import enum

from marketplace.errors import DomainError


class MembershipErrorCode(enum.Enum):
    """Why a plan, subscription or payment operation was refused; nothing was written."""

    NOT_AUTHENTICATED = "NOT_AUTHENTICATED"
    PERMISSION_DENIED = "PERMISSION_DENIED"
    NOT_FOUND = "NOT_FOUND"
    INVALID_INPUT = "INVALID_INPUT"
    #: The member already has a live subscription in the shop (one at a time).
    ALREADY_SUBSCRIBED = "ALREADY_SUBSCRIBED"
    #: The plan is archived, or the shop's program is not running.
    PLAN_UNAVAILABLE = "PLAN_UNAVAILABLE"
    #: The subscription's state does not allow the operation (e.g. pausing a cancelled one).
    INVALID_STATE = "INVALID_STATE"
    #: No charge is due for the subscription: the period is paid, or nothing was asked for.
    PAYMENT_NOT_DUE = "PAYMENT_NOT_DUE"
    #: The idempotency key was used before with different values.
    IDEMPOTENCY_CONFLICT = "IDEMPOTENCY_CONFLICT"


class MembershipError(DomainError):
    """A refused membership operation (``code`` from :class:`MembershipErrorCode`): nothing was written."""

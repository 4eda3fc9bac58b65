"""Domain errors of the loyalty app and their stable codes (exposed as a GraphQL enum)."""

from __future__ import annotations

import enum

from marketplace.errors import DomainError


class LoyaltyErrorCode(enum.Enum):
    """Why a loyalty operation (points movement, program, tier or rule edit, console read) was refused.

    Values are stable API codes (``LoyaltyErrorCode`` in the schema; points movements also report
    them as ``LedgerErrorCode``).
    """

    INSUFFICIENT_POINTS = "INSUFFICIENT_POINTS"
    INVALID_POINTS = "INVALID_POINTS"
    REASON_REQUIRED = "REASON_REQUIRED"
    NOT_FOUND = "NOT_FOUND"
    NOT_AUTHENTICATED = "NOT_AUTHENTICATED"
    INVALID_INPUT = "INVALID_INPUT"
    PERMISSION_DENIED = "PERMISSION_DENIED"
    IDEMPOTENCY_CONFLICT = "IDEMPOTENCY_CONFLICT"


class LoyaltyError(DomainError):
    """A refused loyalty operation (``code`` from :class:`LoyaltyErrorCode`): nothing was written."""

"""Domain errors of the loyalty app and their stable codes (exposed as a GraphQL enum)."""

from __future__ import annotations

import enum

from marketplace.errors import DomainError


class LedgerErrorCode(enum.Enum):
    """Why a ledger movement was refused. Values are stable API codes."""

    INSUFFICIENT_POINTS = "INSUFFICIENT_POINTS"
    INVALID_POINTS = "INVALID_POINTS"
    REASON_REQUIRED = "REASON_REQUIRED"
    NOT_FOUND = "NOT_FOUND"
    NOT_AUTHENTICATED = "NOT_AUTHENTICATED"
    INVALID_INPUT = "INVALID_INPUT"
    PERMISSION_DENIED = "PERMISSION_DENIED"
    IDEMPOTENCY_CONFLICT = "IDEMPOTENCY_CONFLICT"


class LedgerError(DomainError):
    """A refused ledger movement (``code`` from :class:`LedgerErrorCode`): nothing was written."""

"""Domain errors of the referrals app and their stable codes (exposed as a GraphQL enum)."""

from __future__ import annotations

import enum

from marketplace.errors import DomainError


class ReferralErrorCode(enum.Enum):
    """Why a referral operation was refused. Values are stable API codes."""

    NOT_AUTHENTICATED = "NOT_AUTHENTICATED"
    NOT_A_CUSTOMER = "NOT_A_CUSTOMER"
    PERMISSION_DENIED = "PERMISSION_DENIED"
    NOT_FOUND = "NOT_FOUND"
    INVALID_INPUT = "INVALID_INPUT"
    DISABLED = "DISABLED"
    CODE_UNKNOWN = "CODE_UNKNOWN"
    CODE_EXPIRED = "CODE_EXPIRED"
    OWN_CODE = "OWN_CODE"
    SAME_CONTACT = "SAME_CONTACT"
    ALREADY_REFERRED = "ALREADY_REFERRED"
    ALREADY_CUSTOMER = "ALREADY_CUSTOMER"
    CAP_REACHED = "CAP_REACHED"


class ReferralError(DomainError):
    """A refused referral operation (``code`` from :class:`ReferralErrorCode`): nothing was written."""

"""Domain errors of the checkout app and their stable codes (exposed as GraphQL enums)."""

from __future__ import annotations

import enum

from marketplace.errors import DomainError


class CheckoutErrorCode(enum.Enum):
    """Why a quote, a commit or a promotion or coupon change was refused; nothing was written."""

    NOT_AUTHENTICATED = "NOT_AUTHENTICATED"
    PERMISSION_DENIED = "PERMISSION_DENIED"
    NOT_FOUND = "NOT_FOUND"
    INVALID_INPUT = "INVALID_INPUT"
    #: The quote token is not one this server signed (tampered, truncated or from another server).
    QUOTE_INVALID = "QUOTE_INVALID"
    #: The quote's validity (``CHECKOUT_QUOTE_MINUTES``) has passed: quote again.
    QUOTE_EXPIRED = "QUOTE_EXPIRED"
    #: Priced again at commit time, the basket no longer costs what the quote said (a coupon was
    #: used up meanwhile, a promotion ended, points were spent elsewhere): quote again.
    QUOTE_STALE = "QUOTE_STALE"
    #: The quote was committed before under another idempotency key.
    QUOTE_ALREADY_COMMITTED = "QUOTE_ALREADY_COMMITTED"
    IDEMPOTENCY_CONFLICT = "IDEMPOTENCY_CONFLICT"
    #: A coupon code that the shop already has.
    CODE_TAKEN = "CODE_TAKEN"
    #: Too many unknown coupon codes a minute (guessing); nothing was stored.
    RATE_LIMITED = "RATE_LIMITED"
    #: The guessing counters (Redis) cannot be reached; nothing was stored, try again.
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"


class CheckoutError(DomainError):
    """A refused checkout operation (``code`` from :class:`CheckoutErrorCode`): nothing was written."""


class NotAppliedReason(enum.Enum):
    """Why a coupon, a promotion or the points did not apply to a quote (the quote itself still stands)."""

    COUPON_UNKNOWN = "COUPON_UNKNOWN"
    COUPON_VOIDED = "COUPON_VOIDED"
    COUPON_NOT_YET_VALID = "COUPON_NOT_YET_VALID"
    COUPON_EXPIRED = "COUPON_EXPIRED"
    COUPON_OTHER_MEMBER = "COUPON_OTHER_MEMBER"
    COUPON_USED_UP = "COUPON_USED_UP"
    COUPON_MEMBER_LIMIT = "COUPON_MEMBER_LIMIT"
    COUPON_DUPLICATE = "COUPON_DUPLICATE"
    PROMOTION_INACTIVE = "PROMOTION_INACTIVE"
    OUTSIDE_DATES = "OUTSIDE_DATES"
    WRONG_WEEKDAY = "WRONG_WEEKDAY"
    OUTSIDE_HOURS = "OUTSIDE_HOURS"
    TIER_NOT_ELIGIBLE = "TIER_NOT_ELIGIBLE"
    SEGMENT_NOT_ELIGIBLE = "SEGMENT_NOT_ELIGIBLE"
    PAYMENT_TYPE = "PAYMENT_TYPE"
    MINIMUM_NOT_REACHED = "MINIMUM_NOT_REACHED"
    NO_QUALIFYING_LINES = "NO_QUALIFYING_LINES"
    NOT_STACKABLE = "NOT_STACKABLE"
    USAGE_LIMIT_REACHED = "USAGE_LIMIT_REACHED"
    MEMBER_LIMIT_REACHED = "MEMBER_LIMIT_REACHED"
    MEMBER_REQUIRED = "MEMBER_REQUIRED"
    POINTS_DISABLED = "POINTS_DISABLED"
    POINTS_BELOW_MINIMUM = "POINTS_BELOW_MINIMUM"
    POINTS_CAPPED = "POINTS_CAPPED"
    INSUFFICIENT_POINTS = "INSUFFICIENT_POINTS"
    #: The shop blocked the member: no tier discount, no points spent or earned (docs/crm.md).
    MEMBER_BLOCKED = "MEMBER_BLOCKED"

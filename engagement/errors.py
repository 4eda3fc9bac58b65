"""Domain errors of the engagement app and their stable codes (exposed as a GraphQL enum)."""

from __future__ import annotations

import enum

from marketplace.errors import DomainError


class EngagementErrorCode(enum.Enum):
    """Why a template, campaign, cultural event or inbox operation was refused; nothing was written."""

    NOT_AUTHENTICATED = "NOT_AUTHENTICATED"
    PERMISSION_DENIED = "PERMISSION_DENIED"
    NOT_FOUND = "NOT_FOUND"
    INVALID_INPUT = "INVALID_INPUT"
    #: A template Django's engine cannot compile, or one naming a variable the kind does not offer.
    INVALID_TEMPLATE = "INVALID_TEMPLATE"
    #: A campaign that was sent or cancelled already cannot change.
    CAMPAIGN_CLOSED = "CAMPAIGN_CLOSED"
    #: An unsubscribe link whose signature does not verify.
    INVALID_LINK = "INVALID_LINK"


class EngagementError(DomainError):
    """A refused engagement operation (``code`` from :class:`EngagementErrorCode`): nothing was written."""

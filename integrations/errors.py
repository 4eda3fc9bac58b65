"""Domain errors of the integrations app and their stable codes (exposed as a GraphQL enum)."""

from __future__ import annotations

import enum

from marketplace.errors import DomainError


class WebhookErrorCode(enum.Enum):
    """Why a webhook endpoint or delivery operation was refused."""

    NOT_AUTHENTICATED = "NOT_AUTHENTICATED"
    PERMISSION_DENIED = "PERMISSION_DENIED"
    NOT_FOUND = "NOT_FOUND"
    INVALID_URL = "INVALID_URL"
    EVENT_TYPES_REQUIRED = "EVENT_TYPES_REQUIRED"
    INVALID_EVENT_TYPE = "INVALID_EVENT_TYPE"
    ENDPOINT_INACTIVE = "ENDPOINT_INACTIVE"
    INVALID_INPUT = "INVALID_INPUT"


class WebhookError(DomainError):
    """A refused webhook operation (``code`` from :class:`WebhookErrorCode`): nothing was written."""

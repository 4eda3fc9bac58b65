"""Domain errors of the marketplace app and their stable codes (exposed as a GraphQL enum)."""

from __future__ import annotations

import enum


class DomainError(Exception):
    """Base of every refused domain operation: nothing was written.

    ``code`` is a member of the app's code enum (exposed as a GraphQL enum); ``field`` names
    the offending input field in camelCase as the API spells it, or is ``None``. Higher apps
    derive their errors from this class too.
    """

    def __init__(self, code: enum.Enum, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field


class OrderErrorCode(enum.Enum):
    """Why an order event was refused. Values are stable API codes."""

    NOT_AUTHENTICATED = "NOT_AUTHENTICATED"
    PERMISSION_DENIED = "PERMISSION_DENIED"
    SHOP_NOT_FOUND = "SHOP_NOT_FOUND"
    CURRENCY_MISMATCH = "CURRENCY_MISMATCH"
    INVALID_AMOUNT = "INVALID_AMOUNT"
    INVALID_QUANTITY = "INVALID_QUANTITY"
    LINES_REQUIRED = "LINES_REQUIRED"
    TOO_MANY_LINES = "TOO_MANY_LINES"
    LINES_IMMUTABLE = "LINES_IMMUTABLE"
    INVALID_STATUS_TRANSITION = "INVALID_STATUS_TRANSITION"
    CUSTOMER_REQUIRED = "CUSTOMER_REQUIRED"
    CUSTOMER_MISMATCH = "CUSTOMER_MISMATCH"
    INVALID_INPUT = "INVALID_INPUT"
    IDEMPOTENCY_CONFLICT = "IDEMPOTENCY_CONFLICT"
    POINTS_PAID_IMMUTABLE = "POINTS_PAID_IMMUTABLE"
    RETURN_LINES_REQUIRED = "RETURN_LINES_REQUIRED"
    RETURN_LINE_NOT_FOUND = "RETURN_LINE_NOT_FOUND"
    RETURN_LINE_DUPLICATE = "RETURN_LINE_DUPLICATE"
    RETURN_QUANTITY_EXCEEDED = "RETURN_QUANTITY_EXCEEDED"
    RETURN_LINES_INCOMPLETE = "RETURN_LINES_INCOMPLETE"
    ORDER_EVENT_NOT_FOUND = "ORDER_EVENT_NOT_FOUND"
    ORDER_EVENT_NOT_FAILED = "ORDER_EVENT_NOT_FAILED"


class OrderError(DomainError):
    """A refused order event (``code`` from :class:`OrderErrorCode`): nothing was written."""


class AuthErrorCode(enum.Enum):
    """Why a login or an authenticated call was refused."""

    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    NOT_AUTHENTICATED = "NOT_AUTHENTICATED"
    PERMISSION_DENIED = "PERMISSION_DENIED"
    RATE_LIMITED = "RATE_LIMITED"
    #: A dependency (Redis: the rate-limit counters) is unreachable; nothing changed, try again.
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"


class AuthError(DomainError):
    """A refused login (``code`` from :class:`AuthErrorCode`)."""


class ProfileErrorCode(enum.Enum):
    """Why a member's profile change (birth date, calendar, consents) was refused."""

    NOT_AUTHENTICATED = "NOT_AUTHENTICATED"
    NOT_A_CUSTOMER = "NOT_A_CUSTOMER"
    INVALID_BIRTH_DATE = "INVALID_BIRTH_DATE"
    INVALID_CALENDAR = "INVALID_CALENDAR"
    INVALID_INPUT = "INVALID_INPUT"


class ProfileError(DomainError):
    """A refused profile change (``code`` from :class:`ProfileErrorCode`): nothing was written."""


class ApiKeyErrorCode(enum.Enum):
    """Why creating, rotating or revoking an API key was refused."""

    NOT_AUTHENTICATED = "NOT_AUTHENTICATED"
    PERMISSION_DENIED = "PERMISSION_DENIED"
    NOT_FOUND = "NOT_FOUND"
    INVALID_NAME = "INVALID_NAME"
    SCOPES_REQUIRED = "SCOPES_REQUIRED"
    INVALID_SCOPE = "INVALID_SCOPE"
    INVALID_EXPIRY = "INVALID_EXPIRY"
    INVALID_RATE_LIMIT = "INVALID_RATE_LIMIT"
    ALREADY_REVOKED = "ALREADY_REVOKED"
    INVALID_INPUT = "INVALID_INPUT"


class ApiKeyError(DomainError):
    """A refused API-key operation (``code`` from :class:`ApiKeyErrorCode`): nothing was written."""


class CredentialErrorCode(enum.Enum):
    """Why the credentials of a request (``Authorization: Bearer``) were refused (HTTP 401/429)."""

    API_KEY_INVALID = "API_KEY_INVALID"
    API_KEY_REVOKED = "API_KEY_REVOKED"
    API_KEY_EXPIRED = "API_KEY_EXPIRED"
    TOKEN_INVALID = "TOKEN_INVALID"
    TOKEN_EXPIRED = "TOKEN_EXPIRED"
    TOKEN_WRONG_AUDIENCE = "TOKEN_WRONG_AUDIENCE"
    TOKEN_ISSUER_UNKNOWN = "TOKEN_ISSUER_UNKNOWN"
    TOKEN_LIFETIME_TOO_LONG = "TOKEN_LIFETIME_TOO_LONG"
    RATE_LIMITED = "RATE_LIMITED"
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"


class CredentialError(DomainError):
    """Refused request credentials (``code`` from :class:`CredentialErrorCode`); the request did not run."""

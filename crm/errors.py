"""Domain errors of the crm app and their stable codes (exposed as a GraphQL enum)."""

from __future__ import annotations

import enum

from marketplace.errors import DomainError


class CrmErrorCode(enum.Enum):
    """Why a profile, note, tag, segment or privacy operation was refused; nothing was written."""

    NOT_AUTHENTICATED = "NOT_AUTHENTICATED"
    PERMISSION_DENIED = "PERMISSION_DENIED"
    NOT_FOUND = "NOT_FOUND"
    INVALID_INPUT = "INVALID_INPUT"
    #: A phone number that phonenumbers cannot parse or that is not a possible number.
    INVALID_PHONE = "INVALID_PHONE"
    #: Segment criteria that name an unknown field or give a value of the wrong kind.
    INVALID_CRITERIA = "INVALID_CRITERIA"
    #: The customer was erased already.
    ALREADY_ERASED = "ALREADY_ERASED"
    #: An earning rule or a promotion targets the segment: change them first.
    SEGMENT_IN_USE = "SEGMENT_IN_USE"


class CrmError(DomainError):
    """A refused crm operation (``code`` from :class:`CrmErrorCode`): nothing was written."""

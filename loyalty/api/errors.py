"""GraphQL error types of the loyalty API: ``LoyaltyError``, and ``LedgerError`` for points movements.

``LoyaltyError`` reports refused program, tier and earning-rule edits. Those payloads used to
report ``LedgerError`` in ``errors``, a misnomer (nothing there moves points): ``errors`` stays
for existing clients, deprecated, and ``loyaltyErrors`` carries the same refusals as
``LoyaltyError``. ``pointsAdjust`` moves points, so its ``errors`` stay ``LedgerError``.
"""

from __future__ import annotations

import enum
from typing import ClassVar

import strawberry

from api_core.errors import PayloadError
from loyalty.errors import LoyaltyErrorCode as DomainLoyaltyErrorCode

LoyaltyErrorCode = DomainLoyaltyErrorCode
strawberry.enum(LoyaltyErrorCode, name="LoyaltyErrorCode", description="Why a loyalty operation was refused.")


class LedgerCode(enum.Enum):
    """The codes of a refused points movement (the schema's ``LedgerErrorCode``; frozen for old clients)."""

    INSUFFICIENT_POINTS = "INSUFFICIENT_POINTS"
    INVALID_POINTS = "INVALID_POINTS"
    REASON_REQUIRED = "REASON_REQUIRED"
    NOT_FOUND = "NOT_FOUND"
    NOT_AUTHENTICATED = "NOT_AUTHENTICATED"
    INVALID_INPUT = "INVALID_INPUT"
    PERMISSION_DENIED = "PERMISSION_DENIED"
    IDEMPOTENCY_CONFLICT = "IDEMPOTENCY_CONFLICT"


LedgerErrorCode = LedgerCode
strawberry.enum(LedgerErrorCode, name="LedgerErrorCode", description="Why a points movement was refused.")

#: Deprecation reason of the ``errors`` field of payloads that now report ``loyaltyErrors``.
ERRORS_DEPRECATION = "Use loyaltyErrors (the same refusals, typed LoyaltyError): LedgerError is misnamed here."


@strawberry.type(description="A refused loyalty operation (program, tier or earning-rule edit); nothing was changed.")
class LoyaltyError(PayloadError):
    """One reason a loyalty operation was refused."""

    codes = DomainLoyaltyErrorCode
    code: LoyaltyErrorCode = strawberry.field(description="Stable machine-readable code.")


@strawberry.type(description="A refused points movement; nothing was changed.")
class LedgerError(PayloadError):
    """One reason a points movement was refused."""

    codes = LedgerCode
    code: LedgerErrorCode = strawberry.field(description="Stable machine-readable code.")


def deprecated_ledger_errors(errors: list[LoyaltyError]) -> list[LedgerError]:
    """The deprecated ``errors`` of a payload: its ``loyaltyErrors`` as ``LedgerError``s."""
    return [
        LedgerError(field=error.field, message=error.message, code=LedgerCode(error.code.value)) for error in errors
    ]


@strawberry.type(name="LoyaltyErrorsPayloadPart", description="Errors part of loyalty payloads (not in the schema).")
class LoyaltyErrorsPayload:
    """Base of the payloads of program, tier and rule edits: ``loyaltyErrors`` and the deprecated ``errors``."""

    #: Where ``handle_domain_errors`` puts the refusals.
    ERRORS_FIELD: ClassVar[str] = "loyalty_errors"

    loyalty_errors: list[LoyaltyError] = strawberry.field(
        default_factory=list, description="Why it was refused; empty on success."
    )

    @strawberry.field(
        description="Why it was refused; empty on success (as LedgerError).", deprecation_reason=ERRORS_DEPRECATION
    )
    def errors(self) -> list[LedgerError]:
        """``loyaltyErrors`` under their old type."""
        return deprecated_ledger_errors(self.loyalty_errors)

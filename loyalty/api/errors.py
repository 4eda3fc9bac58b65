"""GraphQL error types of the loyalty API: ``field``, ``message`` and a ``code`` enum."""

from __future__ import annotations

import strawberry

from loyalty.errors import LedgerError as LedgerDomainError
from loyalty.errors import LedgerErrorCode as LedgerDomainErrorCode
from marketplace.errors import OrderError as OrderDomainError
from marketplace.errors import OrderErrorCode as OrderDomainErrorCode

OrderErrorCode = strawberry.enum(
    OrderDomainErrorCode, name="OrderErrorCode", description="Why an order event was refused."
)


@strawberry.type(description="A refused order event; nothing was changed.")
class OrderError:
    """One reason an order event was refused."""

    field: str | None = strawberry.field(description="Input field at fault (camelCase path), or null.")
    message: str = strawberry.field(description="Human-readable explanation.")
    code: OrderErrorCode = strawberry.field(description="Stable machine-readable code.")

    @classmethod
    def from_domain(cls, error: OrderDomainError) -> OrderError:
        """The API form of a domain ``OrderError``."""
        return cls(field=error.field, message=error.message, code=error.code)


LedgerErrorCode = strawberry.enum(
    LedgerDomainErrorCode, name="LedgerErrorCode", description="Why a points movement was refused."
)


@strawberry.type(description="A refused points movement; nothing was changed.")
class LedgerError:
    """One reason a points movement was refused."""

    field: str | None = strawberry.field(description="Input field at fault (camelCase), or null.")
    message: str = strawberry.field(description="Human-readable explanation.")
    code: LedgerErrorCode = strawberry.field(description="Stable machine-readable code.")

    @classmethod
    def from_domain(cls, error: LedgerDomainError) -> LedgerError:
        """The API form of a domain ``LedgerError``."""
        return cls(field=error.field, message=error.message, code=error.code)

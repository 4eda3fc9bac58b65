"""GraphQL error types of the marketplace API (login, profile, order events).

Each is a :class:`api_core.errors.PayloadError` (``field``, ``message``) with a ``code`` from the
domain's enum in ``marketplace/errors.py``; ``api_core.errors.handle_domain_errors`` builds them.
"""

from __future__ import annotations

import strawberry

from api_core.errors import PayloadError
from marketplace import errors as domain

AuthErrorCode = domain.AuthErrorCode
strawberry.enum(AuthErrorCode, name="AuthErrorCode", description="Why a login was refused.")
ProfileErrorCode = domain.ProfileErrorCode
strawberry.enum(ProfileErrorCode, name="ProfileErrorCode", description="Why a profile change was refused.")
OrderErrorCode = domain.OrderErrorCode
strawberry.enum(OrderErrorCode, name="OrderErrorCode", description="Why an order event was refused.")


@strawberry.type(description="A refused login; nothing changed.")
class AuthError(PayloadError):
    """One reason a login was refused."""

    codes = domain.AuthErrorCode
    code: AuthErrorCode = strawberry.field(description="Stable machine-readable code.")


@strawberry.type(description="A refused profile change; nothing was changed.")
class ProfileError(PayloadError):
    """One reason a profile change was refused."""

    codes = domain.ProfileErrorCode
    code: ProfileErrorCode = strawberry.field(description="Stable machine-readable code.")


@strawberry.type(description="A refused order event; nothing was changed.")
class OrderError(PayloadError):
    """One reason an order event was refused."""

    codes = domain.OrderErrorCode
    code: OrderErrorCode = strawberry.field(description="Stable machine-readable code.")

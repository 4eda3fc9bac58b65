"""Marketplace's part of the GraphQL schema: session login and logout."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from config.graphql.context import request_of
from marketplace.errors import AuthError as AuthDomainError
from marketplace.errors import AuthErrorCode as AuthDomainErrorCode
from marketplace.selectors import staff_shop_ids
from marketplace.services.auth import session_login, session_logout

AuthErrorCode = strawberry.enum(AuthDomainErrorCode, name="AuthErrorCode", description="Why a login was refused.")


@strawberry.type(description="A refused login; nothing changed.")
class AuthError:
    """One reason a login was refused."""

    field: str | None = strawberry.field(description="Input field at fault, or null.")
    message: str = strawberry.field(description="Human-readable explanation.")
    code: AuthErrorCode = strawberry.field(description="Stable machine-readable code.")


@strawberry.input(description="Credentials of a customer or a staff member.")
class LoginInput:
    """Input of ``login``."""

    username: str = strawberry.field(description="Username.")
    password: str = strawberry.field(description="Password.")


@strawberry.type(description="Result of login: the session cookie is set on success.")
class LoginPayload:
    """Who logged in, or why not."""

    username: str | None = strawberry.field(description="The logged-in username; null when refused.")
    is_staff_of_shops: bool = strawberry.field(description="True when the user works for at least one shop.")
    errors: list[AuthError] = strawberry.field(description="Why the login was refused; empty on success.")


@strawberry.type(description="Result of logout.")
class LogoutPayload:
    """Always succeeds."""

    ok: bool = strawberry.field(description="True once the session has ended.")


@strawberry.type
class MarketplaceMutation:
    """Session mutations (HTTP only: they set or clear the session cookie)."""

    @strawberry.mutation(
        description="Start a session for a customer or staff member. Codes: INVALID_CREDENTIALS, RATE_LIMITED."
    )
    def login(
        self, info: Info, input: Annotated[LoginInput, strawberry.argument(description="Credentials.")]
    ) -> LoginPayload:
        """Call ``session_login`` with the HTTP request."""
        try:
            user = session_login(request=request_of(info), username=input.username, password=input.password)
        except AuthDomainError as error:
            return LoginPayload(
                username=None,
                is_staff_of_shops=False,
                errors=[AuthError(field=error.field, message=error.message, code=error.code)],
            )
        return LoginPayload(username=user.get_username(), is_staff_of_shops=bool(staff_shop_ids(user=user)), errors=[])

    @strawberry.mutation(description="End the current session.")
    def logout(self, info: Info) -> LogoutPayload:
        """Call ``session_logout`` with the HTTP request."""
        session_logout(request=request_of(info))
        return LogoutPayload(ok=True)

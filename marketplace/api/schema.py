"""Marketplace's part of the GraphQL schema: session login and logout."""

from __future__ import annotations

from typing import Annotated, cast

import strawberry
import strawberry_django
from strawberry.types import Info

from config.graphql.context import request_of
from marketplace import models as mp
from marketplace.errors import AuthError as AuthDomainError
from marketplace.errors import AuthErrorCode as AuthDomainErrorCode
from marketplace.selectors import categories_listed, staff_shop_ids
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


@strawberry_django.type(mp.Category, description="A product category shared by the marketplace's shops.")
class Category:
    """A category earning rules can name (by slug)."""

    name: str = strawberry_django.field(description="Display name.")
    slug: str = strawberry_django.field(description="Stable slug; earning rules and order lines name it.")


@strawberry.type
class MarketplaceQuery:
    """Public reads of the marketplace."""

    @strawberry_django.field(
        description=(
            "The marketplace's product categories by name (public), at most 200; `search` narrows by name or "
            "slug. Earning rules name categories by slug."
        )
    )
    def categories(
        self,
        search: Annotated[
            str | None, strawberry.argument(description="Part of the name or slug, case-insensitive.")
        ] = None,
    ) -> list[Category]:
        """Call ``categories_listed``."""
        return cast(list[Category], categories_listed(search=search))


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

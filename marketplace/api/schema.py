"""Marketplace's part of the GraphQL schema: the viewer, shops, categories, login and logout."""

from __future__ import annotations

from typing import Annotated, cast

import strawberry
import strawberry_django
from strawberry.types import Info
from strawberry_django.relay import DjangoListConnection

from api_core.context import ViewerIdentity, current_user, request_of
from api_core.errors import handle_domain_errors, not_authenticated
from marketplace import models as mp
from marketplace.api.errors import AuthError
from marketplace.api.types import NODES, SHOP, Category
from marketplace.selectors import categories_listed, customer_for_user, staff_shop_ids
from marketplace.services.auth import session_login, session_logout

VIEWER = Annotated["Viewer", strawberry.lazy(NODES)]  # type: ignore[name-defined]  # noqa: F821  (resolved lazily by strawberry)


@strawberry.input(description="Credentials of a customer or a staff member.")
class LoginInput:
    """Input of ``login``."""

    username: str = strawberry.field(description="Username.")
    password: str = strawberry.field(description="Password.")


@strawberry.type(description="Result of login: the session cookie is set on success.")
class LoginPayload:
    """Who logged in, or why not."""

    username: str | None = strawberry.field(default=None, description="The logged-in username; null when refused.")
    is_staff_of_shops: bool = strawberry.field(
        default=False, description="True when the user works for at least one shop."
    )
    errors: list[AuthError] = strawberry.field(
        default_factory=list, description="Why the login was refused; empty on success."
    )


@strawberry.type(description="Result of logout.")
class LogoutPayload:
    """Always succeeds."""

    ok: bool = strawberry.field(description="True once the session has ended.")


@strawberry.type
class MarketplaceQuery:
    """The viewer and the public reads of the marketplace."""

    @strawberry.field(description="The logged-in user's member view. Errors with NOT_AUTHENTICATED when anonymous.")
    def viewer(self, info: Info) -> VIEWER:
        """Build the viewer from the session user (one query for the customer record)."""
        user = current_user(info)
        if not user.is_authenticated:
            raise not_authenticated()
        customer = customer_for_user(user=user)
        return ViewerIdentity(
            user_id=user.pk,
            customer_id=customer.pk if customer else None,
            display_name=(customer.display_name if customer else "") or user.get_username(),
            email=(customer.email if customer else "") or getattr(user, "email", ""),
        )

    shops: DjangoListConnection[SHOP] = strawberry_django.connection(
        description="Every shop with its public program and tiers, by name."
    )

    @strawberry_django.field(description="One shop by its slug, or null when there is none.")
    def shop(self, slug: Annotated[str, strawberry.argument(description="The shop's slug.")]) -> SHOP | None:
        """Shop by slug (public)."""
        return mp.Shop.objects.filter(slug=slug).first()

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
    @handle_domain_errors(LoginPayload, AuthError)
    def login(
        self, info: Info, input: Annotated[LoginInput, strawberry.argument(description="Credentials.")]
    ) -> LoginPayload:
        """Call ``session_login`` with the HTTP request."""
        user = session_login(request=request_of(info), username=input.username, password=input.password)
        return LoginPayload(username=user.get_username(), is_staff_of_shops=bool(staff_shop_ids(user=user)), errors=[])

    @strawberry.mutation(description="End the current session.")
    def logout(self, info: Info) -> LogoutPayload:
        """Call ``session_logout`` with the HTTP request."""
        session_logout(request=request_of(info))
        return LogoutPayload(ok=True)

"""Errors of the API: coded query errors, and the one mapping of domain errors to payload errors.

Mutations report user mistakes in their payload's ``errors`` list: each app's ``api/`` declares
an error type per domain (``OrderError``, ``LoyaltyError``, ``RewardError`` ...) deriving from
:class:`PayloadError`, and wraps its resolvers in :func:`handle_domain_errors`, which turns the
domain exception into that error type in one place (Saleor's ``BaseMutation.handle_errors`` in
``saleor/graphql/core/mutations.py`` is the model). Queries and subscriptions that the caller may
not use fail loudly with a GraphQL error carrying ``extensions.code`` (and ``extensions.field``
when an input is at fault), so clients can tell "log in" from "not yours".
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Callable
from typing import Any, ClassVar, ParamSpec, TypeVar

import strawberry
from graphql import GraphQLError

from marketplace.errors import DomainError

NOT_AUTHENTICATED = "NOT_AUTHENTICATED"
PERMISSION_DENIED = "PERMISSION_DENIED"

P = ParamSpec("P")
R = TypeVar("R")


def not_authenticated(message: str = "Log in first.") -> GraphQLError:
    """An error for an anonymous caller where a login is needed (``code: NOT_AUTHENTICATED``)."""
    return GraphQLError(message, extensions={"code": NOT_AUTHENTICATED})


def permission_denied(message: str = "You may not see or change this.") -> GraphQLError:
    """An error for a logged-in caller acting outside their rights (``code: PERMISSION_DENIED``)."""
    return GraphQLError(message, extensions={"code": PERMISSION_DENIED})


def coded_error(message: str, *, code: str, field: str | None = None) -> GraphQLError:
    """A query error with ``extensions.code`` and ``extensions.field`` (camelCase input name or null)."""
    return GraphQLError(message, extensions={"code": code, "field": field})


def domain_error(error: DomainError) -> GraphQLError:
    """A query's refusal from a domain service, with its code and the input field at fault.

    ``extensions`` carry ``code`` (the domain code, e.g. INVALID_INPUT) and ``field`` (camelCase
    input name or null), the same pair mutations put in their payload errors.
    """
    return coded_error(error.message, code=str(error.code.value), field=error.field)


@strawberry.type(description="Fields every payload error has (not in the schema by itself).")
class PayloadError:
    """Base of the payload error types: ``field``, ``message``; subclasses add ``code``.

    Subclasses set ``codes``, the Python class of their GraphQL code enum.
    """

    codes: ClassVar[type[enum.Enum]]

    field: str | None = strawberry.field(description="Input field at fault (camelCase path), or null.")
    message: str = strawberry.field(description="Human-readable explanation.")

    @classmethod
    def from_domain(cls, error: DomainError) -> Any:
        """The API form of a domain error; its code is matched by value in this type's enum.

        A code this type's enum does not have (a lower app's refusal surfacing through a higher
        app's mutation) is reported as that enum's ``INVALID_INPUT``; without one, the error is
        re-raised (a bug: the server answers without internals).
        """
        value = error.code.value
        members = {member.value: member for member in cls.codes}
        code = members.get(value) or members.get("INVALID_INPUT")
        if code is None:
            raise error
        return cls(field=error.field, message=error.message, code=code)  # type: ignore[call-arg]


def handle_domain_errors(
    payload: Callable[..., R], error_type: type[PayloadError], **refused: Any
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorate a mutation resolver: a domain refusal becomes ``payload(errors=[...], **refused)``.

    ``refused`` gives the payload's other fields on refusal (e.g. ``tier=None``). The errors go to
    the payload's ``errors`` field, or to the one its class attribute ``ERRORS_FIELD`` names. Only
    ``DomainError`` is caught (a refused operation wrote nothing); anything else is a bug and goes
    to the server's error handling, which answers without internals.
    """

    def decorate(resolver: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(resolver)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return resolver(*args, **kwargs)
            except DomainError as error:
                into = getattr(payload, "ERRORS_FIELD", "errors")
                return payload(**{into: [error_type.from_domain(error)]}, **refused)

        return wrapper

    return decorate

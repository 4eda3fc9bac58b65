"""Errors that are not a payload's business: authentication and permission on queries.

Mutations report user mistakes in their payload's ``errors`` list (see each app's
``api/errors``); queries and subscriptions that the caller may not see fail loudly with one of
these, carrying ``extensions.code`` so that clients can tell "log in" from "not yours".
"""

from __future__ import annotations

from graphql import GraphQLError

from marketplace.errors import DomainError

NOT_AUTHENTICATED = "NOT_AUTHENTICATED"
PERMISSION_DENIED = "PERMISSION_DENIED"


def not_authenticated(message: str = "Log in first.") -> GraphQLError:
    """An error for an anonymous caller where a login is needed (``code: NOT_AUTHENTICATED``)."""
    return GraphQLError(message, extensions={"code": NOT_AUTHENTICATED})


def permission_denied(message: str = "You may not see or change this.") -> GraphQLError:
    """An error for a logged-in caller acting outside their rights (``code: PERMISSION_DENIED``)."""
    return GraphQLError(message, extensions={"code": PERMISSION_DENIED})


def domain_error(error: DomainError) -> GraphQLError:
    """A query's refusal from a domain service, with its code and the input field at fault.

    ``extensions`` carry ``code`` (the domain code, e.g. INVALID_INPUT) and ``field`` (camelCase
    input name or null), the same pair mutations put in their payload errors.
    """
    code = error.code.value if hasattr(error.code, "value") else str(error.code)
    return GraphQLError(error.message, extensions={"code": code, "field": error.field})

"""Permission extension for staff-only fields, over the capability table.

A field declares the capability it needs and how to find the shop it belongs to::

    @strawberry_django.field(extensions=[requires(Capability.READ_MEMBERS, message="...")])
    def members(self, ...) -> ...

The check runs before the resolver: ``NOT_AUTHENTICATED`` for an anonymous caller,
``PERMISSION_DENIED`` for anyone who does not hold the capability in that shop (never a silent
null). The caller's roles are read once per operation (``api_core.context.caller_of``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from strawberry.permission import BasePermission, PermissionExtension
from strawberry.types import Info

from api_core.context import caller_of, require_capability
from marketplace.permissions import Capability

#: Finds the shop id a field belongs to, from its source object and its arguments.
ShopOf = Callable[[Any, dict[str, Any]], int | None]
#: Finds the customer a field's source belongs to (its member), or ``None``.
MemberOf = Callable[[Any], int | None]


def shop_of_source(source: Any, arguments: dict[str, Any]) -> int | None:
    """The shop of the field's source: a ``Shop`` row itself, or any row with a ``shop_id``."""
    shop_id = getattr(source, "shop_id", None)
    if shop_id is not None:
        return int(shop_id)
    if type(source).__name__ == "Shop" and getattr(source, "pk", None) is not None:
        return int(source.pk)
    return None


class HasShopCapability(BasePermission):
    """Grants the field when the caller holds ``capability`` in the field's shop (see the table)."""

    def __init__(
        self,
        capability: Capability,
        *,
        message: str,
        shop_of: ShopOf = shop_of_source,
        member_of: MemberOf | None = None,
    ) -> None:
        """``message`` is the PERMISSION_DENIED text; ``shop_of`` finds the shop id (source by default);
        with ``member_of``, the member the source belongs to is granted the field too."""
        self.capability = capability
        self.message = message
        self.denial = message
        self.shop_of = shop_of
        self.member_of = member_of

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        """Raise the coded GraphQL error on refusal (so the code tells "log in" from "not yours")."""
        if self.member_of is not None:
            caller = caller_of(info)
            member = self.member_of(source)
            if caller.is_authenticated and member is not None and member == caller.customer_id:
                return True
        require_capability(info, shop_id=self.shop_of(source, kwargs), capability=self.capability, message=self.denial)
        return True


def requires(
    capability: Capability, *, message: str, shop_of: ShopOf = shop_of_source, member_of: MemberOf | None = None
) -> PermissionExtension:
    """The field extension that checks ``capability`` in the field's shop before resolving it.

    With ``member_of`` (source -> customer id), the member the source belongs to may read the
    field too (e.g. a redemption's account: its member, or staff who read members).
    """
    return PermissionExtension(
        permissions=[HasShopCapability(capability, message=message, shop_of=shop_of, member_of=member_of)],
        use_directives=False,
        fail_silently=False,
    )

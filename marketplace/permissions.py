"""The capability table: what each staff role of a shop may do. The one place roles are named.

Every permission decision about shop staff reads this table: the services (which refuse with
their domain's ``PERMISSION_DENIED`` or ``NOT_FOUND`` code) and the GraphQL permission extension
on staff-only fields (``api_core.permissions``). A capability's value is also its API-key scope
name (``orders:write``), so keys and roles speak the same words.

Who may do what (Saleor's ``saleor/permission/enums.py`` is the model: permissions named after
what they allow, granted to groups):

============================  =======  =======  =======
capability                    owner    manager  cashier
============================  =======  =======  =======
record orders                 yes      yes
adjust points                 yes      yes
edit program (settings,       yes      yes
tiers, earning rules,
referral settings)
edit catalogue (rewards)      yes      yes
use till (validate, consume,  yes      yes      yes
cancel codes; read redemptions)
price and commit baskets      yes      yes      yes
(checkout quote and commit)
edit promotions and coupons   yes      yes
(and read their usage)
edit messages                 yes      yes
sell memberships (plans;      yes      yes
staff actions on subscriptions)
edit members (profile,        yes      yes
status, notes, tags, segments)
erase a member's data         yes
read members (list, detail,   yes      yes
occasions, referrals)
read activity (ledger feed)   yes      yes
read analytics                yes      yes
read the event feed           yes      yes
manage webhooks               yes
manage staff                  yes
manage API keys               yes
============================  =======  =======  =======

An API key (``marketplace.models.ApiKey``) holds capabilities by name instead of by role: its
``scopes`` are capability values, any but ``apikeys:manage`` and ``staff:manage``
(``KEY_SCOPES``: a key never mints keys or staff), and only in its own shop.

A cashier uses the till and reads what the till needs; recording orders mints points, so a
cashier never records them (issue 12).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet

from marketplace.models import ApiKey, StaffMembership, StaffRole


class Capability(enum.Enum):
    """Something a shop's staff member may be allowed to do; the value is the API-key scope name."""

    RECORD_ORDERS = "orders:write"
    ADJUST_POINTS = "points:adjust"
    EDIT_PROGRAM = "program:write"
    EDIT_CATALOGUE = "catalogue:write"
    USE_TILL = "till:use"
    CHECKOUT = "checkout:use"
    MANAGE_PROMOTIONS = "promotions:write"
    MANAGE_MESSAGES = "messages:write"
    MANAGE_MEMBERSHIPS = "memberships:write"
    READ_MEMBERS = "members:read"
    EDIT_MEMBERS = "members:write"
    ERASE_MEMBERS = "members:erase"
    READ_ACTIVITY = "activity:read"
    READ_ANALYTICS = "analytics:read"
    READ_EVENTS = "events:read"
    MANAGE_WEBHOOKS = "webhooks:manage"
    MANAGE_STAFF = "staff:manage"
    MANAGE_API_KEYS = "apikeys:manage"


_OWNER, _MANAGER, _CASHIER = StaffRole.OWNER, StaffRole.MANAGER, StaffRole.CASHIER

#: The table itself: capability -> the roles that hold it.
CAPABILITY_ROLES: Mapping[Capability, frozenset[StaffRole]] = {
    Capability.RECORD_ORDERS: frozenset({_OWNER, _MANAGER}),
    Capability.ADJUST_POINTS: frozenset({_OWNER, _MANAGER}),
    Capability.EDIT_PROGRAM: frozenset({_OWNER, _MANAGER}),
    Capability.EDIT_CATALOGUE: frozenset({_OWNER, _MANAGER}),
    Capability.USE_TILL: frozenset({_OWNER, _MANAGER, _CASHIER}),
    Capability.CHECKOUT: frozenset({_OWNER, _MANAGER, _CASHIER}),
    Capability.MANAGE_PROMOTIONS: frozenset({_OWNER, _MANAGER}),
    Capability.MANAGE_MESSAGES: frozenset({_OWNER, _MANAGER}),
    Capability.MANAGE_MEMBERSHIPS: frozenset({_OWNER, _MANAGER}),
    Capability.READ_MEMBERS: frozenset({_OWNER, _MANAGER}),
    Capability.EDIT_MEMBERS: frozenset({_OWNER, _MANAGER}),
    Capability.ERASE_MEMBERS: frozenset({_OWNER}),
    Capability.READ_ACTIVITY: frozenset({_OWNER, _MANAGER}),
    Capability.READ_ANALYTICS: frozenset({_OWNER, _MANAGER}),
    Capability.READ_EVENTS: frozenset({_OWNER, _MANAGER}),
    Capability.MANAGE_WEBHOOKS: frozenset({_OWNER}),
    Capability.MANAGE_STAFF: frozenset({_OWNER}),
    Capability.MANAGE_API_KEYS: frozenset({_OWNER}),
}


#: The capabilities an API key may be given (its scopes): all but minting keys and staff.
KEY_SCOPES: frozenset[Capability] = frozenset(Capability) - {Capability.MANAGE_API_KEYS, Capability.MANAGE_STAFF}

#: Attribute that ``marketplace.services.api_keys.api_key_authenticate`` sets on the key's
#: service user for the request, so that permission checks read the key's scopes with no query.
API_KEY_ATTR = "patron_api_key"


def api_key_of(user: object) -> ApiKey | None:
    """The API key a request authenticated with, when ``user`` is that key's service user; else ``None``."""
    key = getattr(user, API_KEY_ATTR, None)
    return key if isinstance(key, ApiKey) else None


def key_can(key: ApiKey, capability: Capability, shop_id: int | None) -> bool:
    """Whether API ``key`` holds ``capability`` in shop ``shop_id``: its own shop and its scopes only; no query."""
    return shop_id is not None and key.shop_id == shop_id and capability.value in key.scopes


def roles_with(capability: Capability) -> frozenset[StaffRole]:
    """The staff roles that hold ``capability`` (empty for none)."""
    return CAPABILITY_ROLES.get(capability, frozenset())


def role_can(role: StaffRole | str | None, capability: Capability) -> bool:
    """Whether a staff ``role`` (``None``: not staff) holds ``capability``; no query."""
    return role is not None and StaffRole(role) in roles_with(capability)


def capabilities_of(role: StaffRole | str | None) -> frozenset[Capability]:
    """Every capability a staff ``role`` holds (empty for ``None``); no query."""
    if role is None:
        return frozenset()
    return frozenset(capability for capability, roles in CAPABILITY_ROLES.items() if StaffRole(role) in roles)


def has_capability(*, user: AbstractBaseUser | AnonymousUser | None, shop_id: int, capability: Capability) -> bool:
    """Whether ``user`` holds ``capability`` in shop ``shop_id`` through their staff role (one query).

    Anonymous users and users who are not the shop's staff hold nothing. An API key's service
    user (authenticated with the key) holds the key's scopes in the key's shop, with no query.
    """
    if user is None or not user.is_authenticated:
        return False
    key = api_key_of(user)
    if key is not None:
        return key_can(key, capability, shop_id)
    return StaffMembership.objects.filter(
        user_id=user.pk, shop_id=shop_id, role__in=[role.value for role in roles_with(capability)]
    ).exists()


def memberships_with(capability: Capability) -> QuerySet[StaffMembership]:
    """Staff memberships whose role holds ``capability``: a base for ``Exists`` subqueries (lazy)."""
    return StaffMembership.objects.filter(role__in=[role.value for role in roles_with(capability)])

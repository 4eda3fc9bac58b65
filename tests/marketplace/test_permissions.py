"""The capability table itself (``marketplace/permissions.py``): its shape and its lookups."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import AnonymousUser

from marketplace.models import StaffMembership, StaffRole
from marketplace.permissions import (
    CAPABILITY_ROLES,
    Capability,
    capabilities_of,
    has_capability,
    memberships_with,
    role_can,
    roles_with,
)
from tests.factories import CustomerFactory, ShopFactory, staff

# ---- the table ------------------------------------------------------------------------------------


def test_every_capability_is_in_the_table_and_held_by_some_role():
    assert set(CAPABILITY_ROLES) == set(Capability)
    for capability in Capability:
        assert roles_with(capability), capability
        assert roles_with(capability) <= set(StaffRole)


def test_owners_hold_every_capability():
    assert capabilities_of(StaffRole.OWNER) == frozenset(Capability)
    assert all(role_can(StaffRole.OWNER, capability) for capability in Capability)


def test_cashiers_only_use_the_till_and_the_checkout():
    assert capabilities_of(StaffRole.CASHIER) == {Capability.USE_TILL, Capability.CHECKOUT}
    assert not role_can(StaffRole.CASHIER, Capability.RECORD_ORDERS)
    assert not role_can(StaffRole.CASHIER, Capability.ADJUST_POINTS)


def test_managers_do_everything_but_manage_staff_keys_and_webhooks():
    assert capabilities_of(StaffRole.MANAGER) == frozenset(Capability) - {
        Capability.MANAGE_STAFF,
        Capability.MANAGE_API_KEYS,
        Capability.MANAGE_WEBHOOKS,
        Capability.ERASE_MEMBERS,
    }


def test_a_capability_value_is_a_unique_scope_name():
    values = [capability.value for capability in Capability]
    assert len(set(values)) == len(values)
    assert all(re.fullmatch(r"[a-z]+:[a-z]+", value) for value in values)


@pytest.mark.parametrize("role", [*StaffRole, None])
@pytest.mark.parametrize("capability", list(Capability))
def test_role_can_and_capabilities_of_read_the_table(role, capability):
    holds = role is not None and role in CAPABILITY_ROLES[capability]
    assert role_can(role, capability) is holds
    assert (capability in capabilities_of(role)) is holds
    if role is not None:
        assert role_can(role.value, capability) is holds  # the stored text works too


def test_not_staff_holds_nothing():
    assert capabilities_of(None) == frozenset()


# ---- has_capability: one query (none for an anonymous caller) ------------------------------------


@pytest.fixture
def shops():
    return ShopFactory(), ShopFactory()


@pytest.mark.django_db
@pytest.mark.parametrize("user", [None, AnonymousUser()], ids=["none", "anonymous"])
def test_anonymous_holds_nothing_without_a_query(shops, user, django_assert_num_queries):
    shop, _ = shops
    with django_assert_num_queries(0):
        assert has_capability(user=user, shop_id=shop.pk, capability=Capability.USE_TILL) is False


@pytest.mark.django_db
def test_another_shops_owner_holds_nothing_here(shops, django_assert_num_queries):
    shop, other = shops
    owner_elsewhere = staff(other, StaffRole.OWNER)
    with django_assert_num_queries(1):
        assert has_capability(user=owner_elsewhere, shop_id=shop.pk, capability=Capability.USE_TILL) is False
    with django_assert_num_queries(1):
        assert has_capability(user=owner_elsewhere, shop_id=other.pk, capability=Capability.USE_TILL) is True


@pytest.mark.django_db
def test_a_customer_holds_nothing(shops, django_assert_num_queries):
    shop, _ = shops
    customer = CustomerFactory()
    with django_assert_num_queries(1):
        assert has_capability(user=customer.user, shop_id=shop.pk, capability=Capability.USE_TILL) is False


@pytest.mark.django_db
@pytest.mark.parametrize("role", list(StaffRole))
@pytest.mark.parametrize("capability", list(Capability))
def test_a_role_holds_what_the_table_says(shops, role, capability, django_assert_num_queries):
    shop, _ = shops
    user = staff(shop, role)
    with django_assert_num_queries(1):
        assert has_capability(user=user, shop_id=shop.pk, capability=capability) is role_can(role, capability)


@pytest.mark.django_db
def test_a_cashier_may_not_record_orders(shops, django_assert_num_queries):
    shop, _ = shops
    cashier = staff(shop, StaffRole.CASHIER)
    with django_assert_num_queries(1):
        assert has_capability(user=cashier, shop_id=shop.pk, capability=Capability.RECORD_ORDERS) is False


@pytest.mark.django_db
def test_memberships_with_keeps_the_roles_that_hold_the_capability(shops):
    shop, _ = shops
    by_role = {role: staff(shop, role) for role in StaffRole}
    for capability in Capability:
        users = set(memberships_with(capability).filter(shop=shop).values_list("user_id", flat=True))
        assert users == {by_role[role].pk for role in roles_with(capability)}
    every_role = StaffMembership.objects.filter(shop=shop).count()
    assert memberships_with(Capability.USE_TILL).filter(shop=shop).count() == every_role

"""Creating logins for customers and shop staff (used by the demo and by operators' scripts)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.db import transaction

from marketplace.models import Customer, Shop, StaffMembership, StaffRole

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def user_ensure(*, username: str, password: str, email: str = "") -> User:
    """The user called ``username``, created with ``password`` when new (an existing password is kept)."""
    user_model = get_user_model()
    user = user_model.objects.filter(username=username).first()
    if user is None:
        user = user_model.objects.create_user(username=username, password=password, email=email)
    return user


def customer_ensure_login(
    *,
    username: str,
    password: str,
    display_name: str,
    email: str = "",
    external_id: str | None = None,
    is_demo: bool = False,
) -> Customer:
    """A customer with a login: created with its user when new, else returned as it is. One transaction."""
    with transaction.atomic():
        user = user_ensure(username=username, password=password, email=email)
        customer, _ = Customer.objects.get_or_create(
            user=user,
            defaults={"display_name": display_name, "email": email, "external_id": external_id, "is_demo": is_demo},
        )
    return customer


def staff_grant(*, user: User, shop: Shop, role: StaffRole) -> StaffMembership:
    """Give ``user`` the ``role`` in ``shop`` (replacing a previous role there)."""
    membership, _ = StaffMembership.objects.update_or_create(user=user, shop=shop, defaults={"role": role})
    return membership

"""django-filter FilterSets for the console's lists (plain Django: the GraphQL layer feeds them)."""

from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet

from loyalty.models import MemberAccount

#: ``orderBy`` values of the members list and the columns they sort on (newest / largest first
#: with a leading minus); the primary key breaks ties so that cursor pages are stable.
MEMBER_ORDERINGS = {
    "joined": "enrolled_at",
    "-joined": "-enrolled_at",
    "available": "points_available",
    "-available": "-points_available",
    "lifetime": "lifetime_points",
    "-lifetime": "-lifetime_points",
    "last_activity": "last_activity_at",
    "-last_activity": "-last_activity_at",
}


class MemberFilter(django_filters.FilterSet):
    """Filters of ``shop.members``: tier, joined between, balance between, last activity, text search.

    Balances are available points (integers); dates are datetimes with a time zone. ``search``
    matches name, e-mail or phone, case-insensitively. Invalid values make ``is_valid()`` false.
    """

    tier = django_filters.NumberFilter(field_name="tier_id")
    joined_after = django_filters.IsoDateTimeFilter(field_name="enrolled_at", lookup_expr="gte")
    joined_before = django_filters.IsoDateTimeFilter(field_name="enrolled_at", lookup_expr="lt")
    balance_min = django_filters.NumberFilter(field_name="points_available", lookup_expr="gte")
    balance_max = django_filters.NumberFilter(field_name="points_available", lookup_expr="lte")
    last_activity_after = django_filters.IsoDateTimeFilter(field_name="last_activity_at", lookup_expr="gte")
    last_activity_before = django_filters.IsoDateTimeFilter(field_name="last_activity_at", lookup_expr="lt")
    search = django_filters.CharFilter(method="filter_search", max_length=100)

    class Meta:
        model = MemberAccount
        fields: list[str] = []

    def filter_search(self, queryset: QuerySet[MemberAccount], name: str, value: str) -> QuerySet[MemberAccount]:
        """Name, e-mail or phone containing ``value``."""
        return queryset.filter(
            Q(customer__display_name__icontains=value)
            | Q(customer__email__icontains=value)
            | Q(customer__phone__icontains=value)
        )


def members_filtered(*, shop_id: int, data: dict, order_by: str) -> tuple[QuerySet[MemberAccount] | None, dict]:
    """The shop's member accounts filtered by ``data`` and sorted by ``order_by``.

    Returns ``(queryset, {})`` or ``(None, errors)`` where ``errors`` maps each invalid filter
    to its messages (an unknown ``order_by`` is reported under ``orderBy``).
    """
    if order_by not in MEMBER_ORDERINGS:
        return None, {"orderBy": [f"must be one of {', '.join(MEMBER_ORDERINGS)}"]}
    filterset = MemberFilter(data=data, queryset=MemberAccount.objects.filter(program__shop_id=shop_id))
    if not filterset.is_valid():
        return None, {name: [str(m) for m in messages] for name, messages in filterset.errors.items()}
    return filterset.qs.order_by(MEMBER_ORDERINGS[order_by], "pk"), {}

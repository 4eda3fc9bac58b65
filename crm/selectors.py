"""Reads of crm that matter: a segment's members and count, the members list with crm's filters."""

from __future__ import annotations

import datetime as dt

from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from crm.models import MemberTag, Segment, SegmentKind
from crm.segments import segment_filter
from loyalty.models import MemberAccount


def segment_members(segment: Segment, *, now: dt.datetime | None = None) -> QuerySet[MemberAccount]:
    """The segment's members now (lazy): its list, or the shop's members matching its criteria."""
    accounts = MemberAccount.objects.filter(program__shop_id=segment.shop_id)
    if segment.kind == SegmentKind.STATIC:
        return accounts.filter(static_segments=segment)
    return accounts.filter(segment_filter(segment.criteria, now=now or timezone.now()))


def segments_of_shop(*, shop_id: int) -> QuerySet[Segment]:
    """The shop's segments by name."""
    return Segment.objects.filter(shop_id=shop_id).order_by("name", "pk")


def with_tag(accounts: QuerySet[MemberAccount], tag: str) -> QuerySet[MemberAccount]:
    """``accounts`` holding ``tag`` (manual or automatic)."""
    return accounts.filter(Exists(MemberTag.objects.filter(account=OuterRef("pk"), tag=tag)))


#: Sort orders crm adds to ``shop.members`` (statistics), beside loyalty's ``MEMBER_ORDERINGS``.
CRM_ORDERINGS = {
    "visits": "stats__visits",
    "-visits": "-stats__visits",
    "spend": "stats__total_spend",
    "-spend": "-stats__total_spend",
    "last_visit": "stats__last_visit_at",
    "-last_visit": "-stats__last_visit_at",
}


def members_crm_filtered(
    *, shop_id: int, data: dict, crm: dict, order_by: str, now: dt.datetime | None = None
) -> tuple[QuerySet[MemberAccount] | None, dict]:
    """``loyalty.filters.members_filtered`` plus crm's filters and sort orders, still one query per page.

    ``crm`` holds ``segment`` (a Segment of the shop, or ``None`` for none given), ``tag``, and any
    segment criteria (``crm.segments``: ``statuses``, ``visitsMin`` ...), validated by the caller.
    Returns ``(queryset, {})`` or ``(None, errors)`` as loyalty's does.
    """
    from django.db.models import F

    from loyalty.filters import MEMBER_ORDERINGS, members_filtered

    base_order = order_by if order_by in MEMBER_ORDERINGS else "-joined"
    if order_by not in MEMBER_ORDERINGS and order_by not in CRM_ORDERINGS:
        known = ", ".join([*MEMBER_ORDERINGS, *CRM_ORDERINGS])
        return None, {"orderBy": [f"must be one of {known}"]}
    accounts, errors = members_filtered(shop_id=shop_id, data=data, order_by=base_order)
    if accounts is None:
        return None, errors
    now = now or timezone.now()
    segment = crm.get("segment")
    if segment is not None:
        accounts = accounts.filter(pk__in=segment_members(segment, now=now).values("pk"))
    if crm.get("tag"):
        accounts = with_tag(accounts, crm["tag"])
    if crm.get("criteria"):
        accounts = accounts.filter(segment_filter(crm["criteria"], now=now))
    if order_by in CRM_ORDERINGS:
        column = CRM_ORDERINGS[order_by]
        name = column.lstrip("-")
        ordering = F(name).desc(nulls_last=True) if column.startswith("-") else F(name).asc(nulls_first=True)
        accounts = accounts.order_by(ordering, "pk")
    return accounts, {}

"""Creating, changing and deleting a shop's segments, and the members of static ones (``members:write``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from crm.errors import CrmError, CrmErrorCode
from crm.models import Segment, SegmentKind
from crm.segments import criteria_clean
from crm.selectors import segment_members
from crm.signals import segment_delete_check
from loyalty.models import EarningRule, MemberAccount
from marketplace.permissions import Capability, has_capability

MAX_STATIC = 100_000


def _refuse(code: CrmErrorCode, message: str, field_name: str | None = None) -> CrmError:
    return CrmError(code, message, field_name)


def _require(user: AbstractBaseUser | AnonymousUser | None, shop_id: int) -> None:
    if user is None or not user.is_authenticated:
        raise _refuse(CrmErrorCode.NOT_AUTHENTICATED, "Log in first.")
    if not has_capability(user=user, shop_id=shop_id, capability=Capability.EDIT_MEMBERS):
        raise _refuse(CrmErrorCode.PERMISSION_DENIED, "Only the shop's owner or a manager edits segments.", "shopId")


def _editable(user: AbstractBaseUser | AnonymousUser | None, segment_id: int) -> Segment:
    if user is None or not user.is_authenticated:
        raise _refuse(CrmErrorCode.NOT_AUTHENTICATED, "Log in first.")
    segment = Segment.objects.filter(pk=segment_id).first()
    if segment is None or not has_capability(user=user, shop_id=segment.shop_id, capability=Capability.EDIT_MEMBERS):
        raise _refuse(CrmErrorCode.NOT_FOUND, "No such segment in a shop you manage.", "segmentId")
    return segment


def _members(shop_id: int, account_ids: list[int]) -> list[int]:
    """The ids, checked to be the shop's members (INVALID_INPUT otherwise)."""
    if len(account_ids) > MAX_STATIC:
        raise _refuse(CrmErrorCode.INVALID_INPUT, f"A static segment has up to {MAX_STATIC:,} members.", "accountIds")
    found = set(MemberAccount.objects.filter(program__shop_id=shop_id, pk__in=account_ids).values_list("pk", flat=True))
    if found != set(account_ids):
        raise _refuse(CrmErrorCode.INVALID_INPUT, "An account is not a member of this shop.", "accountIds")
    return sorted(found)


def _check(name: str, description: str, kind: str) -> None:
    if not 1 <= len(name.strip()) <= 120:
        raise _refuse(CrmErrorCode.INVALID_INPUT, "A name of 1 to 120 characters is required.", "name")
    if len(description) > 500:
        raise _refuse(CrmErrorCode.INVALID_INPUT, "A description is at most 500 characters.", "description")
    if kind not in SegmentKind.values:
        raise _refuse(CrmErrorCode.INVALID_INPUT, "A segment is static or dynamic.", "kind")


def segment_save(
    *,
    user: AbstractBaseUser | AnonymousUser,
    shop_id: int | None = None,
    segment_id: int | None = None,
    name: str,
    kind: str,
    description: str = "",
    criteria: Any = None,
    account_ids: list[int] | None = None,
) -> Segment:
    """Create (``shop_id``) or replace (``segment_id``) a segment.

    A dynamic segment takes ``criteria`` (``crm.segments``; INVALID_CRITERIA naming the key); a
    static one takes ``account_ids`` (the shop's members; INVALID_INPUT otherwise). Codes:
    NOT_AUTHENTICATED, PERMISSION_DENIED, NOT_FOUND, INVALID_INPUT (also a name the shop uses),
    INVALID_CRITERIA. A dynamic segment's snapshot is taken in the same transaction
    (:func:`segment_snapshot_take`).
    """
    if segment_id is not None:
        segment = _editable(user, segment_id)
    else:
        _require(user, shop_id or 0)
        segment = Segment(shop_id=shop_id or 0, created_by_id=getattr(user, "pk", None))
    _check(name, description, kind)
    cleaned = criteria_clean(criteria or {}) if kind == SegmentKind.DYNAMIC else {}
    members = _members(segment.shop_id, account_ids or []) if kind == SegmentKind.STATIC else []
    segment.name, segment.description, segment.kind, segment.criteria = name.strip(), description, kind, cleaned
    try:
        with transaction.atomic():
            segment.save()
            segment.members.set(members)
            if kind == SegmentKind.STATIC:
                segment.snapshot.clear()
                segment.snapshot_at, segment.snapshot_count = None, 0
                segment.save(update_fields=["snapshot_at", "snapshot_count"])
            else:
                segment_snapshot_take(segment)
    except IntegrityError:
        raise _refuse(CrmErrorCode.INVALID_INPUT, "The shop has a segment of this name.", "name") from None
    return segment


def segment_delete(*, user: AbstractBaseUser | AnonymousUser, segment_id: int) -> int:
    """Delete a segment; returns its former id. Codes: NOT_AUTHENTICATED, NOT_FOUND, SEGMENT_IN_USE
    (an earning rule or a promotion targets it: without it, they would apply to every member)."""
    segment = _editable(user, segment_id)
    # A shop has a handful of rules: read them rather than query JSON, which SQLite cannot index.
    rules = EarningRule.objects.filter(program__shop_id=segment.shop_id).only("name", "segment_ids")
    users = [f"earning rule {rule.name}" for rule in rules if segment.pk in rule.segment_ids]
    users += [reason for _, reason in segment_delete_check.send(sender=Segment, segment=segment) if reason]
    if users:
        raise _refuse(CrmErrorCode.SEGMENT_IN_USE, f"Targeted by: {'; '.join(sorted(users))}.", "segmentId")
    pk = segment.pk
    segment.delete()
    return pk


def segment_snapshot_take(segment: Segment, *, now: dt.datetime | None = None) -> int:
    """Store who matches a dynamic segment's criteria now as its snapshot; returns how many.

    Earning rules read the snapshot, not the live criteria, so that the points of an order never
    depend on when, or in which batch, the worker posts it (docs/crm.md, "Segments in earning
    rules"). Taken when the segment is saved and by the nightly pass (``members_refresh_all``).
    A static segment keeps no snapshot (its list is what rules read): returns its size. Locks the
    segment's row; one read of the matching ids, one delete, inserts of 5,000 rows each.
    """
    now = now or timezone.now()
    if segment.kind == SegmentKind.STATIC:
        return segment.members.count()
    through = Segment.snapshot.through
    with transaction.atomic():
        locked = Segment.objects.select_for_update().get(pk=segment.pk)
        ids = list(segment_members(locked, now=now).values_list("pk", flat=True))
        through.objects.filter(segment_id=locked.pk).delete()
        through.objects.bulk_create([through(segment_id=locked.pk, memberaccount_id=pk) for pk in ids], batch_size=5000)
        locked.snapshot_at, locked.snapshot_count = now, len(ids)
        locked.save(update_fields=["snapshot_at", "snapshot_count"])
    segment.snapshot_at, segment.snapshot_count = now, len(ids)
    return len(ids)


def on_member_segments(sender: Any, *, account_id: int, segment_ids: frozenset[int], **kwargs: Any) -> set[int]:
    """Receiver of ``loyalty.signals.member_segments``: which of ``segment_ids`` the member is in
    (a static segment's list, a dynamic one's snapshot). One query."""
    listed = Segment.members.through.objects.filter(segment_id=OuterRef("pk"), memberaccount_id=account_id)
    snapped = Segment.snapshot.through.objects.filter(segment_id=OuterRef("pk"), memberaccount_id=account_id)
    found = Segment.objects.filter(pk__in=segment_ids).filter(
        Q(Exists(listed), kind=SegmentKind.STATIC) | Q(Exists(snapped), kind=SegmentKind.DYNAMIC)
    )
    return set(found.values_list("pk", flat=True))


def on_segments_check(sender: Any, *, shop_id: int, segment_ids: frozenset[int], **kwargs: Any) -> set[int]:
    """Receiver of ``loyalty.signals.segments_check``: which of ``segment_ids`` are the shop's. One query."""
    return set(Segment.objects.filter(shop_id=shop_id, pk__in=segment_ids).values_list("pk", flat=True))

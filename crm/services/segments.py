"""Creating, changing and deleting a shop's segments, and the members of static ones (``members:write``)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import IntegrityError, transaction

from crm.errors import CrmError, CrmErrorCode
from crm.models import Segment, SegmentKind
from crm.segments import criteria_clean
from loyalty.models import MemberAccount
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
    INVALID_CRITERIA.
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
    except IntegrityError:
        raise _refuse(CrmErrorCode.INVALID_INPUT, "The shop has a segment of this name.", "name") from None
    return segment


def segment_delete(*, user: AbstractBaseUser | AnonymousUser, segment_id: int) -> int:
    """Delete a segment; returns its former id. Codes: NOT_AUTHENTICATED, NOT_FOUND."""
    segment = _editable(user, segment_id)
    pk = segment.pk
    segment.delete()
    return pk

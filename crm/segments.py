"""Segment criteria: validated once, compiled to one SQL filter over a shop's member accounts.

Criteria are a JSON object; every key is optional and they all must hold (AND). The keys, their
values and meaning (docs/crm.md, "Segments", has examples):

=========================  ==================================================================
``tierIds``                list of tier pks: the member's tier is one of them
``statuses``               list of ``active`` / ``inactive`` / ``blocked``
``tagsAny``                list of tags: holds at least one (manual or automatic)
``tagsAll``                list of tags: holds every one
``tagsNone``               list of tags: holds none
``pointsAvailableMin/Max`` integers: available points within the bounds (inclusive)
``lifetimePointsMin/Max``  integers: lifetime points within the bounds
``visitsMin/Max``          integers: visits (delivered orders kept)
``totalSpendMin/Max``      decimal strings: total spend, shop currency
``yearSpendMin/Max``       decimal strings: spend in the current local year
``lastVisitDaysMin``       integer N: has visited, but not within the last N days
``lastVisitDaysMax``       integer N: visited within the last N days
``joinedDaysMin/Max``      integers: enrolled at least / at most N days ago
``consentEmail/Sms/Push``  booleans: the customer's marketing consent is exactly that
``birthdayMonth``          1-12: born in that month (Gregorian)
=========================  ==================================================================

``segment_filter`` turns them into one ``Q`` (joins to the statistics and the customer, tag
conditions as ``EXISTS`` subqueries), so counting a segment of any size is one query.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import Exists, OuterRef, Q

from crm.errors import CrmError, CrmErrorCode
from crm.models import MemberTag
from loyalty.models import MemberStatus

MAX_LIST = 100


def _ints(value: Any) -> list[int]:
    if (
        not isinstance(value, list)
        or len(value) > MAX_LIST
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    ):
        raise ValueError("a list of whole numbers")
    return value


def _strings(value: Any) -> list[str]:
    if (
        not isinstance(value, list)
        or len(value) > MAX_LIST
        or not all(isinstance(v, str) and 0 < len(v) <= 40 for v in value)
    ):
        raise ValueError("a list of short texts")
    return value


def _statuses(value: Any) -> list[str]:
    values = _strings(value)
    if any(v not in MemberStatus.values for v in values):
        raise ValueError(f"statuses among {', '.join(MemberStatus.values)}")
    return values


def _count(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 10**12:
        raise ValueError("a whole number of 0 or more")
    return value


def _money(value: Any) -> str:
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise ValueError('an amount such as "120.00"') from None
    if not amount.is_finite() or amount < 0 or amount >= Decimal("1e12"):
        raise ValueError("an amount of 0 or more")
    return str(amount)


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("true or false")
    return value


def _month(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 12:
        raise ValueError("a month, 1 to 12")
    return value


#: Every criterion: its checker (raises ValueError with what it expects).
CRITERIA: dict[str, Callable[[Any], Any]] = {
    "tierIds": _ints,
    "statuses": _statuses,
    "tagsAny": _strings,
    "tagsAll": _strings,
    "tagsNone": _strings,
    "pointsAvailableMin": _count,
    "pointsAvailableMax": _count,
    "lifetimePointsMin": _count,
    "lifetimePointsMax": _count,
    "visitsMin": _count,
    "visitsMax": _count,
    "totalSpendMin": _money,
    "totalSpendMax": _money,
    "yearSpendMin": _money,
    "yearSpendMax": _money,
    "lastVisitDaysMin": _count,
    "lastVisitDaysMax": _count,
    "joinedDaysMin": _count,
    "joinedDaysMax": _count,
    "consentEmail": _flag,
    "consentSms": _flag,
    "consentPush": _flag,
    "birthdayMonth": _month,
}


def criteria_clean(criteria: Any) -> dict[str, Any]:
    """The criteria checked and normalised (amounts as decimal strings); INVALID_CRITERIA naming the key."""
    if not isinstance(criteria, dict):
        raise CrmError(CrmErrorCode.INVALID_CRITERIA, "Criteria are an object of named conditions.", "criteria")
    cleaned: dict[str, Any] = {}
    for key, value in criteria.items():
        check = CRITERIA.get(key)
        if check is None:
            raise CrmError(CrmErrorCode.INVALID_CRITERIA, f"Unknown criterion {key!r}.", f"criteria.{key}")
        if value is None:
            continue
        try:
            cleaned[key] = check(value)
        except ValueError as error:
            raise CrmError(CrmErrorCode.INVALID_CRITERIA, f"{key} must be {error}.", f"criteria.{key}") from None
    return cleaned


def _bounds(q: Q, criteria: dict[str, Any], key: str, field: str, cast: Callable[[Any], Any] = lambda v: v) -> Q:
    if f"{key}Min" in criteria:
        q &= Q(**{f"{field}__gte": cast(criteria[f"{key}Min"])})
    if f"{key}Max" in criteria:
        q &= Q(**{f"{field}__lte": cast(criteria[f"{key}Max"])})
    return q


def _tagged(tags: list[str]) -> Exists:
    return Exists(MemberTag.objects.filter(account=OuterRef("pk"), tag__in=tags))


def segment_filter(criteria: dict[str, Any], *, now: dt.datetime) -> Q:
    """One ``Q`` over ``MemberAccount`` for cleaned ``criteria`` (see the module docstring) at ``now``."""
    q = Q()
    if "tierIds" in criteria:
        q &= Q(tier_id__in=criteria["tierIds"])
    if "statuses" in criteria:
        q &= Q(status__in=criteria["statuses"])
    if criteria.get("tagsAny"):
        q &= Q(_tagged(criteria["tagsAny"]))
    for tag in criteria.get("tagsAll", []):
        q &= Q(_tagged([tag]))
    if criteria.get("tagsNone"):
        q &= ~Q(_tagged(criteria["tagsNone"]))
    q = _bounds(q, criteria, "pointsAvailable", "points_available")
    q = _bounds(q, criteria, "lifetimePoints", "lifetime_points")
    q = _bounds(q, criteria, "visits", "stats__visits")
    q = _bounds(q, criteria, "totalSpend", "stats__total_spend", Decimal)
    q = _bounds(q, criteria, "yearSpend", "stats__year_spend", Decimal)
    if "lastVisitDaysMin" in criteria:
        q &= Q(stats__last_visit_at__lte=now - dt.timedelta(days=criteria["lastVisitDaysMin"]))
    if "lastVisitDaysMax" in criteria:
        q &= Q(stats__last_visit_at__gte=now - dt.timedelta(days=criteria["lastVisitDaysMax"]))
    if "joinedDaysMin" in criteria:
        q &= Q(enrolled_at__lte=now - dt.timedelta(days=criteria["joinedDaysMin"]))
    if "joinedDaysMax" in criteria:
        q &= Q(enrolled_at__gte=now - dt.timedelta(days=criteria["joinedDaysMax"]))
    for key, field in (
        ("consentEmail", "consent_email"),
        ("consentSms", "consent_sms"),
        ("consentPush", "consent_push"),
    ):
        if key in criteria:
            q &= Q(**{f"customer__{field}": criteria[key]})
    if "birthdayMonth" in criteria:
        q &= Q(customer__birth_date__month=criteria["birthdayMonth"])
    return q

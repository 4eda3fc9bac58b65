"""Owners and managers create, change and delete their program's earning rules (campaigns).

Every call is checked, then validated in full, then written with an audit record, all under a row
lock on the program (``select_for_update``) inside one durable transaction, so that concurrent
edits of one program's rules serialize and a refusal writes nothing. Codes are
:class:`loyalty.errors.LoyaltyErrorCode` values on a :class:`loyalty.errors.LoyaltyError`, whose
``field`` is the camelCase input field as the API spells it.

Units: ``multiplier`` multiplies points (1 to 20, at most 2 decimals); ``bonus_points`` are
points; ``min_order_amount`` is goods in the shop's currency; ``starts_at`` / ``ends_at`` are
aware datetimes (instants); ``days_of_week`` (0 = Monday) and ``start_time`` / ``end_time`` are
read in the shop's time zone when an order is evaluated (``services.rules``).

Changes apply to orders processed after the transaction commits; earnings already posted keep
their points, and their ledger entries keep the rule's id and name in ``applied_rules``, also
after the rule is deleted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TypeGuard, cast

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction

from loyalty.errors import LoyaltyError, LoyaltyErrorCode
from loyalty.models import EarningRule, LoyaltyProgram, RuleKind, Tier
from loyalty.services.editing import (
    UNSET,
    PartialInput,
    audit_record,
    audit_text,
    camel,
    can_edit,
    decimal_between,
    invalid,
    require_editor,
)
from loyalty.services.rules import shop_segments
from marketplace.models import MONEY_DIGITS, MONEY_PLACES, Category

MAX_NAME_LENGTH = 200
MAX_MULTIPLIER = Decimal(20)
MAX_BONUS_POINTS = 1_000_000
MAX_PRIORITY = 1000
MAX_MONEY = Decimal(10) ** (MONEY_DIGITS - MONEY_PLACES)
_CENT = Decimal("0.01")


@dataclass(frozen=True)
class EarningRuleData(PartialInput):
    """A rule's settings as an owner sends them; only fields not left as ``UNSET`` are given.

    On create, ``name`` and ``kind`` are required and the other fields default to: no
    multiplier / bonus (per ``kind``), no dates, every day, all day, all categories, all tiers,
    no minimum, priority 0, stackable, active. On update the given fields replace the stored
    ones and the merged rule is validated as a new one would be: nothing is cleared implicitly,
    so switching ``kind`` also needs the other kind's field sent as ``None`` (e.g. to
    ``fixed_bonus``: ``bonus_points=50, multiplier=None``). ``None`` for ``days_of_week``,
    ``category_slugs`` or ``tier_ids`` means the empty list (no such condition).
    ``tier_ids`` are primary keys of tiers of the rule's program; ``segment_ids`` of the shop's
    segments (crm; answered through ``loyalty.signals.segments_check``).
    """

    name: str | object = UNSET
    kind: str | object = UNSET
    multiplier: Decimal | object | None = UNSET
    bonus_points: int | object | None = UNSET
    starts_at: dt.datetime | object | None = UNSET
    ends_at: dt.datetime | object | None = UNSET
    days_of_week: Sequence[int] | object | None = UNSET
    start_time: dt.time | object | None = UNSET
    end_time: dt.time | object | None = UNSET
    category_slugs: Sequence[str] | object | None = UNSET
    tier_ids: Sequence[int] | object | None = UNSET
    segment_ids: Sequence[int] | object | None = UNSET
    min_order_amount: Decimal | object | None = UNSET
    priority: int | object = UNSET
    stackable: bool | object = UNSET
    active: bool | object = UNSET


#: What a new rule holds for each field its creator leaves out (``name`` and ``kind`` have none).
_DEFAULTS: dict[str, object] = {
    "multiplier": None,
    "bonus_points": None,
    "starts_at": None,
    "ends_at": None,
    "days_of_week": [],
    "start_time": None,
    "end_time": None,
    "category_slugs": [],
    "tier_ids": [],
    "segment_ids": [],
    "min_order_amount": None,
    "priority": 0,
    "stackable": True,
    "active": True,
}

#: Model fields written as plain columns (the rest are the two many-to-many relations).
_COLUMNS = (
    "name",
    "kind",
    "multiplier",
    "bonus_points",
    "starts_at",
    "ends_at",
    "days_of_week",
    "start_time",
    "end_time",
    "segment_ids",
    "min_order_amount",
    "priority",
    "stackable",
    "active",
)


@dataclass(frozen=True)
class _Clean:
    """A validated rule: normalised column values and the category and tier rows."""

    columns: dict[str, object]
    categories: list[Category]
    tiers: list[Tier]


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _all_str(values: Sequence[object]) -> TypeGuard[Sequence[str]]:
    return all(isinstance(value, str) for value in values)


def _all_int(values: Sequence[object]) -> TypeGuard[Sequence[int]]:
    return all(_is_int(value) for value in values)


def _aware(value: object, field: str) -> dt.datetime | None:
    if value is None:
        return None
    if not isinstance(value, dt.datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise invalid("Give a date and time with a time zone offset, e.g. 2026-11-27T00:00:00-05:00.", field)
    return value


def _local_time(value: object, field: str) -> dt.time | None:
    if value is None:
        return None
    if not isinstance(value, dt.time) or value.tzinfo is not None:
        raise invalid("Give a local time of day without an offset (read in the shop's time zone).", field)
    return value


def _validate(values: dict[str, object], program: LoyaltyProgram) -> _Clean:
    """Check a whole rule (fields in API order) and return it normalised; the first fault raises.

    Reads the named categories (global, by slug), the program's tiers and, when any are named,
    the shop's segments; writes nothing.
    """
    name = values.get("name", UNSET)
    if name is UNSET:
        raise invalid("A name is required.", "name")
    if not isinstance(name, str) or not 1 <= len(name.strip()) <= MAX_NAME_LENGTH:
        raise invalid(f"The name must be 1 to {MAX_NAME_LENGTH} characters.", "name")
    kind = values.get("kind", UNSET)
    if kind not in RuleKind.values:
        raise invalid("The kind must be multiplier or fixed_bonus.", "kind")
    multiplier = values["multiplier"]
    if multiplier is not None:
        multiplier = decimal_between(
            multiplier,
            field="multiplier",
            low=Decimal(1),
            high=MAX_MULTIPLIER,
            message=f"The multiplier must be 1 to {MAX_MULTIPLIER} with at most 2 decimals.",
        )
    bonus_points = values["bonus_points"]
    if bonus_points is not None and (not _is_int(bonus_points) or not 1 <= bonus_points <= MAX_BONUS_POINTS):
        raise invalid(f"Bonus points must be 1 to {MAX_BONUS_POINTS:,}.", "bonusPoints")
    if kind == RuleKind.MULTIPLIER:
        if multiplier is None:
            raise invalid("A multiplier rule needs a multiplier (1 to 20).", "multiplier")
        if bonus_points is not None:
            raise invalid("A multiplier rule has no bonus points: send bonusPoints as null.", "bonusPoints")
    else:
        if bonus_points is None:
            raise invalid("A fixed bonus rule needs bonus points (1 to 1,000,000).", "bonusPoints")
        if multiplier is not None:
            raise invalid("A fixed bonus rule has no multiplier: send multiplier as null.", "multiplier")
    starts_at = _aware(values["starts_at"], "startsAt")
    ends_at = _aware(values["ends_at"], "endsAt")
    if starts_at is not None and ends_at is not None and not starts_at < ends_at:
        raise invalid("The rule must end after it starts.", "endsAt")
    days = values["days_of_week"] or []
    if (
        isinstance(days, str | bytes)
        or not isinstance(days, Sequence)
        or not all(_is_int(day) and 0 <= day <= 6 for day in days)
    ):
        raise invalid("Weekdays are numbers 0 (Monday) to 6 (Sunday).", "daysOfWeek")
    if len(set(days)) != len(days):
        raise invalid("A weekday is listed twice.", "daysOfWeek")
    start_time = _local_time(values["start_time"], "startTime")
    end_time = _local_time(values["end_time"], "endTime")
    if start_time is None and end_time is not None:
        raise invalid("Give the start time too, or neither.", "startTime")
    if start_time is not None and end_time is None:
        raise invalid("Give the end time too, or neither.", "endTime")
    if start_time is not None and end_time is not None and not start_time < end_time:
        raise invalid("The end time must be after the start time on the same day.", "endTime")
    minimum = values["min_order_amount"]
    if minimum is not None:
        minimum = decimal_between(
            minimum,
            field="minOrderAmount",
            low=Decimal(0),
            high=MAX_MONEY - _CENT,
            message="The minimum order amount must be zero or more with at most 2 decimals.",
        )
    priority = values["priority"]
    if not _is_int(priority) or not -MAX_PRIORITY <= priority <= MAX_PRIORITY:
        raise invalid(f"The priority must be {-MAX_PRIORITY} to {MAX_PRIORITY}.", "priority")
    for flag in ("stackable", "active"):
        if not isinstance(values[flag], bool):
            raise invalid(f"{flag} must be true or false.", flag)
    # Given as a Sequence[str] | None (EarningRuleData) or stored/defaulted as a list; the items are checked here.
    slugs = cast("Sequence[object]", values["category_slugs"] or [])
    if isinstance(slugs, str | bytes) or not _all_str(slugs):
        raise invalid("Categories are given by their slugs.", "categorySlugs")
    categories = list(Category.objects.filter(slug__in=set(slugs)).order_by("slug"))
    unknown = sorted(set(slugs) - {category.slug for category in categories})
    if unknown:
        raise invalid(f"Unknown categories: {', '.join(unknown)}.", "categorySlugs")
    # As for the slugs: a Sequence[int] | None as given, a list as stored or defaulted; the items are checked here.
    tier_ids = cast("Sequence[object]", values["tier_ids"] or [])
    if isinstance(tier_ids, str | bytes) or not _all_int(tier_ids):
        raise invalid("Tiers are given by their ids.", "tierIds")
    tiers = list(Tier.objects.filter(program=program, pk__in=set(tier_ids)).order_by("position"))
    if len(tiers) != len(set(tier_ids)):
        raise invalid("Every tier must be one of this program's tiers.", "tierIds")
    segment_ids = cast("Sequence[object]", values["segment_ids"] or [])
    if isinstance(segment_ids, str | bytes) or not _all_int(segment_ids):
        raise invalid("Segments are given by their ids.", "segmentIds")
    if segment_ids and shop_segments(program.shop_id, segment_ids) != set(segment_ids):
        raise invalid("Every segment must be one of this shop's segments.", "segmentIds")
    columns = {
        "name": name.strip(),
        "kind": kind,
        "multiplier": multiplier,
        "bonus_points": bonus_points,
        "starts_at": starts_at,
        "ends_at": ends_at,
        "days_of_week": sorted(days),
        "start_time": start_time,
        "end_time": end_time,
        "segment_ids": sorted(set(segment_ids)),
        "min_order_amount": minimum,
        "priority": priority,
        "stackable": values["stackable"],
        "active": values["active"],
    }
    return _Clean(columns=columns, categories=categories, tiers=tiers)


def _stored(rule: EarningRule) -> dict[str, object]:
    """A stored rule in the service's terms (categories by slug, tiers by id)."""
    values = {name: getattr(rule, name) for name in _COLUMNS}
    values["category_slugs"] = [category.slug for category in rule.categories.all()]
    values["tier_ids"] = [tier.pk for tier in rule.tiers.all()]
    return values


def _audit_values(rule: EarningRule) -> dict[str, str | None]:
    """The rule as audit texts, keyed as the API's ``EarningRule`` fields (tiers by name)."""
    values = {camel(name): audit_text(getattr(rule, name)) for name in _COLUMNS}
    values["categorySlugs"] = audit_text(sorted(category.slug for category in rule.categories.all()))
    values["tiers"] = audit_text([tier.name for tier in sorted(rule.tiers.all(), key=lambda tier: tier.position)])
    return values


def _audit(
    *,
    program: LoyaltyProgram,
    user: AbstractBaseUser | AnonymousUser,
    rule_id: int,
    old: dict[str, str | None],
    new: EarningRule,
) -> None:
    """One ``ProgramChange`` with every field whose text changed (none written when nothing did)."""
    after = _audit_values(new)
    changes = {
        f"earningRule[{rule_id}].{key}": {"old": old.get(key), "new": value}
        for key, value in after.items()
        if old.get(key) != value
    }
    audit_record(program=program, user=user, changes=changes)


def _reload(rule_id: int) -> EarningRule:
    return EarningRule.objects.prefetch_related("categories", "tiers").get(pk=rule_id)


def _require_login(user: AbstractBaseUser | AnonymousUser) -> None:
    if not user.is_authenticated:
        raise LoyaltyError(LoyaltyErrorCode.NOT_AUTHENTICATED, "Log in first.")


def _editable_program_id(user: AbstractBaseUser | AnonymousUser, rule_id: int) -> int:
    """The program of a rule ``user`` may edit; an unknown rule or another shop's is NOT_FOUND ("id")."""
    _require_login(user)
    found = EarningRule.objects.filter(pk=rule_id).values_list("program_id", "program__shop_id").first()
    if found is None or not can_edit(user, shop_id=found[1]):
        raise LoyaltyError(LoyaltyErrorCode.NOT_FOUND, "No such earning rule.", "id")
    return found[0]


def _locked_rule(program_id: int, rule_id: int) -> tuple[LoyaltyProgram, EarningRule]:
    """Lock the program row, then read the rule (NOT_FOUND when it went in the meantime)."""
    program = LoyaltyProgram.objects.select_for_update().get(pk=program_id)
    rule = EarningRule.objects.prefetch_related("categories", "tiers").filter(pk=rule_id, program=program).first()
    if rule is None:
        raise LoyaltyError(LoyaltyErrorCode.NOT_FOUND, "No such earning rule.", "id")
    return program, rule


def earning_rule_create(*, user: AbstractBaseUser | AnonymousUser, shop_id: int, data: EarningRuleData) -> EarningRule:
    """Add an earning rule to the shop's program (its owner or manager) and audit it.

    Units and defaults: see :class:`EarningRuleData` and the module docstring. Codes:
    NOT_AUTHENTICATED; PERMISSION_DENIED ("shopId") for anyone but the shop's owner or manager;
    NOT_FOUND ("shopId") when the shop runs no program; INVALID_INPUT with the field. Validates
    everything before writing, under ``select_for_update`` on the program in a durable
    transaction; writes the rule and one ``ProgramChange`` (every field that holds a value, with
    old ``None``). The rule applies to orders processed after commit.
    """
    require_editor(user, shop_id=shop_id, what="earning rules")
    with transaction.atomic(durable=True):
        program = LoyaltyProgram.objects.select_for_update().filter(shop_id=shop_id).first()
        if program is None:
            raise LoyaltyError(LoyaltyErrorCode.NOT_FOUND, "This shop runs no loyalty program.", "shopId")
        clean = _validate({**_DEFAULTS, **data.given()}, program)
        rule = EarningRule.objects.create(program=program, **clean.columns)
        rule.categories.set(clean.categories)
        rule.tiers.set(clean.tiers)
        rule = _reload(rule.pk)
        _audit(program=program, user=user, rule_id=rule.pk, old={}, new=rule)
    return rule


def earning_rule_update(*, user: AbstractBaseUser | AnonymousUser, rule_id: int, data: EarningRuleData) -> EarningRule:
    """Change the given fields of a rule (owner or manager of its shop) and audit what changed.

    Partial: fields left ``UNSET`` keep their value; the merged rule must pass every check of
    :func:`earning_rule_create` (nothing is cleared implicitly, see :class:`EarningRuleData`).
    Codes: NOT_AUTHENTICATED; NOT_FOUND ("id") for an unknown rule or one of a shop where the
    caller is not owner or manager (so other shops' ids reveal nothing); INVALID_INPUT with the
    field. Locks the program row (``select_for_update``) in a durable transaction, re-reads the
    rule under the lock, validates, writes, and records one ``ProgramChange`` with each changed
    field (none when nothing changed). Orders processed after commit see the new rule; points
    already posted stay as they are.
    """
    program_id = _editable_program_id(user, rule_id)
    with transaction.atomic(durable=True):
        program, rule = _locked_rule(program_id, rule_id)
        old = _audit_values(rule)
        clean = _validate({**_stored(rule), **data.given()}, program)
        changed = [name for name, value in clean.columns.items() if getattr(rule, name) != value]
        for name in changed:
            setattr(rule, name, clean.columns[name])
        if changed:
            rule.save(update_fields=changed)
        if "category_slugs" in data.given():
            rule.categories.set(clean.categories)
        if "tier_ids" in data.given():
            rule.tiers.set(clean.tiers)
        rule = _reload(rule.pk)
        _audit(program=program, user=user, rule_id=rule.pk, old=old, new=rule)
    return rule


def earning_rule_delete(*, user: AbstractBaseUser | AnonymousUser, rule_id: int) -> int:
    """Delete a rule for good (owner or manager of its shop) and return its id.

    Ledger entries that it contributed to keep its id and name in ``applied_rules``, so history
    reads the same; orders processed after commit no longer get it (to pause a campaign, set
    ``active`` false instead). Codes: NOT_AUTHENTICATED; NOT_FOUND ("id") as in
    :func:`earning_rule_update`. Locks the program row in a durable transaction and records one
    ``ProgramChange`` ``{"earningRule[<id>]": {"old": <name>, "new": None}}``.
    """
    program_id = _editable_program_id(user, rule_id)
    with transaction.atomic(durable=True):
        program, rule = _locked_rule(program_id, rule_id)
        name = rule.name
        rule.delete()
        audit_record(program=program, user=user, changes={f"earningRule[{rule_id}]": {"old": name, "new": None}})
    return rule_id

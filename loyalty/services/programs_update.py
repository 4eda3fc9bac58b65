"""Owners and managers tune their program; every change is validated and audited."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import cast

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import models, transaction

from loyalty.errors import LoyaltyError, LoyaltyErrorCode
from loyalty.models import LoyaltyProgram, MemberAccount, TierBasis, TierWindow
from loyalty.services.editing import UNSET, PartialInput, audit_record, audit_text, camel, invalid, require_editor


@dataclass(frozen=True)
class ProgramSettings(PartialInput):
    """A partial update: only fields not left as ``UNSET`` change. Money in the shop's currency."""

    points_per_currency_unit: Decimal | object = UNSET
    minimum_order_amount: Decimal | object = UNSET
    pending_days: int | object | None = UNSET
    expiry_months: int | object | None = UNSET
    tier_basis: str | object = UNSET
    tier_window: str | object = UNSET
    downgrade_policy: str | object = UNSET
    downgrade_grace_days: int | object = UNSET
    welcome_bonus_points: int | object = UNSET
    birthday_bonus_points: int | object = UNSET
    point_value: Decimal | object = UNSET
    points_payment_max_percent: Decimal | object = UNSET
    points_payment_min_points: int | object = UNSET
    active: bool | object = UNSET


#: field -> (check, message) run on the new value; ``None`` passes where the field allows it.
_RULES = {
    "points_per_currency_unit": (lambda v: Decimal(0) <= v <= Decimal(1000), "must be 0 to 1000 points per unit"),
    "minimum_order_amount": (lambda v: Decimal(0) <= v <= Decimal(10_000_000), "must be 0 to 10,000,000"),
    "pending_days": (lambda v: v is None or 0 <= v <= 365, "must be 0 to 365 days, or empty for the return window"),
    "expiry_months": (lambda v: v is None or 1 <= v <= 120, "must be 1 to 120 months, or empty for never"),
    "tier_basis": (lambda v: v in TierBasis.values, "must be spend or points"),
    "tier_window": (lambda v: v in TierWindow.values, "must be lifetime, calendar_year or rolling_12_months"),
    "downgrade_policy": (lambda v: v in ("never", "requalification"), "must be never or requalification"),
    "downgrade_grace_days": (lambda v: 0 <= v <= 365, "must be 0 to 365 days"),
    "welcome_bonus_points": (lambda v: 0 <= v <= 1_000_000, "must be 0 to 1,000,000 points"),
    "birthday_bonus_points": (lambda v: 0 <= v <= 1_000_000, "must be 0 to 1,000,000 points"),
    "point_value": (lambda v: Decimal(0) <= v <= Decimal(1000), "must be 0 to 1000 per point"),
    "points_payment_max_percent": (lambda v: Decimal(0) <= v <= Decimal(100), "must be 0 to 100 percent"),
    "points_payment_min_points": (lambda v: 0 <= v <= 1_000_000_000, "must be 0 to 1,000,000,000 points"),
    "active": (lambda v: isinstance(v, bool), "must be true or false"),
}


#: Settings that say what the members' cached qualifying values mean: they may change only while
#: the program has no members (a switch would mix money and points, or windows, in one figure).
_QUALIFYING_SETTINGS = ("tier_basis", "tier_window")


def _places_ok(name: str, value: object) -> bool:
    """Whether a decimal setting fits its column's decimal places (so nothing is rounded silently)."""
    if not isinstance(value, Decimal):
        return True
    # Every setting whose rule accepts a Decimal is a DecimalField (see _RULES); get_field() is typed
    # for any field or relation.
    places = cast(models.DecimalField, LoyaltyProgram._meta.get_field(name)).decimal_places
    return value == value.quantize(Decimal(1).scaleb(-places))


def _check(name: str, value: object) -> None:
    """Raise ``INVALID_INPUT`` on the camelCase field unless ``value`` passes the field's rule."""
    check, message = _RULES[name]
    try:
        ok = check(value) and _places_ok(name, value)
    except (TypeError, ArithmeticError):
        ok = False
    if not ok:
        raise invalid(f"{camel(name)} {message}.", camel(name))


def _check_qualifying_change(program: LoyaltyProgram, given: dict[str, object]) -> None:
    """Refuse a change of tier basis or window once members exist; a switch to the points basis
    needs whole-point thresholds (the rule ``tier_admin`` applies to new tiers)."""
    changing = [name for name in _QUALIFYING_SETTINGS if name in given and given[name] != getattr(program, name)]
    if not changing:
        return
    if MemberAccount.objects.filter(program=program).exists():
        field = camel(changing[0])
        raise invalid(
            f"{field} cannot change once the program has members: their qualifying values are kept in the "
            "current basis and window. Start a new program instead.",
            field,
        )
    if given.get("tier_basis") == TierBasis.POINTS and any(
        threshold != threshold.to_integral_value() for threshold in program.tiers.values_list("threshold", flat=True)
    ):
        raise invalid("tierBasis points needs whole-point tier thresholds; round the thresholds first.", "tierBasis")


def program_update(
    *, user: AbstractBaseUser | AnonymousUser, shop_id: int, settings: ProgramSettings
) -> LoyaltyProgram:
    """Change the shop's program settings (owner or manager) and write one audit record.

    Validates every given field before writing; a refusal changes nothing. Decimals must fit
    their column (4 places for the rate, 2 for money, 6 for the point value) rather than be
    rounded; the tier basis and window change only while the program has no members. Codes (on
    ``LoyaltyError``): NOT_AUTHENTICATED, PERMISSION_DENIED, NOT_FOUND (no program),
    INVALID_INPUT with the camelCase field. Changes take effect for events processed after
    commit (earnings already posted keep their points). Locks the program row.
    """
    require_editor(user, shop_id=shop_id, what="program")
    given = settings.given()
    for name, value in given.items():
        _check(name, value)
    with transaction.atomic(durable=True):
        program = LoyaltyProgram.objects.select_for_update().filter(shop_id=shop_id).first()
        if program is None:
            raise LoyaltyError(LoyaltyErrorCode.NOT_FOUND, "This shop runs no loyalty program.", "shopId")
        _check_qualifying_change(program, given)
        old = {name: getattr(program, name) for name in given}
        for name, value in given.items():
            setattr(program, name, value)
        program.save(update_fields=list(given))
        program.refresh_from_db()  # audit and answer with the stored values (e.g. 2.5 -> 2.5000)
        changes = {
            camel(name): {"old": audit_text(old[name]), "new": audit_text(getattr(program, name))}
            for name in given
            if old[name] != getattr(program, name)
        }
        audit_record(program=program, user=user, changes=changes)
    return program

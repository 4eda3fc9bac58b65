"""Owners and managers tune their program; every change is validated and audited."""

from __future__ import annotations

from dataclasses import dataclass, fields
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction

from loyalty.errors import LedgerError, LedgerErrorCode
from loyalty.models import LoyaltyProgram, ProgramChange, TierBasis, TierWindow
from marketplace.models import StaffRole
from marketplace.selectors import staff_role

EDITORS = (StaffRole.OWNER, StaffRole.MANAGER)
_UNSET = object()


@dataclass(frozen=True)
class ProgramSettings:
    """A partial update: only fields not left as ``UNSET`` change. Money in the shop's currency."""

    points_per_currency_unit: Decimal | object = _UNSET
    minimum_order_amount: Decimal | object = _UNSET
    pending_days: int | object | None = _UNSET
    expiry_months: int | object | None = _UNSET
    tier_basis: str | object = _UNSET
    tier_window: str | object = _UNSET
    downgrade_policy: str | object = _UNSET
    downgrade_grace_days: int | object = _UNSET
    welcome_bonus_points: int | object = _UNSET
    birthday_bonus_points: int | object = _UNSET
    point_value: Decimal | object = _UNSET
    active: bool | object = _UNSET

    def given(self) -> dict[str, object]:
        """The fields this update sets."""
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not _UNSET}


UNSET = _UNSET

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
    "active": (lambda v: isinstance(v, bool), "must be true or false"),
}


def _text(value: object) -> str | None:
    """An audit value as text (``None`` stays ``None``)."""
    return None if value is None else str(value)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def program_update(
    *, user: AbstractBaseUser | AnonymousUser, shop_id: int, settings: ProgramSettings
) -> LoyaltyProgram:
    """Change the shop's program settings (owner or manager) and write one audit record.

    Validates every given field before writing; a refusal changes nothing. Codes (on
    ``LedgerError``): NOT_AUTHENTICATED, PERMISSION_DENIED, NOT_FOUND (no program),
    INVALID_INPUT with the camelCase field. Changes take effect for events processed after
    commit (earnings already posted keep their points). Locks the program row.
    """
    if not user.is_authenticated:
        raise LedgerError(LedgerErrorCode.NOT_AUTHENTICATED, "Log in first.")
    if staff_role(user=user, shop_id=shop_id) not in EDITORS:
        raise LedgerError(
            LedgerErrorCode.PERMISSION_DENIED, "Only the shop's owner or manager tune its program.", "shopId"
        )
    given = settings.given()
    for name, value in given.items():
        check, message = _RULES[name]
        try:
            ok = check(value)
        except (TypeError, ArithmeticError):
            ok = False
        if not ok:
            raise LedgerError(LedgerErrorCode.INVALID_INPUT, f"{_camel(name)} {message}.", _camel(name))
    with transaction.atomic(durable=True):
        program = LoyaltyProgram.objects.select_for_update().filter(shop_id=shop_id).first()
        if program is None:
            raise LedgerError(LedgerErrorCode.NOT_FOUND, "This shop runs no loyalty program.", "shopId")
        old = {name: getattr(program, name) for name in given}
        for name, value in given.items():
            setattr(program, name, value)
        program.save(update_fields=list(given))
        program.refresh_from_db()  # audit and answer with the stored values (e.g. 2.5 -> 2.5000)
        changes = {
            _camel(name): {"old": _text(old[name]), "new": _text(getattr(program, name))}
            for name in given
            if old[name] != getattr(program, name)
        }
        if changes:
            ProgramChange.objects.create(program=program, changed_by=user, changes=changes)
    return program

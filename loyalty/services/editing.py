"""What the console's edit services share: partial inputs, the editor check, validation and audit.

``program_update``, the tier ladder (``tier_admin``) and earning rules (``rules_admin``) all take
partial inputs (fields left as :data:`UNSET` are not given), let only the shop's owner or manager
write, refuse bad values with ``INVALID_INPUT`` naming the camelCase field, and record every
effective change in one ``ProgramChange`` audit row of ``{"key": {"old": text, "new": text}}``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import fields
from decimal import Decimal, InvalidOperation

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from loyalty.errors import LedgerError, LedgerErrorCode
from loyalty.models import LoyaltyProgram, ProgramChange
from marketplace.models import StaffRole
from marketplace.selectors import staff_role

#: Roles that tune a program: its settings, tiers and earning rules.
EDITORS = (StaffRole.OWNER, StaffRole.MANAGER)
#: The "not given" marker of partial inputs (``None`` is a value: "clear it").
UNSET: object = object()
_CENT = Decimal("0.01")


class PartialInput:
    """Mixin of the partial-input dataclasses: :meth:`given` lists the fields the caller set."""

    def given(self) -> dict[str, object]:
        """The fields set (not :data:`UNSET`), by name."""
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not UNSET}  # type: ignore[arg-type]


def invalid(message: str, field: str) -> LedgerError:
    """An ``INVALID_INPUT`` refusal naming the camelCase input ``field``."""
    return LedgerError(LedgerErrorCode.INVALID_INPUT, message, field)


def require_editor(user: AbstractBaseUser | AnonymousUser, *, shop_id: int, what: str) -> None:
    """Raise NOT_AUTHENTICATED for an anonymous caller, PERMISSION_DENIED ("shopId") unless owner or manager.

    ``what`` completes "Only the shop's owner or manager edit its ..." in the message.
    """
    if not user.is_authenticated:
        raise LedgerError(LedgerErrorCode.NOT_AUTHENTICATED, "Log in first.")
    if staff_role(user=user, shop_id=shop_id) not in EDITORS:
        raise LedgerError(
            LedgerErrorCode.PERMISSION_DENIED, f"Only the shop's owner or manager edit its {what}.", "shopId"
        )


def decimal_between(value: object, *, field: str, low: Decimal, high: Decimal, message: str) -> Decimal:
    """``value`` (Decimal, int or numeric text) as a finite Decimal in ``[low, high]`` with at most 2 decimals.

    Raises ``INVALID_INPUT`` on ``field`` with ``message`` otherwise (booleans and floats are refused).
    """
    if isinstance(value, bool | float):
        raise invalid(message, field)
    try:
        number = Decimal(value) if isinstance(value, int | str) else value
        ok = isinstance(number, Decimal) and number.is_finite() and low <= number <= high
        ok = ok and number == number.quantize(_CENT)  # type: ignore[union-attr]
    except (InvalidOperation, TypeError, ValueError):
        ok = False
    if not ok:
        raise invalid(message, field)
    return number  # type: ignore[return-value]


def camel(name: str) -> str:
    """A Python field name as the API spells it: ``min_order_amount`` -> ``minOrderAmount``."""
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def audit_text(value: object) -> str | None:
    """A value as audit text: ``None`` and empty lists stay ``None``; times in ISO 8601; lists joined."""
    if value is None or value == []:
        return None
    if isinstance(value, dt.datetime | dt.time):
        return value.isoformat()
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return str(value)


def audit_record(
    *, program: LoyaltyProgram, user: AbstractBaseUser, changes: dict[str, dict[str, str | None]]
) -> ProgramChange | None:
    """Write one audit row of ``changes`` (who and when added here); nothing when nothing changed."""
    if not changes:
        return None
    return ProgramChange.objects.create(program=program, changed_by=user, changes=changes)

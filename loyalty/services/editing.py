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
from typing import cast

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User

from loyalty.errors import LoyaltyError, LoyaltyErrorCode
from loyalty.models import LoyaltyProgram, ProgramChange
from marketplace.permissions import Capability, has_capability

#: The "not given" marker of partial inputs (``None`` is a value: "clear it").
UNSET: object = object()
_CENT = Decimal("0.01")


class PartialInput:
    """Mixin of the partial-input dataclasses: :meth:`given` lists the fields the caller set."""

    def given(self) -> dict[str, object]:
        """The fields set (not :data:`UNSET`), by name."""
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not UNSET}  # type: ignore[arg-type]


def invalid(message: str, field: str) -> LoyaltyError:
    """An ``INVALID_INPUT`` refusal naming the camelCase input ``field``."""
    return LoyaltyError(LoyaltyErrorCode.INVALID_INPUT, message, field)


def can_edit(user: AbstractBaseUser | AnonymousUser, *, shop_id: int) -> bool:
    """Whether ``user`` may tune the shop's program (``Capability.EDIT_PROGRAM``; one query)."""
    return has_capability(user=user, shop_id=shop_id, capability=Capability.EDIT_PROGRAM)


def require_editor(user: AbstractBaseUser | AnonymousUser, *, shop_id: int, what: str) -> None:
    """Raise NOT_AUTHENTICATED for an anonymous caller, PERMISSION_DENIED ("shopId") unless owner or manager.

    ``what`` completes "Only the shop's owner or manager edit its ..." in the message.
    """
    if not user.is_authenticated:
        raise LoyaltyError(LoyaltyErrorCode.NOT_AUTHENTICATED, "Log in first.")
    if not can_edit(user, shop_id=shop_id):
        raise LoyaltyError(
            LoyaltyErrorCode.PERMISSION_DENIED, f"Only the shop's owner or manager edit its {what}.", "shopId"
        )


def decimal_between(value: object, *, field: str, low: Decimal, high: Decimal, message: str) -> Decimal:
    """``value`` (Decimal, int or numeric text) as a finite Decimal in ``[low, high]`` with at most 2 decimals.

    Raises ``INVALID_INPUT`` on ``field`` with ``message`` otherwise (booleans and floats are refused).
    """
    if isinstance(value, bool | float):
        raise invalid(message, field)
    try:
        number = Decimal(value) if isinstance(value, int | str) else value
        if (
            isinstance(number, Decimal)
            and number.is_finite()
            and low <= number <= high
            and number == number.quantize(_CENT)
        ):
            return number
    except (InvalidOperation, TypeError, ValueError):
        pass
    raise invalid(message, field)


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
    *, program: LoyaltyProgram, user: AbstractBaseUser | AnonymousUser, changes: dict[str, dict[str, str | None]]
) -> ProgramChange | None:
    """Write one audit row of ``changes`` (who and when added here); nothing when nothing changed.

    ``user`` has passed :func:`require_editor` (or ``can_edit``), so it is a logged-in user.
    """
    if not changes:
        return None
    # Every caller checked the editor first, so ``user`` is authenticated, i.e. a row of
    # AUTH_USER_MODEL (auth.User); the request's user is typed more widely than that.
    return ProgramChange.objects.create(program=program, changed_by=cast(User, user), changes=changes)

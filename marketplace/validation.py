"""Text input checked against the column it ends in, for every app's services.

The API refuses NUL characters and malformed scalars before any resolver runs
(``api_core.input_guard``), but services are called by the importer and the workers too, so the
services check what they store: :func:`text_problem` says why a text does not fit its column
(too long once a service's own prefix is added, or holding a NUL character PostgreSQL cannot
store), and each service raises its own domain error (code ``INVALID_INPUT``) with the input's
field name.

:func:`refuse_unstorable` is the last guard behind those checks: connected to ``pre_save`` for
every model, it refuses a row whose text would not fit its column (or whose decimal would not
fit ``numeric(max_digits, decimal_places)``) with an ``InputError`` instead of letting the
database raise. Services run their writes in one transaction, so the refusal writes nothing.
"""

from __future__ import annotations

import enum
from decimal import Decimal
from typing import Any

from django.db import models

from marketplace.errors import DomainError

NUL = "\x00"


class InputErrorCode(enum.Enum):
    """The code of a value no column can hold; matched by value into each app's error enum."""

    INVALID_INPUT = "INVALID_INPUT"


class InputError(DomainError):
    """A value that would not fit its column (``code`` INVALID_INPUT): nothing was written."""


def column_length(model: type[models.Model], column: str) -> int:
    """``max_length`` of the text field ``column`` of ``model`` (characters)."""
    length = model._meta.get_field(column).max_length  # type: ignore[union-attr]
    assert length is not None, f"{model.__name__}.{column} has no max_length"
    return int(length)


def text_problem(value: str, *, model: type[models.Model], column: str, reserve: int = 0) -> str | None:
    """Why ``value`` cannot be stored in ``model.column``, or ``None`` when it fits.

    ``reserve`` is the number of characters the service adds around the value (a prefix such
    as ``"Adjusted by staff: "``), so the value may have ``max_length - reserve`` characters.
    """
    if NUL in value:
        return "Text may not contain the NUL character."
    limit = column_length(model, column) - reserve
    if len(value) > limit:
        return f"At most {limit} characters."
    return None


def refuse_unstorable(sender: type[models.Model], instance: models.Model, raw: bool = False, **_: Any) -> None:
    """``pre_save`` receiver: raise :class:`InputError` for a text or decimal the row's column cannot hold.

    ``field`` of the error is the camelCase name of the model field (the service's own checks
    name the input more precisely; this guard only keeps the database from raising).
    """
    if raw:
        return
    for field in sender._meta.concrete_fields:
        value = getattr(instance, field.attname, None)
        name = _camel(field.name)
        if isinstance(value, str):
            if NUL in value:
                raise InputError(InputErrorCode.INVALID_INPUT, "Text may not contain the NUL character.", name)
            if field.max_length is not None and len(value) > field.max_length:
                raise InputError(InputErrorCode.INVALID_INPUT, f"At most {field.max_length} characters.", name)
        elif isinstance(value, Decimal) and isinstance(field, models.DecimalField) and not _decimal_fits(value, field):
            raise InputError(InputErrorCode.INVALID_INPUT, "The number is out of range.", name)


def _decimal_fits(value: Decimal, field: models.DecimalField) -> bool:
    if not value.is_finite():
        return False
    if field.max_digits is None or field.decimal_places is None:
        return True
    return abs(value) < Decimal(10) ** (field.max_digits - field.decimal_places)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)

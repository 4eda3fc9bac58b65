"""A cheaper field for plain model columns on the hot read paths (the member dashboard).

strawberry-django marks every field of a ``strawberry_django.type`` as "not basic", so each one,
even ``points: int``, is resolved through strawberry's full resolver chain: an ``Info`` object,
argument conversion, the field-extension chain and strawberry-django's resolver, about 10 µs
per value. A member dashboard of 20 accounts resolves some 600 such values. :func:`column`
declares a field that strawberry treats as basic (read straight from the row) as long as it has
no resolver, no field extension and is not a relation; anything else behaves exactly as
``strawberry_django.field``. The optimizer still sees the field (its joins and prefetches come
from the types, not from the resolver), and the schema is unchanged.
"""

from __future__ import annotations

from typing import Any

import strawberry_django
from django.db import models
from strawberry.types import Info
from strawberry_django.fields.field import StrawberryDjangoField


class ColumnField(StrawberryDjangoField):
    """A strawberry-django field that reads a loaded column without the resolver chain.

    Basic (strawberry's fast path) only for a column: no resolver, no extension (permission
    checks are extensions), not a relation. A column that is not loaded (deferred) falls back to
    strawberry-django's own lookup, which loads it.
    """

    @property
    def is_basic_field(self) -> bool:
        """True for a plain loaded-from-the-row column (see the class docstring)."""
        return not self.base_resolver and not self.extensions and not self.is_relation

    def get_result(
        self, source: models.Model | None, info: Info | None, args: list[Any], kwargs: dict[str, Any]
    ) -> Any:
        """The column's value from the row's ``__dict__`` (what Django's descriptor returns); else the stock path."""
        if info is None and source is not None:
            try:
                return source.__dict__[self.django_name or self.python_name]
            except (KeyError, AttributeError):
                pass  # deferred, a model property or a source without a __dict__: the stock lookup reads it
        return super().get_result(source, info, args, kwargs)


def column(*, description: str, **options: Any) -> Any:
    """``strawberry_django.field(description=..., **options)`` declared as a :class:`ColumnField`.

    Use it for model columns read as they are (numbers, text, dates, choices); relations and
    fields with resolvers keep ``strawberry_django.field``.
    """
    return strawberry_django.field(description=description, field_cls=ColumnField, **options)

"""Writing many rows at once for the set-based importer: COPY and one UPDATE per batch on PostgreSQL.

Rows are plain dicts of column attribute names (``account_id``, not ``account``) to Python values,
so no model instance is built per inserted row. On PostgreSQL inserts go through ``COPY ... FROM
STDIN`` in CSV format (written by the ``csv`` module, sent with psycopg2's ``copy_expert``;
``pgbulk.copy`` needs psycopg 3, which Patron does not use; ``\\N`` is NULL, so rows holding that
very text go through ``bulk_create`` instead)
and updates through django-pgbulk's ``UPDATE ... FROM (VALUES ...)``; on any other database
(SQLite, the embedded default) through Django's ``bulk_create`` / ``bulk_update``. Both paths
store the same values: the text COPY receives is what psycopg2 would send for each value.

Model signals (``pre_save``, ``post_save``) are not sent; the importer validates its input with
the order service's own checks before anything is written.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterable, Mapping
from typing import Any

import pgbulk
from django.db import connection, models
from django.utils import timezone

_NULL = r"\N"


class _Table:
    """A model's columns to write (with or without the primary key), their defaults and their COPY
    formatters, built once per model and variant."""

    cache: dict[tuple[type[models.Model], bool], _Table] = {}

    def __init__(self, model: type[models.Model], with_pk: bool) -> None:
        self.model = model
        self.fields = [field for field in model._meta.concrete_fields if with_pk or not field.primary_key]
        #: Positions and encoders of the JSON columns (the only values COPY needs converted:
        #: numbers, text and times are written as ``str`` gives them, which PostgreSQL reads).
        self.json = [
            (index, getattr(field, "encoder", None))
            for index, field in enumerate(self.fields)
            if field.get_internal_type() == "JSONField"
        ]
        self.sql = "COPY {} ({}) FROM STDIN WITH (FORMAT csv, NULL '{}')".format(
            connection.ops.quote_name(model._meta.db_table),
            ", ".join(connection.ops.quote_name(field.column or field.attname) for field in self.fields),
            _NULL,
        )

    @classmethod
    def of(cls, model: type[models.Model], with_pk: bool) -> _Table:
        """The description of ``model``'s table; ``with_pk=False`` leaves the key to the database."""
        table = cls.cache.get((model, with_pk))
        if table is None:
            table = cls.cache[(model, with_pk)] = cls(model, with_pk)
        return table

    def missing(self, field: models.Field, now: dt.datetime) -> Any:
        """A column's value when a row leaves it out: ``now`` for ``auto_now(_add)``, else its default."""
        if getattr(field, "auto_now_add", False) or getattr(field, "auto_now", False):
            return now
        return field.get_default()

    def value(self, field: models.Field, row: Mapping[str, Any], now: dt.datetime) -> Any:
        """The row's value for ``field``, or :meth:`missing`'s."""
        return row[field.attname] if field.attname in row else self.missing(field, now)


def _copy_text(table: _Table, rows: list[Mapping[str, Any]], now: dt.datetime) -> io.StringIO | None:
    """The rows as COPY's CSV text (``\\N`` for NULL), or ``None`` when a value is the text ``\\N`` itself
    (COPY would read it as NULL; the caller then inserts those rows another way)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    getters = [(field.attname, table.missing(field, now)) for field in table.fields]
    for row in rows:
        values = [row.get(attname, missing) for attname, missing in getters]
        if _NULL in values:
            return None
        for index, encoder in table.json:
            if values[index] is not None:
                values[index] = json.dumps(values[index], cls=encoder)
        writer.writerow([_NULL if value is None else value for value in values])
    buffer.seek(0)
    return buffer


def rows_insert(model: type[models.Model], rows: Iterable[Mapping[str, Any]]) -> int:
    """Insert ``rows`` (attribute name -> value) into ``model``'s table; return how many.

    Columns left out take their default (``auto_now_add`` ones the current time); when the rows
    leave out the primary key (all or none of them) the database numbers them. Runs in the
    caller's transaction. PostgreSQL: one COPY; others: ``bulk_create`` in batches of 1,000.
    """
    rows = list(rows)
    if not rows:
        return 0
    table = _Table.of(model, with_pk=model._meta.pk.attname in rows[0])
    now = timezone.now()
    buffer = _copy_text(table, rows, now) if connection.vendor == "postgresql" else None
    if buffer is None:
        instances = [model(**{f.attname: table.value(f, row, now) for f in table.fields}) for row in rows]
        model._default_manager.bulk_create(instances, batch_size=1000)
        return len(rows)
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(table.sql, buffer)  # the psycopg2 cursor under Django's wrapper
    return len(rows)


def rows_update(model: type[models.Model], fields: list[str], rows: Iterable[Mapping[str, Any]]) -> int:
    """Set ``fields`` (attribute names) of existing rows to the values in ``rows`` (each with ``id``).

    PostgreSQL: django-pgbulk's ``update`` (one ``UPDATE ... FROM (VALUES ...)`` per call); others:
    ``bulk_update`` in batches of 1,000. Runs in the caller's transaction; returns how many rows.
    """
    instances = [model(**row) for row in rows]
    if not instances:
        return 0
    names = [model._meta.get_field(attname).name for attname in fields]  # get_field knows attnames too
    if connection.vendor == "postgresql":
        pgbulk.update(model, instances, names)
    else:
        model._default_manager.bulk_update(instances, names, batch_size=1000)
    return len(instances)

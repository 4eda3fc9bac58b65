"""SQLite: keep the config_version triggers alive across a rebuild of a table they name.

Django alters a SQLite table by building a new one and renaming it into place. SQLite refuses
that rename while triggers on other tables (``loyalty_tier``, ``loyalty_earningrule``,
``referrals_referralprogram``, ...; migrations loyalty 0008 and referrals 0003) name the table
("error in trigger ...: no such table: main.loyalty_loyaltyprogram"). A migration that alters the
program's table on SQLite therefore runs :func:`park` first and :func:`restore` after: the
triggers that mention the table are dropped and then created again from their own SQL. On other
databases both do nothing. A rebuild of a table that carries such triggers itself (e.g.
``loyalty_earningrule``) would drop them silently; :func:`parking` gives the pair for that table.
"""

from __future__ import annotations

from collections.abc import Callable

_PARKED: dict[tuple[str, str], list[str]] = {}


def parking(table: str) -> tuple[Callable, Callable]:
    """``(park, restore)`` for RunPython around a rebuild of ``table`` (SQLite only): park drops,
    and remembers, every trigger whose SQL mentions the table; restore creates them again."""

    def park(apps, schema_editor) -> None:
        if schema_editor.connection.vendor != "sqlite":
            return
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND sql LIKE %s", [f"%{table}%"])
            rows = cursor.fetchall()
        _PARKED[(schema_editor.connection.alias, table)] = [sql for _, sql in rows]
        for name, _ in rows:
            schema_editor.execute(f'DROP TRIGGER IF EXISTS "{name}"')

    def restore(apps, schema_editor) -> None:
        if schema_editor.connection.vendor != "sqlite":
            return
        for sql in _PARKED.pop((schema_editor.connection.alias, table), []):
            schema_editor.execute(sql)

    return park, restore


#: The pair for ``loyalty_loyaltyprogram`` (migration 0009).
park, restore = parking("loyalty_loyaltyprogram")

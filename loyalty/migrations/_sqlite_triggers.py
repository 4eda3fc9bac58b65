"""SQLite: keep the config_version triggers alive across a rebuild of ``loyalty_loyaltyprogram``.

Django alters a SQLite table by building a new one and renaming it into place. SQLite refuses
that rename while triggers on other tables (``loyalty_tier``, ``loyalty_earningrule``,
``referrals_referralprogram``, ...; migrations loyalty 0008 and referrals 0003) name the table
("error in trigger ...: no such table: main.loyalty_loyaltyprogram"). A migration that alters the
program's table on SQLite therefore runs :func:`park` first and :func:`restore` after: the
triggers that mention the table are dropped and then created again from their own SQL. On other
databases both do nothing.
"""

from __future__ import annotations

_PARKED: dict[str, list[str]] = {}


def park(apps, schema_editor) -> None:
    """Drop, and remember, every trigger whose SQL mentions ``loyalty_loyaltyprogram`` (SQLite only)."""
    if schema_editor.connection.vendor != "sqlite":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND sql LIKE '%loyalty_loyaltyprogram%'"
        )
        rows = cursor.fetchall()
    _PARKED[schema_editor.connection.alias] = [sql for _, sql in rows]
    for name, _ in rows:
        schema_editor.execute(f'DROP TRIGGER IF EXISTS "{name}"')


def restore(apps, schema_editor) -> None:
    """Create the parked triggers again (SQLite only)."""
    if schema_editor.connection.vendor != "sqlite":
        return
    for sql in _PARKED.pop(schema_editor.connection.alias, []):
        schema_editor.execute(sql)

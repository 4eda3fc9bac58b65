"""Make the points ledger append-only in the database itself.

A trigger refuses UPDATE and DELETE on ``loyalty_pointsentry`` (PostgreSQL: a PL/pgSQL function
raising ``restrict_violation``; SQLite: ``RAISE(ABORT)``), so not even a bug or a manual SQL
session can rewrite a posted entry. Corrections are new entries.
"""

from django.db import migrations

PG_FORWARD = """
CREATE OR REPLACE FUNCTION loyalty_pointsentry_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'loyalty_pointsentry is append-only: % refused', TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER loyalty_pointsentry_no_update BEFORE UPDATE OR DELETE ON loyalty_pointsentry
    FOR EACH ROW EXECUTE FUNCTION loyalty_pointsentry_append_only();
"""
PG_BACKWARD = """
DROP TRIGGER IF EXISTS loyalty_pointsentry_no_update ON loyalty_pointsentry;
DROP FUNCTION IF EXISTS loyalty_pointsentry_append_only();
"""
SQLITE_FORWARD = [
    """CREATE TRIGGER loyalty_pointsentry_no_update BEFORE UPDATE ON loyalty_pointsentry
       BEGIN SELECT RAISE(ABORT, 'loyalty_pointsentry is append-only: UPDATE refused'); END;""",
    """CREATE TRIGGER loyalty_pointsentry_no_delete BEFORE DELETE ON loyalty_pointsentry
       BEGIN SELECT RAISE(ABORT, 'loyalty_pointsentry is append-only: DELETE refused'); END;""",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS loyalty_pointsentry_no_update;",
    "DROP TRIGGER IF EXISTS loyalty_pointsentry_no_delete;",
]


def forward(apps, schema_editor):
    """Install the trigger for the connected database's vendor."""
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_FORWARD, params=None)
    elif vendor == "sqlite":
        for statement in SQLITE_FORWARD:
            schema_editor.execute(statement)


def backward(apps, schema_editor):
    """Remove the trigger."""
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_BACKWARD)
    elif vendor == "sqlite":
        for statement in SQLITE_BACKWARD:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("loyalty", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]

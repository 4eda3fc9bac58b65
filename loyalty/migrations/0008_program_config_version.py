"""``LoyaltyProgram.config_version``: a counter the database bumps on every edit of a program's tiers and rules.

The worker caches a program's tiers and earning rules per process (issue 15, goal 2) and keys
the cache on this column, which it reads anyway with the program row in every posting
transaction. Triggers bump it, so that every way of editing — the services, the admin, a bulk
``update()``, a manual SQL session — invalidates the caches of every process:

* ``loyalty_tier``, ``loyalty_earningrule``: after INSERT, UPDATE or DELETE of a row, its program's
  version + 1;
* ``loyalty_earningrule_categories``, ``loyalty_earningrule_tiers`` (the rules' many-to-many rows):
  the rule's program's version + 1;
* ``loyalty_loyaltyprogram`` itself: an UPDATE never lowers it (a ``save()`` of a program row read
  before a tier edit writes back the old number; the trigger keeps the higher one), so a version
  once seen is never reused for other contents.

``referrals`` adds the same trigger to its settings table (its migration 0003).
"""

from django.db import migrations, models

PG_FORWARD = """
CREATE OR REPLACE FUNCTION loyalty_config_bump() RETURNS trigger AS $$
DECLARE
    changed record;
    program bigint;
BEGIN
    IF TG_OP = 'DELETE' THEN changed := OLD; ELSE changed := NEW; END IF;
    IF TG_ARGV[0] = 'rule' THEN
        SELECT program_id INTO program FROM loyalty_earningrule WHERE id = changed.earningrule_id;
    ELSE
        program := changed.program_id;
    END IF;
    IF program IS NOT NULL THEN
        UPDATE loyalty_loyaltyprogram SET config_version = config_version + 1 WHERE id = program;
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE OR REPLACE FUNCTION loyalty_config_never_lower() RETURNS trigger AS $$
BEGIN
    IF NEW.config_version < OLD.config_version THEN
        NEW.config_version := OLD.config_version;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER loyalty_tier_config_bump AFTER INSERT OR UPDATE OR DELETE ON loyalty_tier
    FOR EACH ROW EXECUTE FUNCTION loyalty_config_bump('program');
CREATE TRIGGER loyalty_earningrule_config_bump AFTER INSERT OR UPDATE OR DELETE ON loyalty_earningrule
    FOR EACH ROW EXECUTE FUNCTION loyalty_config_bump('program');
CREATE TRIGGER loyalty_earningrule_categories_config_bump AFTER INSERT OR UPDATE OR DELETE
    ON loyalty_earningrule_categories FOR EACH ROW EXECUTE FUNCTION loyalty_config_bump('rule');
CREATE TRIGGER loyalty_earningrule_tiers_config_bump AFTER INSERT OR UPDATE OR DELETE
    ON loyalty_earningrule_tiers FOR EACH ROW EXECUTE FUNCTION loyalty_config_bump('rule');
CREATE TRIGGER loyalty_program_config_never_lower BEFORE UPDATE ON loyalty_loyaltyprogram
    FOR EACH ROW EXECUTE FUNCTION loyalty_config_never_lower();
"""
PG_BACKWARD = """
DROP TRIGGER IF EXISTS loyalty_tier_config_bump ON loyalty_tier;
DROP TRIGGER IF EXISTS loyalty_earningrule_config_bump ON loyalty_earningrule;
DROP TRIGGER IF EXISTS loyalty_earningrule_categories_config_bump ON loyalty_earningrule_categories;
DROP TRIGGER IF EXISTS loyalty_earningrule_tiers_config_bump ON loyalty_earningrule_tiers;
DROP TRIGGER IF EXISTS loyalty_program_config_never_lower ON loyalty_loyaltyprogram;
DROP FUNCTION IF EXISTS loyalty_config_never_lower();
DROP FUNCTION IF EXISTS loyalty_config_bump();
"""

_BUMP = "UPDATE loyalty_loyaltyprogram SET config_version = config_version + 1 WHERE id = {program};"
_RULE = "(SELECT program_id FROM loyalty_earningrule WHERE id = {row}.earningrule_id)"
SQLITE_TRIGGERS = {
    f"loyalty_{table}_config_{op.lower()}": (table, op, program)
    for table, program_of in (
        ("tier", "{row}.program_id"),
        ("earningrule", "{row}.program_id"),
        ("earningrule_categories", _RULE),
        ("earningrule_tiers", _RULE),
    )
    for op, row in (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD"))
    for program in [program_of.format(row=row)]
}
SQLITE_FORWARD = [
    f"CREATE TRIGGER {name} AFTER {op} ON loyalty_{table} BEGIN {_BUMP.format(program=program)} END;"
    for name, (table, op, program) in SQLITE_TRIGGERS.items()
] + [
    # SQLite cannot assign NEW: put the higher number back after the update instead.
    """CREATE TRIGGER loyalty_program_config_never_lower AFTER UPDATE OF config_version ON loyalty_loyaltyprogram
       WHEN NEW.config_version < OLD.config_version
       BEGIN UPDATE loyalty_loyaltyprogram SET config_version = OLD.config_version WHERE id = NEW.id; END;"""
]
SQLITE_BACKWARD = [f"DROP TRIGGER IF EXISTS {name};" for name in SQLITE_TRIGGERS] + [
    "DROP TRIGGER IF EXISTS loyalty_program_config_never_lower;"
]


def forward(apps, schema_editor):
    """Install the triggers for the connected database's vendor."""
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_FORWARD, params=None)
    elif vendor == "sqlite":
        for statement in SQLITE_FORWARD:
            schema_editor.execute(statement)


def backward(apps, schema_editor):
    """Remove the triggers."""
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_BACKWARD, params=None)
    elif vendor == "sqlite":
        for statement in SQLITE_BACKWARD:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("loyalty", "0007_lifecycle_expiry_requalification")]

    operations = [
        migrations.AddField(
            model_name="loyaltyprogram",
            name="config_version",
            field=models.PositiveBigIntegerField(
                default=0,
                editable=False,
                help_text=(
                    "Bumped by database triggers on every change of the program's tiers, earning rules (and "
                    "their categories and tiers) and referral settings; never lowered. Workers key their "
                    "per-process caches of those rows on it (loyalty.services.tiers.program_config_cached)."
                ),
            ),
        ),
        migrations.RunPython(forward, backward),
    ]

"""A change of a program's referral settings bumps ``LoyaltyProgram.config_version`` (loyalty migration 0008).

The order worker caches each program's referral settings per process, keyed on that version
(``referrals.services.referral_settings_cached``), to skip the referral lookup on every
delivered order of a shop whose referrals are off; this trigger invalidates the caches of
every process on any INSERT, UPDATE or DELETE of ``referrals_referralprogram``.
"""

from django.db import migrations

PG_FORWARD = """
CREATE TRIGGER referrals_referralprogram_config_bump AFTER INSERT OR UPDATE OR DELETE ON referrals_referralprogram
    FOR EACH ROW EXECUTE FUNCTION loyalty_config_bump('program');
"""
PG_BACKWARD = "DROP TRIGGER IF EXISTS referrals_referralprogram_config_bump ON referrals_referralprogram;"
_BUMP = "UPDATE loyalty_loyaltyprogram SET config_version = config_version + 1 WHERE id = {row}.program_id;"
SQLITE_FORWARD = [
    f"CREATE TRIGGER referrals_referralprogram_config_{op.lower()} AFTER {op} ON referrals_referralprogram "
    f"BEGIN {_BUMP.format(row=row)} END;"
    for op, row in (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD"))
]
SQLITE_BACKWARD = [
    f"DROP TRIGGER IF EXISTS referrals_referralprogram_config_{op};" for op in ("insert", "update", "delete")
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
        schema_editor.execute(PG_BACKWARD, params=None)
    elif vendor == "sqlite":
        for statement in SQLITE_BACKWARD:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("referrals", "0002_backfill_referral_codes"), ("loyalty", "0008_program_config_version")]

    operations = [migrations.RunPython(forward, backward)]

"""Earning rules may name the shop's segments (crm ids; loyalty sits below crm, so a JSON list).

SQLite rebuilds ``loyalty_earningrule`` to add the column, which would drop its config_version
triggers (migration 0008) silently: they are parked and created again around the change.
"""

from django.db import migrations, models

from loyalty.migrations._sqlite_triggers import parking

park, restore = parking("loyalty_earningrule")


class Migration(migrations.Migration):
    dependencies = [
        ("loyalty", "0010_member_status"),
    ]

    operations = [
        migrations.RunPython(park, restore),
        migrations.AddField(
            model_name="earningrule",
            name="segment_ids",
            field=models.JSONField(
                blank=True,
                default=list,
                help_text="Ids of the shop's segments (crm); the member must be in one of them. Empty = every member.",
            ),
        ),
        migrations.RunPython(restore, park),
    ]

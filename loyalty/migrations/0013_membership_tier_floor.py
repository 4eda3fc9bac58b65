"""Paid memberships (issue 19): a tier floor and an extra multiplier on the account; tier changes a
membership made are marked. SQLite rebuilds both tables: any trigger naming them is parked around it."""

import django.db.models.deletion
from decimal import Decimal
from django.db import migrations, models

from loyalty.migrations._sqlite_triggers import parking

park_accounts, restore_accounts = parking("loyalty_memberaccount")
park_changes, restore_changes = parking("loyalty_tierchange")


class Migration(migrations.Migration):
    dependencies = [
        ("loyalty", "0012_entry_reason_codes"),
        ("marketplace", "0006_consent_changes"),
    ]

    operations = [
        migrations.RunPython(park_accounts, restore_accounts),
        migrations.RunPython(park_changes, restore_changes),
        migrations.AddField(
            model_name="memberaccount",
            name="membership_multiplier",
            field=models.DecimalField(
                decimal_places=3,
                default=Decimal("1"),
                help_text="Extra earning multiplier of a paid membership (1: none), on top of the tier's.",
                max_digits=6,
            ),
        ),
        migrations.AddField(
            model_name="memberaccount",
            name="tier_earned",
            field=models.ForeignKey(
                blank=True,
                help_text="While ``tier_floor`` is set: the tier the member's own qualifying value holds beneath it.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="loyalty.tier",
            ),
        ),
        migrations.AddField(
            model_name="memberaccount",
            name="tier_floor",
            field=models.ForeignKey(
                blank=True,
                help_text="A tier held regardless of spend while a paid membership lasts; ``tier`` is never below it.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="loyalty.tier",
            ),
        ),
        migrations.AddField(
            model_name="tierchange",
            name="membership",
            field=models.BooleanField(
                default=False, help_text="A paid membership set or released this change (not the member's own value)."
            ),
        ),
        migrations.AddConstraint(
            model_name="memberaccount",
            constraint=models.CheckConstraint(
                condition=models.Q(("membership_multiplier__gte", 1)), name="account_membership_multiplier_min"
            ),
        ),
        migrations.RunPython(restore_changes, park_changes),
        migrations.RunPython(restore_accounts, park_accounts),
    ]

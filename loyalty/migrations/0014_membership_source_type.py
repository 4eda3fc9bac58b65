"""Ledger entries may come from a paid membership's payment (choices only; no schema change)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('loyalty', '0013_membership_tier_floor'),
    ]

    operations = [
        migrations.AlterField(
            model_name='pointsentry',
            name='source_type',
            field=models.CharField(choices=[('order', 'Order'), ('redemption', 'Redemption'), ('referral', 'Referral'), ('rule', 'Earning rule'), ('staff', 'Staff member'), ('system', 'Scheduled job'), ('checkout', 'Checkout'), ('membership', 'Paid membership')], max_length=16),
        ),
    ]

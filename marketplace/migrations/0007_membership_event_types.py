"""Event types of paid memberships (choices only; no schema change)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('marketplace', '0006_consent_changes'),
    ]

    operations = [
        migrations.AlterField(
            model_name='shopevent',
            name='type',
            field=models.CharField(choices=[('member.enrolled', "A customer joined the shop's program"), ('points.earned', 'Points earned (an order, a bonus)'), ('points.released', 'Pending points became available'), ('points.reversed', 'An earning was reversed (return, refund)'), ('points.expired', 'Points expired'), ('points.adjusted', 'Staff adjusted points'), ('points.redeemed', 'Points spent (on a reward, or paying at checkout)'), ('points.refunded', 'Points given back (redemption cancelled or expired, checkout returned)'), ('tier.changed', 'A member moved to another tier'), ('redemption.issued', 'A reward code was issued'), ('redemption.consumed', 'A reward code was used at the till'), ('redemption.cancelled', 'A reward code was cancelled'), ('redemption.expired', 'A reward code expired unused'), ('referral.completed', "A referral completed (the friend's first order)"), ('checkout.committed', 'A basket was committed at a till or checkout'), ('webhook_endpoint.disabled', 'A webhook endpoint was disabled after failing'), ('membership.status_changed', 'A paid membership changed state'), ('membership.renewal_upcoming', 'A paid membership renews in a few days'), ('membership.renewal_due', "Charge the member for the membership's renewal now"), ('membership.payment_recorded', 'A membership payment was reported')], max_length=48),
        ),
    ]

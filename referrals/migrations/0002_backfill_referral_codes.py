"""Give a referral code to every existing member of a program whose referrals are enabled.

Codes used to be created on a member's first read of their referrals; reads no longer write,
so members who never opened them need one now. New members get theirs on joining and all
members when a shop enables referrals (``referrals.services``).
"""

from django.db import migrations
from django.utils import timezone

#: Most rounds; a round repeats only for drawn codes that collided with existing ones.
ROUNDS = 10


def backfill_codes(apps, schema_editor):
    """Insert a code for each member of an enabled program lacking one (bulk, collisions retried)."""
    # the same generator the services use, so the codes look alike
    from referrals.services import referral_code_draw

    MemberAccount = apps.get_model("loyalty", "MemberAccount")
    ReferralCode = apps.get_model("referrals", "ReferralCode")
    now = timezone.now()
    for _ in range(ROUNDS):
        missing = list(
            MemberAccount.objects.filter(program__referral_settings__enabled=True, referral_code__isnull=True)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if not missing:
            return
        ReferralCode.objects.bulk_create(
            [ReferralCode(account_id=pk, code=referral_code_draw(), created_at=now) for pk in missing],
            batch_size=1000,
            ignore_conflicts=True,
        )
    raise RuntimeError("could not draw free referral codes")


class Migration(migrations.Migration):
    dependencies = [
        ("referrals", "0001_initial"),
    ]

    # nothing to undo: codes of members are what the app expects anyway
    operations = [migrations.RunPython(backfill_codes, migrations.RunPython.noop)]

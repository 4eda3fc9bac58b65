"""The demo: the second demo member applies the first member's code; a delivery completes it (idempotent)."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from loyalty.models import EntryKind, PointsEntry
from referrals.models import Referral, ReferralStatus

pytestmark = [pytest.mark.django_db]


def test_demo_referral_opens_then_completes_and_reruns_change_nothing():
    call_command("patron_demo", "--skip-samples", stdout=io.StringIO())
    call_command("demo_rewards", stdout=io.StringIO())
    call_command("demo_referrals", stdout=io.StringIO())
    referral = Referral.objects.get()
    assert referral.status == ReferralStatus.OPEN
    assert referral.code.account.customer.external_id == "demo-member-1"
    call_command("demo_referrals", "--deliver", stdout=io.StringIO())
    call_command("demo_referrals", "--deliver", stdout=io.StringIO())
    assert Referral.objects.get().status == ReferralStatus.COMPLETED
    bonuses = PointsEntry.objects.filter(kind=EntryKind.BONUS, source_type="referral")
    assert sorted(bonuses.values_list("points", flat=True)) == [50, 100]

"""The demo data shows what an owner tunes and what the scheduler's jobs do (issue 4 and 5)."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from loyalty.models import EarningRule, EntryKind, LoyaltyProgram, MemberAccount, PointsEntry, Tier
from loyalty.selectors import ledger_discrepancies

pytestmark = [pytest.mark.django_db]

DEMO_SLUGS = {"demo-coffee", "demo-books", "demo-bazaar"}


def test_demo_programs_carry_seasonal_campaigns_expiry_and_bonuses_and_reruns_change_nothing():
    call_command("patron_demo", "--skip-samples", stdout=io.StringIO())
    programs = LoyaltyProgram.objects.filter(shop__slug__in=DEMO_SLUGS)
    assert {(p.shop.slug, p.expiry_months, p.welcome_bonus_points, p.birthday_bonus_points) for p in programs} == {
        (slug, 12, 50, 100) for slug in DEMO_SLUGS
    }
    assert programs.get(shop__slug="demo-coffee").tier_window == "calendar_year"
    gold = Tier.objects.get(program__shop__slug="demo-bazaar", name="Gold")
    assert gold.name_translations == {"fa": "طلایی"}
    campaigns = set(EarningRule.objects.filter(program__in=programs).values_list("program__shop__slug", "name"))
    assert campaigns == {
        ("demo-bazaar", "Nowruz 1406: double points"),
        ("demo-bazaar", "Yalda night: 200,000 bonus points"),
        ("demo-coffee", "Black Friday: triple points"),
        ("demo-books", "Black Friday: triple points"),
    }
    accounts = MemberAccount.objects.filter(customer__external_id="demo-member-1")
    assert accounts.count() == 3
    welcome = PointsEntry.objects.filter(account__in=accounts, kind=EntryKind.BONUS)
    assert sorted(welcome.values_list("points", flat=True)) == [50, 50, 50]
    entries = PointsEntry.objects.count()
    call_command("patron_demo", "--skip-samples", stdout=io.StringIO())
    assert PointsEntry.objects.count() == entries
    assert ledger_discrepancies(account_ids=list(accounts.values_list("pk", flat=True))) == []

"""``lifecycle_replay`` on the bundled CDNOW sample: 18 months of real purchases, jobs at every month end.

The expectations come from the raw file and the published policy (12-month expiry after release,
calendar-year requalification on spend, Bronze 0 / Silver 100 / Gold 250 / Platinum 500), not from
Patron's code.
"""

from __future__ import annotations

import io
from collections import defaultdict
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db.models import Sum

from loyalty.models import EntryKind, MemberAccount, PointsEntry, PointsLot, TierChange
from tests.loyalty.test_import_orders import CDNOW_SAMPLE, read_gz, tier_for

pytestmark = pytest.mark.django_db

COLUMNS = ("orders", "earned", "released", "expired", "tier_up", "tier_down", "tier_kept")


def _replay() -> tuple[dict[str, dict[str, int]], dict[str, str], str]:
    """Run the command; return its quarter table, its ``this run`` figures and its last line."""
    out = io.StringIO()
    call_command("lifecycle_replay", str(CDNOW_SAMPLE), stdout=out, stderr=io.StringIO())
    lines = out.getvalue().strip().splitlines()
    assert lines[0].startswith("program 'CDNOW Rewards' (shop cdnow): expiry_months=12 tier_window=calendar_year")
    table = {}
    for line in lines[2:]:
        if line.startswith("this run:"):
            break
        quarter, *values = line.split()
        table[quarter] = dict(zip(COLUMNS, map(int, values), strict=True))
    run = dict(part.split("=", 1) for part in next(x for x in lines if x.startswith("this run:")).split()[2:])
    return table, run, lines[-1]


def _state() -> tuple:
    return (
        PointsEntry.objects.count(),
        TierChange.objects.count(),
        list(MemberAccount.objects.order_by("pk").values_list("points_available", "points_expired", "tier_id")),
    )


def test_cdnow_sample_replay_releases_expires_and_requalifies_consistently():
    # when the sample is replayed month by month with the jobs at every month end through 1998
    table, run, last = _replay()
    # then the ledger is clean
    assert last.startswith("check_ledger: 300 accounts,")
    assert last.endswith(" 0 discrepancies")
    totals = table.pop("total")
    # every point earned (the last orders are in June 1998) was released by the end of 1998
    assert totals["earned"] == totals["released"] > 0
    assert totals["orders"] == PointsEntry.objects.filter(kind=EntryKind.EARN).count()
    # nothing was spent, so what was released in a quarter of 1997 expired in the same quarter of
    # 1998 (12 months after release), and nothing released in 1998 expired by its end
    for quarter in ("Q1", "Q2", "Q3", "Q4"):
        assert table[f"1998{quarter}"]["expired"] == table[f"1997{quarter}"]["released"]
        assert table[f"1997{quarter}"]["expired"] == 0
    # expired points are the EXPIRE entries and the accounts' expired figures, and what is left
    # available is exactly what was released in 1998
    expired_entries = -PointsEntry.objects.filter(kind=EntryKind.EXPIRE).aggregate(total=Sum("points"))["total"]
    assert totals["expired"] == expired_entries == MemberAccount.objects.aggregate(total=Sum("points_expired"))["total"]
    released_1998 = sum(table[f"1998Q{n}"]["released"] for n in range(1, 5))
    assert MemberAccount.objects.aggregate(total=Sum("points_available"))["total"] == released_1998
    assert MemberAccount.objects.aggregate(total=Sum("points_pending"))["total"] == 0
    # balances never went below zero at any entry
    assert not PointsEntry.objects.filter(available_after__lt=0).exists()
    assert not PointsEntry.objects.filter(pending_after__lt=0).exists()
    assert not PointsLot.objects.filter(remaining__lt=0).exists()
    # requalification: on 1 January 1998 every tier was confirmed (tiers of 1997 were earned on 1997
    # spend); on 1 January 1999 (the end of December 1998) members moved down to what 1998 earns
    requalified = TierChange.objects.filter(reason__startswith="Requalified")
    assert requalified.count() == int(run["requalified"]) == totals["tier_down"] + totals["tier_kept"]
    assert table["1998Q1"]["tier_down"] == 0
    assert table["1998Q1"]["tier_kept"] == requalified.filter(reason__startswith="Requalified for 1998").count() > 0
    assert table["1999Q1"]["tier_down"] > 0
    spend_1998: dict[str, Decimal] = defaultdict(Decimal)
    for row in read_gz(CDNOW_SAMPLE):
        spend_1998[row["customer_id"]] += Decimal(row["dollar_value"]) if row["date"].startswith("1998") else 0
    tiers = dict(MemberAccount.objects.values_list("customer__external_id", "tier__name"))
    assert len(tiers) == 300
    assert tiers == {customer: tier_for(spend_1998[customer], (0, 100, 250, 500)) for customer in tiers}
    assert set(MemberAccount.objects.values_list("requalified_through__year", flat=True)) <= {1999, None}
    # and a second run changes nothing
    before = _state()
    again, run_again, last_again = _replay()
    assert again.pop("total") == totals
    assert again == table
    assert (run_again["points_posted"], run_again["released"], run_again["expired"], run_again["requalified"]) == (
        "0",
        "0",
        "0",
        "0",
    )
    assert _state() == before
    assert last_again.endswith(" 0 discrepancies")

"""``export_ledger`` writes the ledger as CSV; ``check_ledger`` finds cached balances that drift."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from loyalty.models import MemberAccount, PointsEntry
from marketplace.models import Customer, Shop

pytestmark = pytest.mark.django_db

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
CSV_EXAMPLE = SAMPLES / "orders_example.csv"
FIRST_COLUMNS = [
    "shop_external_id",
    "customer_external_id",
    "kind",
    "points",
    "available_after",
    "pending_after",
    "reason",
    "idempotency_key",
    "created_at",
]


def run(name: str, *args: str, **options) -> str:
    """Run a management command; return its stdout."""
    out = io.StringIO()
    call_command(name, *args, stdout=out, stderr=io.StringIO(), **options)
    return out.getvalue()


def export(*args: str, **options) -> list[dict[str, str]]:
    """``export_ledger`` to stdout, parsed (checking the first columns on the way)."""
    reader = csv.DictReader(io.StringIO(run("export_ledger", "--format", "csv", *args, **options)))
    assert reader.fieldnames[: len(FIRST_COLUMNS)] == FIRST_COLUMNS
    return list(reader)


@pytest.fixture
def imported() -> None:
    """The example CSV imported: two shops, four accounts, a return, a cancellation."""
    run("import_orders", str(CSV_EXAMPLE), format="csv")


def test_export_writes_every_entry_in_shop_account_time_order(imported):
    # Given an imported ledger
    entries = list(
        PointsEntry.objects.select_related("account__program__shop", "account__customer").order_by(
            "account__program__shop_id", "account_id", "created_at", "id"
        )
    )

    # When it is exported
    rows = export()

    # Then there is one row per entry, in order, with the entry's figures
    assert len(rows) == len(entries) > 0
    for row, entry in zip(rows, entries, strict=True):
        assert row == {
            **row,
            "shop_external_id": entry.account.program.shop.external_id,
            "customer_external_id": entry.account.customer.external_id,
            "kind": entry.kind,
            "points": str(entry.points),
            "available_after": str(entry.available_after),
            "pending_after": str(entry.pending_after),
            "reason": entry.reason,
            "idempotency_key": entry.idempotency_key,
            "created_at": entry.created_at.isoformat(),
        }
    assert {row["kind"] for row in rows} == {"earn", "reverse", "release"}


def test_export_one_shop_to_a_file_and_fallback_names(imported, tmp_path):
    # Given a shop and a customer without external ids
    Shop.objects.filter(external_id="TEA-01").update(external_id=None)
    carol = Customer.objects.get(external_id="cust-carol")
    Customer.objects.filter(pk=carol.pk).update(external_id=None)
    path = tmp_path / "ledger.csv"

    # When that shop's ledger is exported to a file
    run("export_ledger", "--shop", "tea-01", "--format", "csv", "--output", str(path))

    # Then only its entries are there, named by slug and customer:<pk>
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == PointsEntry.objects.filter(account__program__shop__slug="tea-01").count()
    assert {row["shop_external_id"] for row in rows} == {"tea-01"}
    assert {row["customer_external_id"] for row in rows} == {"cust-alice", f"customer:{carol.pk}"}


def test_export_query_count_does_not_grow_with_the_ledger(imported):
    # Given the exported example ledger's query count
    with CaptureQueriesContext(connection) as small:
        export()

    # When the ledger grows (CDNOW sample) and is exported again
    run("import_orders", str(SAMPLES / "cdnow_sample.csv.gz"), format="cdnow", limit=150)
    with CaptureQueriesContext(connection) as large:
        rows = export()

    # Then the same number of queries streamed it
    assert len(rows) == PointsEntry.objects.count() > 100
    assert len(large.captured_queries) == len(small.captured_queries) == 1


def test_export_refuses_other_formats_and_unknown_shops():
    # Given / When / Then
    with pytest.raises(CommandError):
        run("export_ledger", "--format", "json")
    with pytest.raises(CommandError, match="no shop"):
        run("export_ledger", "--shop", "nope")


def test_check_ledger_is_clean_after_an_import(imported):
    # Given an imported ledger
    # When it is checked
    out = run("check_ledger")

    # Then every account agrees with its entries
    accounts, entries = MemberAccount.objects.count(), PointsEntry.objects.count()
    assert out.strip().splitlines()[-1] == f"check_ledger: {accounts} accounts, {entries} entries, 0 discrepancies"


def test_check_ledger_fails_on_a_corrupted_cached_balance(imported):
    # Given an account whose cached balance no longer equals its entries (the cache is not the ledger)
    account = MemberAccount.objects.get(program__shop__external_id="BOOKS-01", customer__external_id="cust-bob")
    MemberAccount.objects.filter(pk=account.pk).update(points_available=F("points_available") + 7)

    # When the ledger is checked
    out = io.StringIO()
    with pytest.raises(CommandError, match="discrepancies"):
        call_command("check_ledger", stdout=out)

    # Then it names the account and the broken checks, and other shops still pass
    lines = out.getvalue().strip().splitlines()
    assert f"account {account.pk} shop=books-01 customer=cust-bob check=available expected=120 cached=127" in lines
    checks = {line.split(" check=")[1].split()[0] for line in lines if line.startswith(f"account {account.pk} ")}
    assert checks == {"available", "available_after", "lots_available"}
    assert lines[-1].endswith(" 3 discrepancies")
    assert run("check_ledger", "--shop", "tea-01").strip().endswith(" 0 discrepancies")

"""A member's data export and erasure (crm.services.privacy, crm.api.privacy, manage.py member_erase).

The world: one customer with accounts in two shops (A: points, an issued redemption code, a staff
note and a manual tag; B: referrals on, a referral received and one made), a profile per shop,
consents and their history. Runs on PostgreSQL (row locks, the ledger's append-only trigger).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import transaction
from django.test import Client
from django.utils import timezone

from crm.errors import CrmError, CrmErrorCode
from crm.models import MemberNote, MemberProfile, MemberTag, PrivacyAction, PrivacyAudit, TagSource
from crm.services.privacy import (
    customer_data_exporting,
    customer_erasing,
    member_data_export,
    member_erase,
    member_erase_by_staff,
    viewer_erase,
)
from loyalty.models import MemberAccount, PointsEntry
from loyalty.selectors import ledger_discrepancies
from loyalty.services.tiers import account_get_or_enroll
from marketplace.models import ConsentChange, Customer, StaffRole
from marketplace.services.profile import ProfileChanges, member_profile_update
from referrals.models import Referral, ReferralCode
from referrals.services import ReferralSettingsInput, referral_apply, referral_code_for, referral_settings_update
from rewards.models import Redemption, RedemptionStatus
from rewards.services import reward_redeem
from tests.api.graphql import gid, gql, login
from tests.factories import PASSWORD, CustomerFactory, ShopFactory, staff
from tests.rewards.conftest import member_with_points, points_shop, reward

pytestmark = pytest.mark.django_db

User = get_user_model()

#: Every concrete field of the three models that hold a member's personal data, and what erasure
#: leaves in it; the other fields are listed as not personal, so that a new field fails the test
#: until someone decides which it is.
CUSTOMER_PERSONAL = {
    "display_name": "Erased member",
    "email": "",
    "phone": "",
    "birth_date": None,
    "consent_email": False,
    "consent_sms": False,
    "consent_push": False,
    "external_id": "erased-{customer}",
}
CUSTOMER_NOT_PERSONAL = {"id", "user", "calendar", "locale", "is_demo", "created_at"}
USER_PERSONAL = {
    "username": "erased-{user}",
    "email": "",
    "first_name": "",
    "last_name": "",
    "is_active": False,
    "last_login": None,
}
USER_NOT_PERSONAL = {"id", "password", "is_superuser", "is_staff", "date_joined"}  # password: checked apart
PROFILE_PERSONAL = {
    "first_name": "",
    "last_name": "",
    "email": "",
    "phone": "",
    "birth_date": None,
    "personal_dates": [],
    "preferences": {},
}
PROFILE_NOT_PERSONAL = {"id", "account", "updated_by", "updated_at"}


@dataclass
class World:
    """The member, their two shops and accounts, and the staff of shop A."""

    customer: Customer
    shop_a: Any
    shop_b: Any
    account_a: MemberAccount
    account_b: MemberAccount
    redemption: Redemption
    owner: Any
    manager: Any
    cashier: Any
    other_owner: Any
    other_shop: Any


@pytest.fixture
def world(postgres) -> World:
    shop_a, shop_b = points_shop(), points_shop()
    referral_settings_update(
        program=shop_b.program,
        data=ReferralSettingsInput(enabled=True, referrer_bonus_points=100, referee_bonus_points=50),
    )
    customer = CustomerFactory(phone="+989121234567", birth_date=dt.date(1990, 4, 5))
    customer.user.first_name, customer.user.last_name = "Sara", "Ahmadi"
    customer.user.save()
    member_profile_update(user=customer.user, changes=ProfileChanges(consent_email=True, consent_sms=True))
    # B: the customer applies a friend's code before their first order there, then orders.
    referrer = CustomerFactory()
    with transaction.atomic():
        referrer_account, _ = account_get_or_enroll(customer=referrer, program=shop_b.program, at=timezone.now())
    referral_apply(user=customer.user, shop_id=shop_b.pk, code=referral_code_for(referrer_account).code)
    member_with_points(shop_a, amounts=("500.00",), customer=customer)
    member_with_points(shop_b, amounts=("300.00",), customer=customer)
    account_a = MemberAccount.objects.get(customer=customer, program=shop_a.program)
    account_b = MemberAccount.objects.get(customer=customer, program=shop_b.program)
    # B: a friend applies the customer's own code.
    friend = CustomerFactory()
    referral_apply(user=friend.user, shop_id=shop_b.pk, code=referral_code_for(account_b).code)
    owner, manager, cashier = staff(shop_a), staff(shop_a, StaffRole.MANAGER), staff(shop_a, StaffRole.CASHIER)
    other_shop = points_shop()
    for account, shop in ((account_a, shop_a), (account_b, shop_b)):
        MemberProfile.objects.create(
            account=account,
            first_name="Sara",
            last_name="Ahmadi",
            email=f"sara@{shop.slug}.example",
            phone="+989121234567",
            birth_date=dt.date(1990, 4, 5),
            personal_dates=[{"kind": "anniversary", "label": "Wedding", "date": "2015-06-01"}],
            preferences={"roast": "dark"},
        )
    MemberNote.objects.create(account=account_a, author=owner, text="Lives at 12 Vali-Asr St.")
    MemberTag.objects.create(
        account=account_a, tag="wholesale", source=TagSource.MANUAL, reason="Asked by phone", assigned_at=timezone.now()
    )
    mug = reward(shop_a, points_cost=120, stock=5)
    redemption = reward_redeem(user=customer.user, reward_id=mug.pk, idempotency_key="mug").redemption
    customer.refresh_from_db()
    return World(
        customer=customer,
        shop_a=shop_a,
        shop_b=shop_b,
        account_a=account_a,
        account_b=account_b,
        redemption=redemption,
        owner=owner,
        manager=manager,
        cashier=cashier,
        other_owner=staff(other_shop),
        other_shop=other_shop,
    )


def _rows(queryset) -> list[dict[str, Any]]:
    return list(queryset.order_by("pk").values())


def _state(world: World) -> tuple:
    """Everything an erasure changes (a refusal may change none of it)."""
    accounts = [world.account_a.pk, world.account_b.pk]
    return (
        _rows(Customer.objects.filter(pk=world.customer.pk)),
        _rows(User.objects.filter(pk=world.customer.user_id)),
        _rows(MemberProfile.objects.filter(account_id__in=accounts)),
        _rows(MemberNote.objects.all()),
        _rows(MemberTag.objects.all()),
        _rows(MemberAccount.objects.filter(pk__in=accounts)),
        _rows(Redemption.objects.all()),
        _rows(ReferralCode.objects.all()),
        _rows(Referral.objects.all()),
        _rows(ConsentChange.objects.all()),
        _rows(PrivacyAudit.objects.all()),
        _rows(PointsEntry.objects.all()),
    )


# ---- export -------------------------------------------------------------------------------------


def test_json_export_has_every_shop_and_every_section(world):
    export = member_data_export(user=world.customer.user, fmt="json")

    assert export.content_type == "application/json"
    assert export.filename.endswith(".json")
    document = json.loads(export.content)
    assert list(document) == sorted(document)  # stable, sorted keys
    assert {"format", "version", "generatedAt", "customer", "consentChanges", "accounts", "orders"} <= set(document)
    assert document["customer"]["email"] == world.customer.email
    assert document["customer"]["phone"] == "+989121234567"
    assert document["customer"]["birthDate"] == "1990-04-05"
    assert document["customer"]["consents"] == {"email": True, "sms": True, "push": False}
    assert [(c["channel"], c["granted"], c["source"]) for c in document["consentChanges"]] == [
        ("email", True, "member"),
        ("sms", True, "member"),
    ]
    accounts = {account["shop"]: account for account in document["accounts"]}
    assert set(accounts) == {world.shop_a.slug, world.shop_b.slug}
    a, b = accounts[world.shop_a.slug], accounts[world.shop_b.slug]
    for account, model in ((a, world.account_a), (b, world.account_b)):
        model.refresh_from_db()
        assert account["balances"]["available"] == str(model.points_available)  # amounts as strings
        assert account["tier"]
        assert account["status"] == "active"
        assert account["enrolledAt"]
        assert account["profile"]["lastName"] == "Ahmadi"
        assert [(e["kind"], e["points"]) for e in account["ledger"]] == [
            (entry.kind, str(entry.points)) for entry in model.entries.order_by("created_at", "pk")
        ]
        assert all(set(entry) == {"kind", "points", "reason", "createdAt"} for entry in account["ledger"])
    assert [(r["code"], r["status"], r["points"]) for r in a["redemptions"]] == [
        (world.redemption.code, "issued", "120")
    ]
    assert b["referralCode"]["code"] == ReferralCode.objects.get(account=world.account_b).code
    assert [r["status"] for r in b["referralsMade"]] == ["open"]
    assert "referee" not in b["referralsMade"][0]  # the friend is someone else: not exported
    assert [(r["status"], r["bonusPoints"]) for r in b["referralsReceived"]] == [("completed", "50")]
    assert {order["shop"] for order in document["orders"]} == {world.shop_a.slug, world.shop_b.slug}
    audit = PrivacyAudit.objects.get()
    assert (audit.action, audit.customer_id, audit.actor_id, audit.details) == (
        PrivacyAction.EXPORT,
        world.customer.pk,
        world.customer.user_id,
        {"format": "json"},
    )


def test_csv_export_is_long_form_with_every_section(world):
    export = member_data_export(user=world.customer.user, fmt="csv")

    assert export.content_type == "text/csv"
    rows = list(csv.DictReader(io.StringIO(export.content)))
    assert list(rows[0]) == ["section", "shop", "record", "field", "value"]
    sections = {row["section"] for row in rows}
    assert sections == {
        "export",
        "customer",
        "consentChanges",
        "account",
        "profile",
        "ledger",
        "redemptions",
        "referralCode",
        "referralsMade",
        "referralsReceived",
        "orders",
    }
    shops = {row["shop"] for row in rows if row["section"] == "account"}
    assert shops == {world.shop_a.slug, world.shop_b.slug}
    values = {(row["section"], row["shop"], row["field"]): row["value"] for row in rows}
    assert values[("customer", "", "email")] == world.customer.email
    assert values[("customer", "", "consents.email")] == "true"
    assert values[("redemptions", world.shop_a.slug, "code")] == world.redemption.code
    ledger = [row for row in rows if row["section"] == "ledger"]
    assert len(ledger) == 4 * PointsEntry.objects.filter(account__customer=world.customer).count()
    assert {row["field"] for row in ledger} == {"kind", "points", "reason", "createdAt"}
    assert PrivacyAudit.objects.get().details == {"format": "csv"}


def test_csv_escapes_formulas_but_keeps_negative_numbers(world):
    Customer.objects.filter(pk=world.customer.pk).update(display_name="=HYPERLINK(1)")
    world.account_a.refresh_from_db()

    rows = list(csv.DictReader(io.StringIO(member_data_export(user=world.customer.user, fmt="csv").content)))

    values = {(row["section"], row["field"]): row["value"] for row in rows}
    assert values[("customer", "displayName")] == "'=HYPERLINK(1)"
    assert any(row["field"] == "points" and row["value"] == "-120" for row in rows)


def test_higher_apps_add_sections_through_the_signal(world):
    def receiver(sender, customer, **kwargs):
        return {"checkoutCommits": [{"shop": world.shop_a.slug, "totalDue": "18.00"}]}

    customer_data_exporting.connect(receiver, dispatch_uid="test-privacy")
    try:
        document = json.loads(member_data_export(user=world.customer.user, fmt="json").content)
        rows = list(csv.DictReader(io.StringIO(member_data_export(user=world.customer.user, fmt="csv").content)))
    finally:
        customer_data_exporting.disconnect(dispatch_uid="test-privacy")
    assert document["checkoutCommits"] == [{"shop": world.shop_a.slug, "totalDue": "18.00"}]
    assert {
        "section": "checkoutCommits",
        "shop": world.shop_a.slug,
        "record": "1",
        "field": "totalDue",
        "value": "18.00",
    } in rows


@pytest.mark.parametrize(
    ("who", "fmt", "code"),
    [
        ("anonymous", "json", CrmErrorCode.NOT_AUTHENTICATED),
        ("staff", "json", CrmErrorCode.NOT_FOUND),
        ("member", "xml", CrmErrorCode.INVALID_INPUT),
    ],
)
def test_export_refusals_write_no_audit(world, who, fmt, code):
    from django.contrib.auth.models import AnonymousUser

    user = {"anonymous": AnonymousUser(), "staff": world.owner, "member": world.customer.user}[who]
    with pytest.raises(CrmError) as refused:
        member_data_export(user=user, fmt=fmt)
    assert refused.value.code == code
    assert not PrivacyAudit.objects.exists()


def test_export_through_graphql(world):
    body = gql(
        login(world.customer.user),
        "mutation { memberDataExport(input: {format: CSV}) { file { filename contentType content } errors { code } } }",
    )
    payload = body["data"]["memberDataExport"]
    assert payload["errors"] == []
    assert payload["file"]["contentType"] == "text/csv"
    assert payload["file"]["content"].startswith("section,shop,record,field,value")


# ---- erasure ------------------------------------------------------------------------------------


def _assert_erased(world: World) -> None:
    customer = Customer.objects.get(pk=world.customer.pk)
    names = {field.name for field in Customer._meta.concrete_fields}
    assert names == set(CUSTOMER_PERSONAL) | CUSTOMER_NOT_PERSONAL
    for name, value in CUSTOMER_PERSONAL.items():
        want = value.format(customer=customer.pk) if isinstance(value, str) else value
        assert getattr(customer, name) == want, name
    user = User.objects.get(pk=world.customer.user_id)
    names = {field.name for field in User._meta.concrete_fields}
    assert names == set(USER_PERSONAL) | USER_NOT_PERSONAL
    for name, value in USER_PERSONAL.items():
        want = value.format(user=user.pk) if isinstance(value, str) else value
        assert getattr(user, name) == want, name
    assert not user.has_usable_password()
    names = {field.name for field in MemberProfile._meta.concrete_fields}
    assert names == set(PROFILE_PERSONAL) | PROFILE_NOT_PERSONAL
    profiles = MemberProfile.objects.filter(account__customer=world.customer)
    assert profiles.count() == 2
    for profile in profiles:
        for name, value in PROFILE_PERSONAL.items():
            assert getattr(profile, name) == value, name
    assert not MemberNote.objects.filter(account__customer=world.customer).exists()
    manual = MemberTag.objects.filter(account__customer=world.customer, source=TagSource.MANUAL)
    assert set(manual.values_list("reason", flat=True)) == {""}  # staff's words; automatic reasons are figures


def test_erasure_blanks_every_personal_field_and_keeps_the_ledger(world):
    now = timezone.now()
    entries = list(PointsEntry.objects.order_by("pk").values_list("pk", "points", "available_delta", "reason"))
    available = MemberAccount.objects.get(pk=world.account_a.pk).points_available
    old_username = world.customer.user.username

    summary = member_erase(actor=world.owner, customer=world.customer, shop_id=world.shop_a.pk, reason="Asked", now=now)

    _assert_erased(world)
    assert ledger_discrepancies() == []
    after = list(PointsEntry.objects.order_by("pk").values_list("pk", "points", "available_delta", "reason"))
    assert after[: len(entries)] == entries  # no posted entry changed
    refund = PointsEntry.objects.get(pk__in=[row[0] for row in after[len(entries) :]])
    assert (refund.kind, refund.points, refund.account_id) == ("refund", 120, world.account_a.pk)
    redemption = Redemption.objects.get(pk=world.redemption.pk)
    assert (redemption.status, redemption.cancelled_at) == (RedemptionStatus.CANCELLED, now)
    assert redemption.reward.stock == 5
    assert MemberAccount.objects.get(pk=world.account_a.pk).points_available == available + 120
    assert ReferralCode.objects.get(account=world.account_b).expires_at == now
    assert (summary.accounts, summary.profiles_blanked, summary.notes_deleted) == (2, 2, 1)
    assert (summary.redemptions_cancelled, summary.points_refunded, summary.referral_codes_deactivated) == (1, 120, 1)
    assert summary.consents_cleared == ("consent_email", "consent_sms")
    audit = PrivacyAudit.objects.get()
    assert (audit.action, audit.customer_id, audit.actor_id, audit.shop_id, audit.at) == (
        PrivacyAction.ERASURE,
        world.customer.pk,
        world.owner.pk,
        world.shop_a.pk,
        now,
    )
    assert audit.details == {"reason": "Asked", "shop": world.shop_a.pk}
    assert not Client().login(username=old_username, password=PASSWORD)
    assert not Client().login(username=f"erased-{world.customer.user_id}", password=PASSWORD)
    body = gql(
        Client(),
        'mutation($u: String!) { login(input: {username: $u, password: "'
        + PASSWORD
        + '"}) { username errors { code } } }',
        {"u": old_username},
    )
    assert body["data"]["login"] == {"username": None, "errors": [{"code": "INVALID_CREDENTIALS"}]}


def test_erasure_records_consent_changes_with_time_and_source(world):
    now = timezone.now()

    member_erase(actor=world.owner, customer=world.customer, reason="Asked", now=now)

    changes = list(ConsentChange.objects.filter(customer=world.customer, source="erasure").order_by("channel"))
    assert [(c.channel, c.granted, c.changed_at, c.changed_by_id) for c in changes] == [
        ("email", False, now, world.owner.pk),
        ("sms", False, now, world.owner.pk),
    ]
    assert ConsentChange.objects.filter(customer=world.customer, source="member").count() == 2  # history kept


def test_second_erasure_is_refused(world):
    member_erase(actor=None, customer=world.customer, reason="Asked")
    before = _state(world)

    with pytest.raises(CrmError) as refused:
        member_erase(actor=None, customer=Customer.objects.get(pk=world.customer.pk), reason="Again")
    assert refused.value.code == CrmErrorCode.ALREADY_ERASED
    with pytest.raises(CrmError) as refused:
        member_erase_by_staff(
            user=world.owner, shop_id=world.shop_a.pk, customer_external_id=f"erased-{world.customer.pk}", reason="x"
        )
    assert refused.value.code == CrmErrorCode.ALREADY_ERASED
    assert _state(world) == before


def test_higher_apps_scrub_their_copies_through_the_signal(world):
    seen = []

    def receiver(sender, customer, former_external_id, at, **kwargs):
        seen.append((customer.external_id, former_external_id))

    external_id = world.customer.external_id
    customer_erasing.connect(receiver, dispatch_uid="test-privacy")
    try:
        member_erase(actor=None, customer=world.customer, reason="Asked")
    finally:
        customer_erasing.disconnect(dispatch_uid="test-privacy")
    assert seen == [(f"erased-{world.customer.pk}", external_id)]


def test_a_failing_receiver_rolls_the_whole_erasure_back(world):
    before = _state(world)

    def receiver(sender, **kwargs):
        raise RuntimeError("checkout could not scrub")

    customer_erasing.connect(receiver, dispatch_uid="test-privacy-fail")
    try:
        with pytest.raises(RuntimeError):
            member_erase(actor=None, customer=world.customer, reason="Asked")
    finally:
        customer_erasing.disconnect(dispatch_uid="test-privacy-fail")
    assert _state(world) == before


# ---- who may erase -------------------------------------------------------------------------------

ERASE = (
    "mutation($shop: ID!, $customer: String!, $reason: String!) { memberErase(input: {shopId: $shop, "
    "customerId: $customer, reason: $reason}) { erasure { customerId redemptionsCancelled pointsRefunded } "
    "errors { code field } } }"
)


@pytest.mark.parametrize(
    ("caller", "shop", "customer", "reason", "code"),
    [
        ("anonymous", "a", "member", "Asked", "NOT_AUTHENTICATED"),
        ("manager", "a", "member", "Asked", "PERMISSION_DENIED"),
        ("cashier", "a", "member", "Asked", "PERMISSION_DENIED"),
        ("member", "a", "member", "Asked", "PERMISSION_DENIED"),
        ("other_owner", "a", "member", "Asked", "PERMISSION_DENIED"),  # not their shop
        ("other_owner", "other", "member", "Asked", "NOT_FOUND"),  # their shop: no such member there
        ("owner", "a", "nobody", "Asked", "NOT_FOUND"),
        ("owner", "a", "member", "  ", "INVALID_INPUT"),
        ("owner", "a", "member", "x" * 501, "INVALID_INPUT"),
    ],
)
def test_refused_erasure_changes_nothing(world, caller, shop, customer, reason, code):
    users = {
        "anonymous": None,
        "manager": world.manager,
        "cashier": world.cashier,
        "member": world.customer.user,
        "other_owner": world.other_owner,
        "owner": world.owner,
    }
    shop_id = gid("Shop", (world.shop_a if shop == "a" else world.other_shop).pk)
    external_id = world.customer.external_id if customer == "member" else "no-such-customer"
    client = login(users[caller])  # before the snapshot: logging in sets last_login
    before = _state(world)

    body = gql(client, ERASE, {"shop": shop_id, "customer": external_id, "reason": reason})

    payload = body["data"]["memberErase"]
    assert payload["erasure"] is None
    assert [error["code"] for error in payload["errors"]] == [code]
    assert _state(world) == before


def test_the_owner_erases_a_member_through_graphql(world):
    body = gql(
        login(world.owner),
        ERASE,
        {"shop": gid("Shop", world.shop_a.pk), "customer": world.customer.external_id, "reason": "Letter of 1 Dec"},
    )

    assert body["data"]["memberErase"] == {
        "erasure": {"customerId": f"erased-{world.customer.pk}", "redemptionsCancelled": 1, "pointsRefunded": 120},
        "errors": [],
    }
    _assert_erased(world)
    assert ledger_discrepancies() == []


def test_a_login_that_is_also_staff_is_not_erased(world):
    staff(ShopFactory(), user=world.customer.user)  # the member also works for a shop
    before = _state(world)

    with pytest.raises(CrmError) as refused:
        member_erase(actor=None, customer=world.customer, reason="Asked")

    assert refused.value.code == CrmErrorCode.INVALID_INPUT
    assert _state(world) == before


# ---- the member erases themselves ------------------------------------------------------------------

VIEWER_ERASE = (
    "mutation($c: String!) { viewerErase(input: {confirm: $c}) { erasure { accounts } errors { code field } } }"
)


def test_the_member_erases_themselves_and_is_logged_out(world):
    client = login(world.customer.user)

    refused = gql(client, VIEWER_ERASE, {"c": "erase"})
    assert refused["data"]["viewerErase"]["errors"] == [{"code": "INVALID_INPUT", "field": "confirm"}]
    assert not PrivacyAudit.objects.exists()

    body = gql(client, VIEWER_ERASE, {"c": "ERASE"})

    assert body["data"]["viewerErase"] == {"erasure": {"accounts": 2}, "errors": []}
    _assert_erased(world)
    assert ledger_discrepancies() == []
    audit = PrivacyAudit.objects.get()
    assert (audit.actor_id, audit.shop_id, audit.details["shop"]) == (world.customer.user_id, None, None)
    viewer = gql(client, "{ viewer { displayName } }")
    assert viewer["errors"][0]["extensions"]["code"] == "NOT_AUTHENTICATED"


def test_viewer_erase_refusals(world):
    with pytest.raises(CrmError) as refused:
        viewer_erase(user=world.owner, confirm="ERASE")
    assert refused.value.code == CrmErrorCode.NOT_FOUND
    viewer_erase(user=world.customer.user, confirm="ERASE")
    with pytest.raises(CrmError) as refused:
        viewer_erase(user=world.customer.user, confirm="ERASE")
    assert refused.value.code == CrmErrorCode.ALREADY_ERASED


# ---- the operator's command ------------------------------------------------------------------------


def test_command_dry_run_changes_nothing_then_erases(world):
    before = _state(world)
    out = io.StringIO()

    call_command("member_erase", world.customer.external_id, "--reason", "Support ticket 42", "--dry-run", stdout=out)

    assert _state(world) == before
    text = out.getvalue()
    assert "dry run" in text
    assert "redemption codes cancelled: 1 (120 points back)" in text
    assert "staff notes deleted: 1" in text

    out = io.StringIO()
    call_command("member_erase", world.customer.external_id, "--reason", "Support ticket 42", stdout=out)

    assert f"erased-{world.customer.pk}" in out.getvalue()
    _assert_erased(world)
    assert ledger_discrepancies() == []
    audit = PrivacyAudit.objects.get()
    assert (audit.actor_id, audit.shop_id, audit.details) == (None, None, {"reason": "Support ticket 42", "shop": None})
    with pytest.raises(CommandError, match="ALREADY_ERASED"):
        call_command("member_erase", f"erased-{world.customer.pk}", "--reason", "Again")
    with pytest.raises(CommandError, match="NOT_FOUND"):
        call_command("member_erase", "no-such-customer", "--reason", "Again")


def test_command_dry_run_checks_the_reason(world):
    before = _state(world)
    with pytest.raises(CommandError, match="INVALID_INPUT"):
        call_command("member_erase", world.customer.external_id, "--reason", " ", "--dry-run")
    assert _state(world) == before


def test_amounts_in_export_are_never_floats(world):
    document = json.loads(member_data_export(user=world.customer.user, fmt="json").content)

    def walk(value):
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        else:
            assert not isinstance(value, float)

    walk(document)
    assert Decimal(document["accounts"][0]["balances"]["qualifyingValue"]) >= 0


def test_export_reads_a_fixed_number_of_queries_whatever_the_shops(world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    user = world.customer.user
    with CaptureQueriesContext(connection) as two_shops:
        member_data_export(user=user, fmt="json")
    member_with_points(points_shop(), amounts=("80.00", "90.00"), customer=world.customer)

    with CaptureQueriesContext(connection) as three_shops:
        document = json.loads(member_data_export(user=user, fmt="json").content)

    assert len(document["accounts"]) == 3
    assert len(three_shops) == len(two_shops)

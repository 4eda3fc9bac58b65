"""Ledger reasons read in the reader's language: every code renders in English exactly as the services
store the text, and in Persian with Persian digits and names; older entries read as stored; the API's
``reason(language:)`` follows."""

from __future__ import annotations

import pytest

from loyalty.models import PointsEntry
from loyalty.reasons import REASONS, Reason, reason_text
from loyalty.services.adjustments import points_adjust
from marketplace.models import StaffRole
from tests.api.graphql import gql, login
from tests.engagement.helpers import member, tehran_shop
from tests.factories import staff

#: A sample of each code's parameters and the English text the services store with them.
SAMPLES = {
    Reason.ORDER_DELIVERED: ({"order": "DEMO-2"}, "Order DEMO-2 delivered"),
    Reason.ORDER_RETURNED: ({"order": "A1", "status": "refunded", "unrecovered": 30}, None),
    Reason.ORDER_PARTIALLY_RETURNED: ({"order": "A1", "lines": [[2, 1], [1, 3]]}, None),
    Reason.POINTS_RELEASED: ({}, "Pending points became available"),
    Reason.ORDER_POINTS_RELEASED: ({"order": "DEMO-2"}, "Points of order DEMO-2 became available"),
    Reason.ORDER_POINTS_EXPIRED: ({"order": "DEMO-2"}, "Points of order DEMO-2 expired"),
    Reason.POINTS_EXPIRED: ({"what": "Welcome bonus"}, "Expired: Welcome bonus"),
    Reason.WELCOME_BONUS: ({}, "Welcome bonus"),
    Reason.BIRTHDAY_BONUS: ({}, "Birthday bonus"),
    Reason.ANNIVERSARY_BONUS: ({"years": 2}, "Anniversary bonus: 2 years as a member"),
    Reason.ADJUSTMENT: ({"note": "Goodwill"}, "Adjusted by staff: Goodwill"),
    Reason.REWARD_REDEEMED: ({"reward": "Bookmark", "reward_fa": "نشانک کتاب"}, "Redeemed: Bookmark"),
    Reason.REDEMPTION_CANCELLED: ({"reward": "Bookmark", "note": ""}, "Cancelled: Bookmark"),
    Reason.REDEMPTION_EXPIRED: ({"reward": "Bookmark", "note": ""}, "Expired: Bookmark"),
    Reason.REFERRAL_REFERRER: ({"friend": "Sara", "code": "K7Q2"}, None),
    Reason.REFERRAL_REFEREE: ({"order": "A1", "code": "K7Q2"}, None),
    Reason.REFERRAL_REVERSED: ({"order": "A1"}, "Referral bonus reversed: order A1 was returned"),
    Reason.CHECKOUT_PAID: ({"amount": "4.50", "currency": "USD"}, "Paid 4.50 USD at checkout"),
    Reason.CHECKOUT_PAID_ORDER: ({"amount": "4.50", "currency": "USD", "order": "T9"}, None),
    Reason.CHECKOUT_GIVEN_BACK: ({"order": "T9"}, "Points paid at checkout given back (T9 returned)"),
    Reason.CULTURAL_EVENT: ({"event": "Nowruz", "event_fa": "نوروز", "year": "1405"}, "Nowruz 1405"),
    Reason.MEMBERSHIP_PAYMENT: ({"plan": "VIP Gold", "plan_fa": "طلایی ویژه"}, "Membership VIP Gold paid"),
}


def test_every_code_has_a_sample_and_renders_in_both_languages():
    codes = {value for name, value in vars(Reason).items() if not name.startswith("_")}
    assert codes == set(REASONS) == set(SAMPLES)
    for code, (params, english) in SAMPLES.items():
        en = reason_text(code, params, stored="stored", language="en")
        fa = reason_text(code, params, stored="stored", language="fa")
        assert en != "stored"
        assert fa != "stored"
        assert fa != en
        if english is not None:
            assert en == english


def test_persian_reads_persian_digits_names_and_statuses():
    assert reason_text(Reason.ORDER_DELIVERED, {"order": "DEMO-2"}, stored="x", language="fa") == "تحویل سفارش DEMO-2"
    assert reason_text(Reason.REWARD_REDEEMED, SAMPLES[Reason.REWARD_REDEEMED][0], stored="x", language="fa-IR") == (
        "دریافت جایزه: نشانک کتاب"
    )
    assert (
        reason_text(Reason.CULTURAL_EVENT, SAMPLES[Reason.CULTURAL_EVENT][0], stored="x", language="fa") == "نوروز ۱۴۰۵"
    )
    returned = reason_text(Reason.ORDER_RETURNED, SAMPLES[Reason.ORDER_RETURNED][0], stored="x", language="fa")
    assert returned == "سفارش A1 بازپرداخت شد؛ ۳۰ امتیاز که پیش‌تر خرج شده بود پس گرفته نشد"
    english = reason_text(Reason.ORDER_RETURNED, SAMPLES[Reason.ORDER_RETURNED][0], stored="x", language="en")
    assert english == "Order A1 refunded; 30 points already spent could not be taken back"


def test_an_entry_without_a_code_or_with_bad_parameters_reads_as_stored():
    assert reason_text("", {}, stored="Old text", language="fa") == "Old text"
    assert reason_text("no_such_code", {}, stored="Old text", language="fa") == "Old text"
    assert reason_text(Reason.ORDER_DELIVERED, {}, stored="Old text", language="fa") == "Old text"
    assert reason_text(Reason.ORDER_DELIVERED, {"order": "A"}, stored="Old text", language=None) == "Old text"


@pytest.mark.django_db
def test_the_api_reads_a_members_ledger_in_persian():
    shop = tehran_shop()
    owner = staff(shop, StaffRole.OWNER)
    account = member(shop, locale="fa")
    points_adjust(user=owner, account_id=account.pk, points=120, reason="Goodwill", idempotency_key="k1")
    entry = PointsEntry.objects.get(account=account)
    assert (entry.reason, entry.reason_code) == ("Adjusted by staff: Goodwill", Reason.ADJUSTMENT)
    query = """query($lang: String) { viewer { accounts(first: 1) { edges { node { entries(first: 5) { edges {
      node { reason(language: $lang) reasonCode } } } } } } } }"""
    client = login(account.customer.user)

    def reasons(language):
        body = gql(client, query, {"lang": language})
        edges = body["data"]["viewer"]["accounts"]["edges"][0]["node"]["entries"]["edges"]
        return [(e["node"]["reason"], e["node"]["reasonCode"]) for e in edges]

    assert reasons("fa") == [("اصلاح امتیاز از سوی فروشگاه: Goodwill", "adjustment")]
    assert reasons(None) == [("Adjusted by staff: Goodwill", "adjustment")]

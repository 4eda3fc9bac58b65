"""A delivered order posts pending points, re-evaluates the tier and marks the event processed."""

from decimal import Decimal

import pytest

from loyalty.models import EntryKind, MemberAccount, PointsEntry
from loyalty.services.orders import order_event_process
from marketplace.services.orders import order_event_record
from tests.factories import CustomerFactory, order_input, shop_with_program

pytestmark = pytest.mark.django_db


def test_delivered_order_earns_pending_points_once():
    shop = shop_with_program()
    customer = CustomerFactory()
    result = order_event_record(
        data=order_input(shop, "A1", customer=customer, amount="120.50"), idempotency_key="k1", actor=None
    )

    outcome = order_event_process(event_id=result.event.pk, broadcast=False)
    again = order_event_process(event_id=result.event.pk, broadcast=False)

    account = MemberAccount.objects.get(customer=customer)
    assert outcome.points == 120
    assert again.already_processed
    assert (account.points_pending, account.points_available, account.lifetime_points) == (120, 0, 120)
    assert account.tier.name == "Silver"
    assert account.qualifying_value == Decimal("120.50")
    assert list(PointsEntry.objects.values_list("kind", flat=True)) == [EntryKind.EARN]

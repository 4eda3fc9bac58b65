"""Webhooks against a real HTTP receiver on loopback: signed deliveries, retries, redelivery, disabling.

The receiver is a ``http.server`` the test starts; it verifies every request with the
``standardwebhooks`` library (as an integrator would) and answers the status codes the test
scripts. Points move through the real services; publishing and sending are the services the
dramatiq actors call.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from integrations.models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from integrations.services.delivery import DISABLE_AFTER, RETRY_DELAYS, deliveries_due, delivery_attempt
from integrations.services.endpoints import webhook_endpoint_create, webhook_redeliver, webhook_secret_rotate
from integrations.services.publishing import events_publish
from loyalty.services.adjustments import points_adjust
from loyalty.services.tiers import account_get_or_enroll
from marketplace.models import ShopEvent, StaffRole
from tests.api.graphql import gid, gql, login
from tests.factories import CustomerFactory, shop_with_program, staff

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_loopback_receivers_allowed")]


@pytest.fixture
def shop():
    return shop_with_program()


@pytest.fixture
def owner(shop):
    user = staff(shop, StaffRole.OWNER)
    user.email = "owner@example.test"
    user.save()
    return user


def _adjust(shop, owner, points: int, key: str):
    customer = CustomerFactory()
    with transaction.atomic():
        account, _ = account_get_or_enroll(customer=customer, program=shop.program, at=timezone.now())
    points_adjust(user=owner, account_id=account.pk, points=points, reason="Goodwill", idempotency_key=key)
    return customer


def _deliver_all(now=None) -> list:
    return [delivery_attempt(delivery_id=pk, now=now) for pk in events_publish(now=now)]


def test_a_delivery_is_signed_per_standard_webhooks_and_verifies_with_the_library(shop, owner, receiver):
    endpoint = webhook_endpoint_create(
        user=owner, shop_id=shop.pk, url=receiver.url, event_types=["points.adjusted", "member.enrolled"]
    )
    customer = _adjust(shop, owner, 40, "hook-1")

    outcomes = _deliver_all()

    assert [outcome.status for outcome in outcomes] == ["succeeded", "succeeded"]
    bodies = []
    for request in receiver.requests:
        payload = Webhook(endpoint.secret).verify(request["body"], request["headers"])
        bodies.append(payload)
        assert request["headers"]["webhook-id"].startswith("evt_")
    assert [body["type"] for body in bodies] == ["member.enrolled", "points.adjusted"]
    adjusted = bodies[1]["data"]
    assert adjusted["points"] == 40
    assert adjusted["member"]["customerExternalId"] == customer.external_id
    assert adjusted["reason"].endswith("Goodwill")
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + "QUJD" * 8).verify(receiver.requests[0]["body"], receiver.requests[0]["headers"])
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {DeliveryStatus.SUCCEEDED}
    assert WebhookAttempt.objects.filter(status_code=200).count() == 2


def test_only_chosen_types_of_the_endpoints_own_shop_are_delivered(shop, owner, receiver):
    other = shop_with_program()
    webhook_endpoint_create(user=owner, shop_id=shop.pk, url=receiver.url, event_types=["points.expired"])
    _adjust(shop, owner, 10, "types-1")
    _adjust(other, staff(other, StaffRole.OWNER), 10, "types-2")

    assert _deliver_all() == []
    assert receiver.requests == []
    assert ShopEvent.objects.filter(position__isnull=True).count() == 0  # published all the same (feed)


def test_a_receiver_500_is_retried_on_the_schedule_and_then_succeeds(shop, owner, receiver):
    webhook_endpoint_create(user=owner, shop_id=shop.pk, url=receiver.url, event_types=["points.adjusted"])
    _adjust(shop, owner, 5, "retry-1")
    receiver.statuses = [500]
    start = timezone.now()

    first = _deliver_all(now=start)
    delivery = WebhookDelivery.objects.get()
    not_yet = deliveries_due(now=start + RETRY_DELAYS[0] - dt.timedelta(seconds=1))
    due = deliveries_due(now=start + RETRY_DELAYS[0])
    second = delivery_attempt(delivery_id=delivery.pk, now=start + RETRY_DELAYS[0])

    assert [outcome.status_code for outcome in first] == [500]
    assert first[0].status == "pending"
    assert not_yet == []
    assert due == [delivery.pk]
    assert second.status == "succeeded"
    assert [request["headers"]["webhook-id"] for request in receiver.requests] == [delivery.event.uid] * 2
    log = list(WebhookAttempt.objects.filter(delivery=delivery).order_by("pk").values_list("status_code", "error"))
    assert log == [(500, "HTTP 500"), (200, "")]
    assert WebhookEndpoint.objects.get().failing_since is None


def test_a_delivery_fails_after_the_whole_schedule_and_can_be_redelivered_with_the_same_id(shop, owner, receiver):
    webhook_endpoint_create(user=owner, shop_id=shop.pk, url=receiver.url, event_types=["points.adjusted"])
    _adjust(shop, owner, 5, "fail-1")
    receiver.statuses = [503] * (len(RETRY_DELAYS) + 1)
    now = timezone.now()
    (delivery_id,) = events_publish(now=now)

    for delay in (dt.timedelta(0), *RETRY_DELAYS):
        now += delay
        delivery_attempt(delivery_id=delivery_id, now=now)
    delivery = WebhookDelivery.objects.get(pk=delivery_id)
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.attempts == len(RETRY_DELAYS) + 1
    assert (
        now - WebhookAttempt.objects.filter(delivery=delivery).earliest("attempted_at").attempted_at
    ) >= dt.timedelta(hours=24)

    webhook_redeliver(user=owner, delivery_id=delivery_id, now=now)
    outcome = delivery_attempt(delivery_id=delivery_id, now=now)

    assert outcome.status == "succeeded"
    ids = {request["headers"]["webhook-id"] for request in receiver.requests}
    assert ids == {delivery.event.uid}  # a receiver drops the duplicate by its id
    assert len(receiver.requests) == len(RETRY_DELAYS) + 2


def test_redeliver_over_graphql_and_its_refusals(shop, owner, receiver):
    webhook_endpoint_create(user=owner, shop_id=shop.pk, url=receiver.url, event_types=["points.adjusted"])
    _adjust(shop, owner, 5, "redeliver-1")
    (delivery_id,) = events_publish()
    delivery_attempt(delivery_id=delivery_id)
    query = "mutation($id: ID!) { webhookRedeliver(id: $id) { delivery { status attempts } errors { code } } }"

    done = gql(login(owner), query, {"id": gid("WebhookDelivery", delivery_id)})
    stranger = gql(
        login(staff(shop_with_program(), StaffRole.OWNER)), query, {"id": gid("WebhookDelivery", delivery_id)}
    )

    assert done["data"]["webhookRedeliver"] == {"delivery": {"status": "PENDING", "attempts": 0}, "errors": []}
    assert stranger["data"]["webhookRedeliver"] == {"delivery": None, "errors": [{"code": "NOT_FOUND"}]}


def test_an_endpoint_failing_for_five_days_is_disabled_and_the_owner_told(
    shop, owner, receiver, django_capture_on_commit_callbacks
):
    endpoint = webhook_endpoint_create(user=owner, shop_id=shop.pk, url=receiver.url, event_types=["points.adjusted"])
    _adjust(shop, owner, 5, "dis-1")
    receiver.statuses = [500] * 20
    start = timezone.now()
    (first,) = events_publish(now=start)
    delivery_attempt(delivery_id=first, now=start)
    _adjust(shop, owner, 6, "dis-2")
    later = start + DISABLE_AFTER
    (second,) = events_publish(now=later)

    with django_capture_on_commit_callbacks(execute=True):
        delivery_attempt(delivery_id=second, now=later)

    endpoint.refresh_from_db()
    assert endpoint.is_active is False
    assert endpoint.disabled_at == later
    assert "No successful delivery since" in endpoint.disabled_reason
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {DeliveryStatus.FAILED}
    notice = ShopEvent.objects.get(type="webhook_endpoint.disabled")
    assert notice.data["url"] == receiver.url
    assert [message.to for message in mail.outbox] == [["owner@example.test"]]
    sent = len(receiver.requests)
    _adjust(shop, owner, 7, "dis-3")
    assert events_publish(now=later) == []  # an inactive endpoint gets nothing new
    assert len(receiver.requests) == sent


def test_a_rotated_secret_signs_alongside_the_old_one_during_the_overlap(shop, owner, receiver):
    endpoint = webhook_endpoint_create(user=owner, shop_id=shop.pk, url=receiver.url, event_types=["points.adjusted"])
    old_secret = endpoint.secret
    rotated = webhook_secret_rotate(user=owner, endpoint_id=endpoint.pk, overlap=dt.timedelta(hours=1))
    _adjust(shop, owner, 5, "rot-1")

    _deliver_all()

    request = receiver.requests[0]
    assert len(request["headers"]["webhook-signature"].split(" ")) == 2
    Webhook(old_secret).verify(request["body"], request["headers"])
    Webhook(rotated.secret).verify(request["body"], request["headers"])


@pytest.mark.parametrize(
    ("url", "types", "code", "field"),
    [
        ("ftp://example.test/x", ["points.earned"], "INVALID_URL", "url"),
        ("https://user:pw@example.test/x", ["points.earned"], "INVALID_URL", "url"),
        ("https://example.test/x", [], "EVENT_TYPES_REQUIRED", "eventTypes"),
        ("https://example.test/x", ["points.stolen"], "INVALID_EVENT_TYPE", "eventTypes"),
    ],
)
def test_bad_endpoints_are_refused_with_a_code_and_nothing_is_written(shop, owner, url, types, code, field):
    body = gql(
        login(owner),
        "mutation($s: ID!, $url: String!, $types: [String!]!) { webhookEndpointCreate(input: "
        "{shopId: $s, url: $url, eventTypes: $types}) { endpoint { url } errors { code field } } }",
        {"s": gid("Shop", shop.pk), "url": url, "types": types},
    )
    assert body["data"]["webhookEndpointCreate"] == {"endpoint": None, "errors": [{"code": code, "field": field}]}
    assert WebhookEndpoint.objects.count() == 0


def test_production_refuses_plain_http_endpoints(shop, owner, settings):
    settings.PATRON_WEBHOOK_ALLOW_HTTP = False
    body = gql(
        login(owner),
        'mutation($s: ID!) { webhookEndpointCreate(input: {shopId: $s, url: "http://example.test/x", '
        'eventTypes: ["points.earned"]}) { errors { code } } }',
        {"s": gid("Shop", shop.pk)},
    )
    assert body["data"]["webhookEndpointCreate"]["errors"] == [{"code": "INVALID_URL"}]


def test_the_owner_reads_endpoints_and_the_delivery_log(shop, owner, receiver):
    webhook_endpoint_create(user=owner, shop_id=shop.pk, url=receiver.url, event_types=["points.adjusted"])
    _adjust(shop, owner, 5, "log-1")
    receiver.statuses = [500]
    _deliver_all()
    body = gql(
        login(owner),
        "query($s: String!) { shop(slug: $s) { webhookEndpoints { url eventTypes failingSince deliveries { status "
        "attempts event { type } log { statusCode error } } } } }",
        {"s": shop.slug},
    )
    (endpoint,) = body["data"]["shop"]["webhookEndpoints"]
    assert endpoint["eventTypes"] == ["points.adjusted"]
    assert endpoint["failingSince"] is not None
    assert endpoint["deliveries"] == [
        {
            "status": "PENDING",
            "attempts": 1,
            "event": {"type": "points.adjusted"},
            "log": [{"statusCode": 500, "error": "HTTP 500"}],
        }
    ]
    assert json.dumps(body).count("secret") == 0

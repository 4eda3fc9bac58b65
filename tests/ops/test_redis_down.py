"""Issue 13, case 11: with Redis (broker, channel layer, rate-limit counters) unreachable.

A real daphne process whose ``REDIS_URL`` names a port nothing listens on (no mocks): login and
the till answer the coded ``SERVICE_UNAVAILABLE``; ``orderEventRecord`` commits the order and its
outbox row and answers success (the outbox sweep sends the event once Redis is back);
``/healthz`` answers, ``/readyz`` says 503; ``import_orders --via-worker`` stops with a message
before writing anything.
"""

from __future__ import annotations

import subprocess

import httpx
import pytest
from django.test import Client
from strawberry import relay

from marketplace.models import Order, OrderEvent, StaffRole
from tests.factories import PASSWORD, CustomerFactory, shop_with_program, staff
from tests.ops.procs import PYTHON, ROOT, free_port, service_env, start, stop, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

LOGIN = """mutation($u: String!, $p: String!) { login(input: {username: $u, password: $p}) {
  username errors { field message code } } }"""
RECORD = """mutation($input: OrderEventRecordInput!, $key: String!) {
  orderEventRecord(input: $input, idempotencyKey: $key) { order { externalId status } errors { code message } } }"""
VALIDATE = """mutation($shop: ID!, $code: String!) { redemptionValidate(input: {shopId: $shop, code: $code}) {
  redemption { status } errors { code message } } }"""


def _session(user) -> httpx.Cookies:
    """A committed session of ``user`` (Django's test client writes it to the database)."""
    client = Client()
    client.force_login(user)
    return httpx.Cookies({"sessionid": client.cookies["sessionid"].value})


def _post(base: str, cookies: httpx.Cookies | None, query: str, variables: dict) -> dict:
    """POST a GraphQL document with the CSRF cookie and header, as a browser would."""
    with httpx.Client(base_url=base, timeout=30, cookies=cookies) as client:
        client.get("/graphql/", params={"query": "{ __typename }"})
        token = client.cookies["csrftoken"]
        response = client.post(
            "/graphql/",
            json={"query": query, "variables": variables},
            headers={"X-CSRFToken": token, "Referer": base + "/"},
        )
        assert response.status_code == 200, response.text
        return response.json()


def test_mutations_answer_service_unavailable_or_succeed_when_redis_is_down(postgres, tmp_path):
    shop = shop_with_program()
    owner = staff(shop, StaffRole.OWNER)
    cashier = staff(shop, StaffRole.CASHIER)
    member = CustomerFactory()
    dead = free_port()  # nothing listens there
    port = free_port()
    web = start(
        [PYTHON, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"],
        env=service_env(dead),
        log=tmp_path / "web.log",
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: httpx.get(base + "/healthz").status_code == 200, timeout=30, what="daphne")
        ready = httpx.get(base + "/readyz")
        assert ready.status_code == 503
        assert ready.json()["checks"] == {"database": "ok", "broker": "broker unreachable"}

        # login: the attempt counters are in Redis
        login = _post(base, None, LOGIN, {"u": member.user.username, "p": PASSWORD})["data"]["login"]
        assert login["username"] is None
        assert [e["code"] for e in login["errors"]] == ["SERVICE_UNAVAILABLE"]
        assert "111" not in login["errors"][0]["message"]

        # the till: its counters too
        till = _post(
            base, _session(cashier), VALIDATE, {"shop": str(relay.GlobalID("Shop", str(shop.pk))), "code": "X"}
        )
        assert [e["code"] for e in till["data"]["redemptionValidate"]["errors"]] == ["SERVICE_UNAVAILABLE"]

        # orderEventRecord: recorded and answered; the message is the sweep's business later
        order_input = {
            "shopId": str(relay.GlobalID("Shop", str(shop.pk))),
            "orderId": "SO-DOWN",
            "status": "DELIVERED",
            "currency": "USD",
            "occurredAt": "2026-03-01T10:00:00+00:00",
            "customer": {"externalId": "cust-down", "displayName": "Ada"},
            "lines": [{"quantity": 1, "unitPrice": "10.00", "categorySlug": "books", "productId": "P1"}],
        }
        record = _post(base, _session(owner), RECORD, {"input": order_input, "key": "down-1"})
        assert "errors" not in record, record
        payload = record["data"]["orderEventRecord"]
        assert payload["errors"] == []
        assert payload["order"] == {"externalId": "SO-DOWN", "status": "DELIVERED"}
        event = OrderEvent.objects.get(order__external_id="SO-DOWN")
        assert event.processed_at is None  # waits in the outbox for the sweep
        assert Order.objects.filter(external_id="SO-DOWN").count() == 1
    finally:
        stop(web)
    log = (tmp_path / "web.log").read_text()
    assert "Traceback" not in log, log[-4000:]

    # the importer refuses up front instead of dying half-way with a traceback
    before = OrderEvent.objects.count()
    result = subprocess.run(
        [PYTHON, "manage.py", "import_orders", "--format", "csv", "samples/orders_example.csv", "--via-worker"],
        cwd=ROOT,
        env=service_env(dead),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "broker unreachable" in result.stderr
    assert "Traceback" not in result.stderr
    assert OrderEvent.objects.count() == before

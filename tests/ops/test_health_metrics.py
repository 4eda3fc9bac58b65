"""Liveness, readiness, ``manage.py health`` and the Prometheus endpoint (issue 13, "Operable")."""

from __future__ import annotations

import pytest
import redis as redis_lib
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client, override_settings

from marketplace.health import SCHEDULER_LOCK_KEY
from tests.api.graphql import gql
from tests.ops.procs import free_port, redis_server

pytestmark = pytest.mark.django_db


def test_healthz_and_readyz_answer():
    client = Client()
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ok", "checks": {"database": "ok", "broker": "ok"}}


def test_readyz_is_503_when_the_broker_is_unreachable():
    with override_settings(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0"):
        ready = Client().get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"]["broker"] == "broker unreachable"
    assert "127.0.0.1" not in ready.content.decode()


def test_health_command_checks_the_scheduler_lock(tmp_path, capsys):
    with redis_server(tmp_path) as server, override_settings(REDIS_URL=f"redis://127.0.0.1:{server.port}/0"):
        call_command("health", "worker")
        with pytest.raises(CommandError, match="scheduler lock not held"):
            call_command("health", "scheduler")
        redis_lib.Redis(port=server.port).set(SCHEDULER_LOCK_KEY, "token", ex=10)
        call_command("health", "scheduler")
    with (
        override_settings(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0"),
        pytest.raises(CommandError, match="broker unreachable"),
    ):
        call_command("health", "worker")


def test_metrics_expose_operations_outbox_ledger_queues_and_sockets():
    client = Client()
    gql(client, "query ShopCount { shops { totalCount } }")
    gql(client, "query Evil" + "x" * 100 + " { shops { totalCount } }")
    text = Client().get("/metrics").content.decode()
    assert 'patron_graphql_request_seconds_count{operation="ShopCount",type="query"}' in text
    assert 'operation="other"' in text  # a malformed or too long name cannot add a series
    for series in (
        "patron_ledger_entries_total ",
        "patron_outbox_depth ",
        "patron_outbox_lag_seconds ",
        'patron_queue_messages{queue="loyalty"}',
        'patron_queue_dead_messages{queue="loyalty"}',
        "patron_websockets_open ",
    ):
        assert series in text, series


def test_metrics_token_when_set():
    with override_settings(PATRON_METRICS_TOKEN="s3cret"):
        assert Client().get("/metrics").status_code == 401
        assert Client().get("/metrics", headers={"Authorization": "Bearer s3cret"}).status_code == 200

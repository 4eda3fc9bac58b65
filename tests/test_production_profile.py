"""The production profile (docs/operations.md): what ``PATRON_DEBUG=0`` (the default) means.

Introspection and GraphiQL are off unless switched on; the web server refuses to start without
``PATRON_SECRET_KEY``; ``manage.py check --deploy`` is clean with the documented production
environment; a failed CSRF check on /graphql/ answers GraphQL-shaped JSON.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client, override_settings

from tests.api.graphql import gql, login
from tests.factories import CustomerFactory

ROOT = Path(__file__).resolve().parent.parent
INTROSPECTION = "{ __schema { queryType { name } } }"


def _production_environment(**extra: str) -> dict[str, str]:
    """The documented production environment (docs/operations.md), over this run's services."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("PATRON_") or key.endswith("_PREFIX") or key == "PATRON_DRAMATIQ_NAMESPACE"
    }
    environment.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        PATRON_SECRET_KEY=secrets.token_urlsafe(50),
        PATRON_HTTPS="1",
        PATRON_ALLOWED_HOSTS="patron.example.com",
        PATRON_EMBEDDED_WORKER="0",
    )
    environment.update(extra)
    return environment


@pytest.mark.django_db
def test_introspection_is_off_by_default_and_on_when_switched_on():
    # given the default settings (PATRON_DEBUG unset)
    # when an anonymous client introspects
    refused = gql(Client(), INTROSPECTION)
    # then it is refused with a code, while __typename still answers
    assert refused["errors"][0]["extensions"]["code"] == "INTROSPECTION_DISABLED"
    assert gql(Client(), "{ __typename }") == {"data": {"__typename": "Query"}}
    # and with PATRON_INTROSPECTION on it answers
    with override_settings(PATRON_INTROSPECTION=True):
        assert gql(Client(), INTROSPECTION) == {"data": {"__schema": {"queryType": {"name": "Query"}}}}


@pytest.mark.django_db
def test_graphiql_is_off_by_default_and_on_when_switched_on():
    # given the default settings
    # when a browser asks for /graphql/
    response = Client().get("/graphql/", HTTP_ACCEPT="text/html")
    # then there is no GraphiQL, but a coded NOT_FOUND
    assert response.status_code == 404
    assert response.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    # and with PATRON_GRAPHIQL on (scripts/run) it is served
    with override_settings(PATRON_GRAPHIQL=True):
        assert b"graphiql" in Client().get("/graphql/", HTTP_ACCEPT="text/html").content.lower()


@pytest.mark.django_db
def test_a_failed_csrf_check_answers_graphql_shaped_json():
    # given a logged-in member whose client does not send the CSRF token
    member = CustomerFactory()
    client = login(member.user)
    client.handler.enforce_csrf_checks = True

    # when it posts a mutation
    response = client.post(
        "/graphql/", data=json.dumps({"query": "mutation { logout { ok } }"}), content_type="application/json"
    )

    # then the refusal is GraphQL-shaped JSON with a code, and the session is untouched
    assert response.status_code == 403
    assert response["Content-Type"] == "application/json"
    assert response.json()["errors"][0]["extensions"]["code"] == "CSRF_FAILED"
    assert response.json()["data"] is None


def test_the_web_server_refuses_to_start_without_a_secret_key():
    # given the production environment without PATRON_SECRET_KEY
    environment = _production_environment()
    del environment["PATRON_SECRET_KEY"]

    # when the ASGI application is loaded (what daphne does first)
    result = subprocess.run(
        [sys.executable, "-c", "import config.asgi"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )

    # then it refuses, naming the variable
    assert result.returncode != 0
    assert "PATRON_SECRET_KEY is not set" in result.stderr


def test_the_web_server_starts_with_a_secret_key():
    # given the documented production environment
    # when the ASGI application is loaded
    result = subprocess.run(
        [sys.executable, "-c", "import config.asgi; print('loaded')"],
        cwd=ROOT,
        env=_production_environment(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    # then it loads
    assert result.returncode == 0, result.stderr
    assert "loaded" in result.stdout


def test_check_deploy_is_clean_with_the_documented_production_environment():
    # given the documented production environment (docs/operations.md, "Production profile")
    # when Django's deployment checks run, failing on any warning
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=_production_environment(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    # then there is nothing to report
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_postgresql_connections_carry_the_statement_timeout(postgres):
    # given the default settings on PostgreSQL
    from django.db import connection

    # when the connection's statement timeout is read
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        (value,) = cursor.fetchone()

    # then it is the documented bound
    assert value == "15s"

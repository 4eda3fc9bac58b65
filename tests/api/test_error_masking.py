"""Error masking: a bug answers INTERNAL_ERROR with a request id, never internals; refusals stay coded.

The unexpected error is a real one: another connection holds an exclusive lock on the shops
table and the request's statement times out in PostgreSQL (``OperationalError`` whose text names
the statement). Also: expected refusals are logged at INFO without a traceback, the request id
is in the response header and in the log, and HTTP-level refusals (deep variables, malformed
JSON) answer GraphQL-shaped JSON with a code instead of an HTTP 500 or plain text.
"""

from __future__ import annotations

import json
import logging

import pytest
from django.db import connection
from django.test import Client

from tests.api.graphql import gql

pytestmark = [pytest.mark.django_db]

INTERNALS = ("statement", "SELECT", "marketplace_", "Traceback", "OperationalError", "psycopg", "127.0.0.1", ".py")


def _post(client: Client, body: str, **headers: str):
    return client.post("/graphql/", data=body, content_type="application/json", **headers)


@pytest.fixture
def shops_table_locked(postgres):
    """Another connection holds ACCESS EXCLUSIVE on the shops table; ours times out after 200 ms."""
    other = connection.copy()
    other.ensure_connection()
    other.connection.autocommit = False
    with other.connection.cursor() as cursor:
        cursor.execute("LOCK TABLE marketplace_shop IN ACCESS EXCLUSIVE MODE")
    with connection.cursor() as cursor:
        cursor.execute("SET statement_timeout = 200")
    yield
    other.connection.rollback()
    other.close()


def test_an_unexpected_database_error_answers_internal_error_with_a_request_id(shops_table_locked, caplog):
    # given a request whose SQL statement PostgreSQL cancels (a real bug-class failure)
    caplog.set_level(logging.INFO)

    # when an anonymous client asks for the shops
    response = _post(Client(), json.dumps({"query": "{ shops { totalCount } }"}))

    # then the client gets a coded error with the request id and no internals
    assert response.status_code == 200
    body = response.json()
    error = body["errors"][0]
    assert error["message"] == "Internal error."
    assert error["extensions"]["code"] == "INTERNAL_ERROR"
    request_id = error["extensions"]["requestId"]
    assert request_id == response["X-Request-ID"]
    text = response.content.decode()
    for internal in INTERNALS:
        assert internal not in text, internal
    # and the log has one ERROR line with that id and the traceback of the real exception
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1, [r.getMessage() for r in errors]
    assert errors[0].request_id == request_id
    assert request_id in errors[0].getMessage()
    assert errors[0].exc_info is not None
    assert "statement timeout" in str(errors[0].exc_info[1])


def test_expected_refusals_pass_unchanged_and_are_logged_at_info_without_traceback(caplog):
    # given an anonymous client
    caplog.set_level(logging.INFO)

    # when it asks for the viewer
    body = gql(Client(), "{ viewer { displayName } }")

    # then the coded refusal reaches it unchanged
    assert body["errors"][0]["extensions"]["code"] == "NOT_AUTHENTICATED"
    assert body["errors"][0]["message"] == "Log in first."
    # and the log has no ERROR and no traceback, only an INFO line naming the code
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert all(r.exc_info is None for r in caplog.records)
    assert any("NOT_AUTHENTICATED" in r.getMessage() and r.levelno == logging.INFO for r in caplog.records)


def test_document_errors_get_a_code():
    # given documents that do not parse or do not validate
    # when they are posted
    parse = gql(Client(), "{ shops { ")
    unknown = gql(Client(), "{ noSuchField }")
    # then each error carries a code
    assert parse["errors"][0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"
    assert unknown["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


def test_every_response_carries_a_request_id_and_a_valid_incoming_one_is_kept():
    # given a client that sends its own request id (a load balancer's)
    client = Client()
    # when it posts twice, once with an id and once without
    kept = _post(client, json.dumps({"query": "{ __typename }"}), HTTP_X_REQUEST_ID="lb-0123456789abcdef")
    fresh = _post(client, json.dumps({"query": "{ __typename }"}), HTTP_X_REQUEST_ID="bad id\nwith newline")
    # then the valid id is answered back and the invalid one replaced by a fresh id
    assert kept["X-Request-ID"] == "lb-0123456789abcdef"
    assert len(fresh["X-Request-ID"]) == 32
    assert fresh["X-Request-ID"] != "bad id\nwith newline"


def test_a_thousand_nested_lists_in_variables_answer_a_coded_error_not_a_500():
    # given variables nested 1,000 lists deep
    deep = "[" * 1000 + "]" * 1000
    body = '{"query": "query($x: [Int]) { shops { totalCount } }", "variables": {"x": ' + deep + "}}"

    # when they are posted
    response = _post(Client(), body)

    # then the answer is a coded GraphQL error, not a server error
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["extensions"] == {"code": "INVALID_INPUT", "field": "variables"}


def test_http_level_refusals_answer_graphql_shaped_json():
    # given requests strawberry refuses before any operation
    client = Client()
    # when the body is not JSON, or there is no query, or the method is not GET/POST
    malformed = _post(client, "{not json")
    no_query = _post(client, json.dumps({"variables": {}}))
    wrong_method = client.put("/graphql/", data="{}", content_type="application/json")
    # then each answers GraphQL-shaped JSON with a code and its HTTP status
    assert malformed.status_code == 400
    assert malformed.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert no_query.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert wrong_method.status_code == 405
    assert wrong_method.json()["errors"][0]["extensions"]["code"] == "METHOD_NOT_ALLOWED"

# ruff: noqa: RUF001  (Persian digits and letters are meant)
"""SMS adapters against their providers' documented HTTP contracts, served by a local server that answers
as the documentation says (Kavenegar's sms/send, Twilio's Messages resource): the exact requests, the
duplicate guard on every try, and refusals recorded without secrets."""

from __future__ import annotations

import base64
import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest
from django.test import override_settings

from engagement.models import Channel, EngagementKind, EventStatus
from engagement.services.delivery import deliver
from engagement.services.planning import plan
from tests.engagement.helpers import member, tehran_shop

pytestmark = pytest.mark.django_db

NOON = dt.datetime(2026, 12, 21, 8, 30, tzinfo=dt.UTC)


class Provider(BaseHTTPRequestHandler):
    """Kavenegar and Twilio as documented; ``server.answers`` overrides the next answers (status, body)."""

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        self.server.requests.append({"path": urlparse(self.path).path, "form": form, "headers": dict(self.headers)})
        if self.server.answers:
            status, body = self.server.answers.pop(0)
        elif self.path.startswith("/v1/"):
            # https://kavenegar.com/rest.html, sms/send: the return block and one entry per receptor
            status, body = (
                200,
                {
                    "return": {"status": 200, "message": "تایید شد"},
                    "entries": [
                        {"messageid": 8792343, "message": form["message"], "status": 1, "receptor": form["receptor"]}
                    ],
                },
            )
        else:
            # https://www.twilio.com/docs/messaging/api/message-resource#create-a-message-resource
            status, body = 201, {"sid": "SM1f0e8ae6ade43cb3c0ce4525424e404f", "status": "queued", "to": form["To"]}
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args) -> None:
        """Quiet."""


@pytest.fixture
def provider():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Provider)
    server.requests, server.answers = [], []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def _sms(shop, phone="+989121234567", locale="fa"):
    account = member(shop, locale=locale, consent_sms=True, phone=phone)
    planned = plan(
        account=account,
        kind=EngagementKind.WIN_BACK,
        key="winback:2026-09-01",
        variables={"days_since_visit": "۱۱۰", "gifts": []},
        channels=[Channel.SMS],
        planned_at=NOON,
    )
    return planned.events[0]


def test_kavenegar_gets_the_documented_request_with_its_duplicate_guard(provider):
    base = f"http://127.0.0.1:{provider.server_port}"
    with override_settings(
        PATRON_SMS_PROVIDER="kavenegar", PATRON_KAVENEGAR_API_KEY="K3Y-123", PATRON_KAVENEGAR_BASE_URL=base
    ):
        shop = tehran_shop()
        event = _sms(shop)
        assert deliver(event.pk, now=NOON).sent
    (request,) = provider.requests
    assert request["path"] == "/v1/K3Y-123/sms/send.json"
    assert request["form"]["receptor"] == "+989121234567"
    assert request["form"]["localid"] == event.idempotency_key
    assert request["form"]["message"].startswith("دلمان برایتان تنگ شده است\n")
    assert "۱۱۰ روز از آخرین خرید شما" in request["form"]["message"]
    event.refresh_from_db()
    assert (event.status, event.provider_ref) == (EventStatus.SENT, "8792343")


def test_a_kavenegar_refusal_is_recorded_without_the_key_and_a_bad_number_is_not_retried(provider):
    base = f"http://127.0.0.1:{provider.server_port}"
    provider.answers = [(411, {"return": {"status": 411, "message": "گیرنده نامعتبر است"}, "entries": None})]
    with override_settings(
        PATRON_SMS_PROVIDER="kavenegar", PATRON_KAVENEGAR_API_KEY="K3Y-123", PATRON_KAVENEGAR_BASE_URL=base
    ):
        event = _sms(tehran_shop(), phone="+98912")
        result = deliver(event.pk, now=NOON)
    event.refresh_from_db()
    assert (result.sent, event.status) == (False, EventStatus.FAILED)  # 411: retrying changes nothing
    (attempt,) = event.attempts_made.all()
    assert attempt.detail == "kavenegar refused: status 411"
    assert "K3Y" not in attempt.detail


def test_twilio_gets_the_documented_request_and_a_server_error_is_retried(provider):
    base = f"http://127.0.0.1:{provider.server_port}"
    provider.answers = [(503, {"code": 20503, "message": "Service unavailable", "status": 503})]
    settings = {
        "PATRON_SMS_PROVIDER": "twilio",
        "PATRON_TWILIO_ACCOUNT_SID": "AC0123456789abcdef0123456789abcdef",
        "PATRON_TWILIO_AUTH_TOKEN": "s3cret",
        "PATRON_TWILIO_FROM": "+15005550006",
        "PATRON_TWILIO_BASE_URL": base,
    }
    with override_settings(**settings):
        event = _sms(tehran_shop(), phone="+14155552671", locale="en")
        first = deliver(event.pk, now=NOON)
        event.refresh_from_db()
        assert (first.sent, event.status) == (False, EventStatus.PLANNED)  # 503: tried again later
        assert deliver(event.pk, now=event.planned_at).sent
    assert len(provider.requests) == 2
    for request in provider.requests:
        assert request["path"] == "/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages.json"
        assert request["form"]["To"] == "+14155552671"
        assert request["form"]["From"] == "+15005550006"
        assert request["form"]["Body"].startswith("We miss you at ")
        credentials = base64.b64decode(request["headers"]["Authorization"].removeprefix("Basic ")).decode()
        assert credentials == "AC0123456789abcdef0123456789abcdef:s3cret"
        # the same token on both tries: Twilio drops the second if the first got through after all
        assert request["headers"]["I-Twilio-Idempotency-Token"] == event.idempotency_key
    event.refresh_from_db()
    assert (event.status, event.provider_ref) == (EventStatus.SENT, "SM1f0e8ae6ade43cb3c0ce4525424e404f")


def test_without_a_provider_sms_messages_are_skipped_as_unavailable():
    with override_settings(PATRON_SMS_PROVIDER=""):
        event = _sms(tehran_shop())
    assert event.status == EventStatus.SKIPPED_UNAVAILABLE

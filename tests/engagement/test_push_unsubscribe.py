"""Web push (VAPID, RFC 8291 encryption) to a push service the test runs on loopback, decrypted with the
subscription's keys; a gone subscription is dropped. The unsubscribe link works without login: GET asks,
POST turns the consent off once and records it; a forged link is refused."""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.test import Client, override_settings

from engagement.models import Channel, EngagementKind, EventStatus, PushSubscription
from engagement.services.delivery import deliver
from engagement.services.planning import plan, unsubscribe_url
from marketplace.models import ConsentChange, Customer
from tests.engagement.helpers import member, tehran_shop

pytestmark = pytest.mark.django_db

NOON = dt.datetime(2026, 12, 21, 8, 30, tzinfo=dt.UTC)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


class PushService(BaseHTTPRequestHandler):
    """Accepts pushes (201) at /push/<id>; answers 410 Gone at /push/gone."""

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.received.append((self.path, {k.lower(): v for k, v in self.headers.items()}, body))
        self.send_response(410 if self.path.endswith("/gone") else 201)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args) -> None:
        """Quiet."""


@pytest.fixture
def push_service():
    server = ThreadingHTTPServer(("127.0.0.1", 0), PushService)
    server.received = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def vapid():
    key = ec.generate_private_key(ec.SECP256R1())
    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    with override_settings(PATRON_VAPID_PRIVATE_KEY=_b64(der), PATRON_VAPID_SUBJECT="mailto:ops@example.com"):
        yield key.public_key()


def test_a_push_is_encrypted_for_the_subscription_and_signed_with_vapid(push_service, vapid):
    shop = tehran_shop()
    account = member(shop, locale="en", consent_push=True)
    browser = ec.generate_private_key(ec.SECP256R1())  # the browser's subscription keys
    public = browser.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    auth = os.urandom(16)
    base = f"http://127.0.0.1:{push_service.server_port}"
    PushSubscription.objects.create(
        customer_id=account.customer_id, endpoint=f"{base}/push/abc", p256dh=_b64(public), auth=_b64(auth)
    )
    PushSubscription.objects.create(
        customer_id=account.customer_id, endpoint=f"{base}/push/gone", p256dh=_b64(public), auth=_b64(auth)
    )
    planned = plan(
        account=account,
        kind=EngagementKind.TIER_UPGRADE,
        key="shopevent:evt_1",
        variables={"tier_name": "Gold", "previous_tier": "Silver"},
        channels=[Channel.PUSH],
        planned_at=NOON,
    )
    assert deliver(planned.events[0].pk, now=NOON).sent
    received = {path: (headers, body) for path, headers, body in push_service.received}
    headers, body = received["/push/abc"]
    assert headers["content-encoding"] == "aes128gcm"
    # VAPID (RFC 8292): a JWT signed by the server's key, for the push service's origin
    scheme, _, params = headers["authorization"].partition(" ")
    assert scheme == "vapid"
    fields = dict(part.strip().split("=", 1) for part in params.split(","))
    vapid_pem = vapid.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    claims = jwt.decode(fields["t"], vapid_pem, algorithms=["ES256"], audience=base)
    assert claims["sub"] == "mailto:ops@example.com"
    # only the subscription's keys open the payload (RFC 8291)
    notice = json.loads(http_ece.decrypt(body, private_key=browser, auth_secret=auth, version="aes128gcm"))
    assert notice == {"title": "Welcome to Gold", "body": planned.events[0].body}
    # the subscription the service said was gone is dropped
    assert list(PushSubscription.objects.values_list("endpoint", flat=True)) == [f"{base}/push/abc"]


def test_the_unsubscribe_link_asks_then_turns_the_consent_off_once():
    shop = tehran_shop()
    account = member(shop, locale="fa", consent_email=True, consent_sms=True)
    link = unsubscribe_url(account.customer_id, Channel.EMAIL).removeprefix("http://127.0.0.1:8000")
    client = Client()
    # GET (a mail scanner following the link) changes nothing
    page = client.get(link)
    assert page.status_code == 200
    assert 'dir="rtl"' in page.content.decode()
    assert Customer.objects.get(pk=account.customer_id).consent_email is True
    # POST (the button, or a mail client's one-click) turns e-mail off, and only e-mail
    assert client.post(link).status_code == 200
    customer = Customer.objects.get(pk=account.customer_id)
    assert (customer.consent_email, customer.consent_sms) == (False, True)
    assert list(ConsentChange.objects.values_list("channel", "granted", "source")) == [("email", False, "unsubscribe")]
    # a second click changes nothing more
    client.post(link)
    assert ConsentChange.objects.count() == 1
    # a forged or altered link is refused and changes nothing
    forged = link[:-3] + ("aaa" if not link.endswith("aaa") else "bbb")
    assert client.post(forged).status_code == 400
    assert client.post("/engagement/unsubscribe/not-a-token").status_code == 400
    assert ConsentChange.objects.count() == 1
    # and a message planned after it is skipped for want of consent
    account = type(account).objects.select_related("customer", "tier", "program__shop").get(pk=account.pk)
    later = plan(
        account=account,
        kind=EngagementKind.WIN_BACK,
        key="winback:x",
        variables={"days_since_visit": "1", "gifts": []},
        channels=[Channel.EMAIL],
    )
    assert later.events[0].status == EventStatus.SKIPPED_CONSENT


def test_the_dashboard_link_of_a_message_records_a_click_then_opens_the_members_page():
    shop = tehran_shop()
    account = member(shop, locale="en")
    event = plan(
        account=account,
        kind=EngagementKind.WIN_BACK,
        key="winback:click",
        variables={"days_since_visit": "100", "gifts": []},
        channels=[Channel.INBOX],
        texts={"en": {"subject": "Back?", "body": "Come back: {{ dashboard_url }}"}},
    ).events[0]
    link = event.body.removeprefix("Come back: ").removeprefix("http://127.0.0.1:8000")
    assert link.startswith("/engagement/r/")
    client = Client()
    answer = client.get(link)
    assert (answer.status_code, answer["Location"]) == (302, f"http://127.0.0.1:8000/accounts/{account.pk}")
    event.refresh_from_db()
    assert event.response == "clicked"
    assert event.response_at is not None
    # a link that does not verify records nothing and goes home
    assert client.get(link[:-4] + "xxxx")["Location"] == "http://127.0.0.1:8000/"

"""E-mail over real SMTP: a server the test starts on loopback (aiosmtpd) receives the rendered Persian
and English messages; a retry after an SMTP failure sends exactly once; a duplicate delivery sends nothing."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import socket

import pytest
from aiosmtpd.controller import Controller
from django.test import override_settings

from engagement.models import AttemptOutcome, Channel, EngagementEvent, EngagementKind, EventStatus
from engagement.services.delivery import BACKOFF, deliver
from engagement.services.planning import plan
from tests.engagement.helpers import member, tehran_shop

pytestmark = pytest.mark.django_db

NOON = dt.datetime(2026, 12, 21, 8, 30, tzinfo=dt.UTC)  # 12:00 in Tehran: outside quiet hours


class Inbox:
    """An aiosmtpd handler that keeps what it accepted, and refuses the next ``refuse`` messages (451)."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.refuse = 0

    async def handle_DATA(self, server, session, envelope):
        if self.refuse:
            self.refuse -= 1
            return "451 4.3.0 Try again later"
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp():
    """A real SMTP server on a free loopback port, and Django's SMTP backend pointed at it."""
    inbox = Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with override_settings(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend", EMAIL_HOST="127.0.0.1", EMAIL_PORT=port
        ):
            yield inbox
    finally:
        controller.stop()


def _yalda_message(account) -> EngagementEvent:
    planned = plan(
        account=account,
        kind=EngagementKind.CULTURAL_EVENT,
        key="cultural:yalda:1405",
        variables={"event_name": "شب یلدا" if account.customer.locale == "fa" else "Yalda Night", "bonus_points": ""},
        channels=[Channel.EMAIL],
        planned_at=NOON,
    )
    return planned.events[0]


def test_the_server_receives_the_rendered_persian_and_english_mails(smtp):
    shop = tehran_shop(name="Saffron House")
    persian = member(shop, locale="fa", consent_email=True, display_name="مریم")
    english = member(shop, locale="en", consent_email=True, display_name="Mary")
    for account in (persian, english):
        event = _yalda_message(account)
        assert deliver(event.pk, now=NOON).sent
    assert len(smtp.messages) == 2
    fa, en = smtp.messages
    assert fa["To"] == persian.customer.email
    assert fa["Subject"] == "شب یلدا مبارک"
    assert fa["Content-Language"] == "fa"
    text = fa.get_body(("plain",)).get_content()
    assert "مریم عزیز، شب یلدا بر شما مبارک!" in text
    assert 'dir="rtl"' in fa.get_body(("html",)).get_content()
    unsubscribe = str(fa["List-Unsubscribe"]).strip()  # a long header comes folded
    assert unsubscribe.startswith("<http://127.0.0.1:8000/engagement/unsubscribe/")
    assert fa["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert en["Subject"] == "Happy Yalda Night from Saffron House"
    assert "Dear Mary, happy Yalda Night!" in en.get_body(("plain",)).get_content()
    assert 'dir="ltr"' in en.get_body(("html",)).get_content()
    assert EngagementEvent.objects.filter(status=EventStatus.SENT).count() == 2


def test_a_retry_after_an_smtp_failure_sends_once(smtp):
    shop = tehran_shop()
    account = member(shop, consent_email=True)
    event = _yalda_message(account)
    # when the server refuses the first try
    smtp.refuse = 1
    first = deliver(event.pk, now=NOON)
    event.refresh_from_db()
    # then nothing was received, the failure is recorded and the next try is planned after the back-off
    assert (first.sent, first.status) == (False, EventStatus.PLANNED)
    assert smtp.messages == []
    assert event.planned_at == NOON + BACKOFF[0]
    assert list(event.attempts_made.values_list("outcome", flat=True)) == [AttemptOutcome.FAILED]
    # and a delivery before that time does nothing
    assert deliver(event.pk, now=NOON + dt.timedelta(seconds=30)) is None
    # when the retry comes, it is sent; a duplicate delivery message after it sends nothing more
    later = NOON + BACKOFF[0]
    assert deliver(event.pk, now=later).sent
    assert deliver(event.pk, now=later) is None
    assert len(smtp.messages) == 1
    event.refresh_from_db()
    assert (event.status, event.attempts, event.sent_at) == (EventStatus.SENT, 2, later)
    # the same Message-ID on every try lets a receiver recognise a resend
    assert smtp.messages[0]["Message-ID"] == f"<{event.idempotency_key.replace(':', '.')}@patron>"


def test_after_the_last_retry_the_message_is_failed(smtp):
    shop = tehran_shop()
    event = _yalda_message(member(shop, consent_email=True))
    smtp.refuse = len(BACKOFF) + 1
    at = NOON
    for wait in (*BACKOFF, None):
        deliver(event.pk, now=at)
        if wait is not None:
            at += wait
    event.refresh_from_db()
    assert event.status == EventStatus.FAILED
    assert event.attempts == len(BACKOFF) + 1
    assert smtp.messages == []

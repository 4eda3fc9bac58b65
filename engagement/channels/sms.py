"""SMS through a provider's HTTP API: Kavenegar (Iran) or Twilio (docs/engagement.md, "Channels").

Each adapter speaks its provider's documented contract with httpx; the base URL is a setting,
so ``tests/engagement/test_sms_providers.py`` checks the exact requests against a local server
that answers as the provider documents. Both adapters pass the event's key to the provider's
own duplicate guard (Kavenegar's ``localid``, Twilio's ``I-Twilio-Idempotency-Token``), so a
retry after a lost answer does not send a second SMS.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import httpx
from django.conf import settings


class SmsError(Exception):
    """The provider refused or could not be reached; ``detail`` is safe to record (no secrets)."""

    def __init__(self, detail: str, *, permanent: bool = False) -> None:
        super().__init__(detail)
        self.detail = detail
        self.permanent = permanent


class SmsProvider(Protocol):
    """Sends one text to one number (E.164 or the provider's local form) and returns its message id."""

    def send(self, *, to: str, text: str, key: str) -> str:
        """Send ``text`` to ``to``; ``key`` identifies the message across retries. Raises :class:`SmsError`."""
        ...


@dataclass(frozen=True)
class Kavenegar:
    """Kavenegar's ``sms/send`` (https://kavenegar.com/rest.html): ``POST {base}/v1/{API-KEY}/sms/send.json``
    with form fields ``receptor``, ``message``, ``sender`` (optional) and ``localid``; the answer
    is ``{"return": {"status": 200, "message": ...}, "entries": [{"messageid": ..., ...}]}``, and
    any other ``return.status`` (e.g. 411 invalid receptor, 418 no credit) is a refusal."""

    api_key: str
    base_url: str
    sender: str = ""

    def send(self, *, to: str, text: str, key: str) -> str:
        """Send through Kavenegar; returns its ``messageid``."""
        form = {"receptor": to, "message": text, "localid": key}
        if self.sender:
            form["sender"] = self.sender
        try:
            answer = httpx.post(
                f"{self.base_url}/v1/{self.api_key}/sms/send.json", data=form, timeout=settings.PATRON_SMS_TIMEOUT
            )
            body = answer.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise SmsError(f"kavenegar unreachable: {type(exc).__name__}") from None
        status = (body.get("return") or {}).get("status")
        if status != 200:
            permanent = status in (411, 412, 414, 417)  # receptor, sender, too long, blocked: retrying changes nothing
            raise SmsError(f"kavenegar refused: status {status}", permanent=permanent)
        entries = body.get("entries") or [{}]
        return str(entries[0].get("messageid", ""))


@dataclass(frozen=True)
class Twilio:
    """Twilio's Messages resource (https://www.twilio.com/docs/messaging/api/message-resource):
    ``POST {base}/2010-04-01/Accounts/{AccountSid}/Messages.json`` with HTTP basic auth (account
    SID and auth token) and form fields ``To``, ``From``, ``Body``; ``201`` answers the message with
    its ``sid``; ``4xx`` answers ``{"code", "message", "status"}``."""

    account_sid: str
    auth_token: str
    sender: str
    base_url: str

    def send(self, *, to: str, text: str, key: str) -> str:
        """Send through Twilio; returns the message ``sid``."""
        try:
            answer = httpx.post(
                f"{self.base_url}/2010-04-01/Accounts/{self.account_sid}/Messages.json",
                data={"To": to, "From": self.sender, "Body": text},
                auth=(self.account_sid, self.auth_token),
                headers={"I-Twilio-Idempotency-Token": key},
                timeout=settings.PATRON_SMS_TIMEOUT,
            )
            body = answer.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise SmsError(f"twilio unreachable: {type(exc).__name__}") from None
        if answer.status_code != 201:
            code = body.get("code") if isinstance(body, dict) else None
            raise SmsError(
                f"twilio refused: {answer.status_code} code {code}", permanent=400 <= answer.status_code < 500
            )
        return str(body.get("sid", ""))


def sms_provider(sender: str = "") -> SmsProvider | None:
    """The configured provider (``PATRON_SMS_PROVIDER``), or ``None`` when SMS is not set up.
    ``sender`` is the shop's own sender (Kavenegar line number), if any."""
    if settings.PATRON_SMS_PROVIDER == "kavenegar":
        return Kavenegar(
            api_key=settings.PATRON_KAVENEGAR_API_KEY, base_url=settings.PATRON_KAVENEGAR_BASE_URL, sender=sender
        )
    if settings.PATRON_SMS_PROVIDER == "twilio":
        return Twilio(
            account_sid=settings.PATRON_TWILIO_ACCOUNT_SID,
            auth_token=settings.PATRON_TWILIO_AUTH_TOKEN,
            sender=sender or settings.PATRON_TWILIO_FROM,
            base_url=settings.PATRON_TWILIO_BASE_URL,
        )
    return None

"""E-mail through Django's e-mail backend (SMTP in production; docs/engagement.md, "Channels")."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection

from engagement.rendering import html_body


def email_send(*, to: str, subject: str, body: str, language: str, unsubscribe: str, message_id: str) -> str:
    """Send one message: a plain-text part and an HTML part (``dir="rtl"`` for Persian), with
    ``List-Unsubscribe`` and one-click ``List-Unsubscribe-Post`` (RFC 2369, RFC 8058) and a
    ``Message-ID`` fixed by the event, so a receiver can recognise a resend. Returns the id.

    Raises what the backend raises (``smtplib.SMTPException``, ``OSError``): the caller records
    the failure and tries again later. Uses ``EMAIL_TIMEOUT`` seconds per connection.
    """
    message = EmailMultiAlternatives(
        subject=subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        headers={
            "Message-ID": message_id,
            "Content-Language": language,
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
        connection=get_connection(fail_silently=False),
    )
    message.attach_alternative(html_body(body, language), "text/html")
    message.send(fail_silently=False)
    return message_id

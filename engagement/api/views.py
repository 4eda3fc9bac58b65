"""A message's links (no login). The unsubscribe page: GET asks, POST unsubscribes (RFC 8058 one-click
POST from mail clients too), so link scanners never unsubscribe anyone. The dashboard link: records the
*clicked* response and redirects (a scanner that follows it counts as a click, as with any tracked link)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.html import escape
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from engagement.errors import EngagementError
from engagement.rendering import RTL
from engagement.services.consent import message_clicked, unsubscribe, unsubscribe_read
from loyalty.reasons import language_of

_TEXT = {
    "en": {
        "ask": "Stop marketing messages by {channel}?",
        "button": "Unsubscribe",
        "done": "You will no longer get marketing messages by {channel}. You can turn them on again on your dashboard.",
        "invalid": "This link is not valid.",
        "channels": {"email": "e-mail", "sms": "SMS", "push": "push notification"},
    },
    "fa": {
        "ask": "دریافت پیام‌های تبلیغاتی از طریق {channel} لغو شود؟",
        "button": "لغو دریافت",
        "done": "دیگر پیام تبلیغاتی از طریق {channel} برای شما فرستاده نمی‌شود. در داشبورد می‌توانید دوباره فعالش کنید.",
        "invalid": "این پیوند معتبر نیست.",
        "channels": {"email": "ایمیل", "sms": "پیامک", "push": "اعلان"},
    },
}


def _page(language: str, body: str, status: int = 200) -> HttpResponse:
    direction = "rtl" if language in RTL else "ltr"
    html = (
        f'<!doctype html><html lang="{language}" dir="{direction}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width"><title>Patron</title></head>'
        f'<body style="font-family:sans-serif;max-width:32rem;margin:3rem auto">{body}</body></html>'
    )
    return HttpResponse(html, status=status)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe_view(request: HttpRequest, token: str) -> HttpResponse:
    """GET: a page asking to confirm; POST: unsubscribe and say so. 400 for an invalid link."""
    try:
        customer, channel = unsubscribe_read(token)
    except EngagementError:
        return _page("en", f"<p>{_TEXT['en']['invalid']}</p>", status=400)
    language = language_of(customer.locale)
    text = _TEXT[language]
    name = text["channels"][channel]  # type: ignore[index]
    if request.method == "POST":
        unsubscribe(token)
        return _page(language, f"<p>{escape(str(text['done']).format(channel=name))}</p>")
    return _page(
        language,
        f"<p>{escape(str(text['ask']).format(channel=name))}</p>"
        f'<form method="post"><button type="submit">{text["button"]}</button></form>',
    )


@require_http_methods(["GET"])
def click_view(request: HttpRequest, token: str) -> HttpResponse:
    """A message's dashboard link: records *clicked*, then redirects to the member's page of the shop
    (the dashboard asks them to log in if they are not). A link that does not verify goes to the home page."""
    event = message_clicked(token)
    target = f"/accounts/{event.account_id}" if event is not None else "/"
    return HttpResponseRedirect(f"{settings.PATRON_PUBLIC_URL}{target}")

"""Ledger reasons in the reader's language (docs/ledger.md, "Reasons").

Every posting stores a ``reason`` text (English, as before) and, since this module, a
``reason_code`` with ``reason_params``. :func:`reason_text` renders a code in English or Persian
from :data:`REASONS`. Parameters are the values the text names: an order's id, a count of points
(shown with Persian digits in Persian), a reward's name and its Persian name (``reward_fa``).
Entries written before codes existed keep their stored text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: Languages the catalogue speaks; any other reads English.
LANGUAGES = ("en", "fa")
_PERSIAN_DIGITS = str.maketrans("0123456789,", "۰۱۲۳۴۵۶۷۸۹٬")


class Reason:
    """The codes of :data:`REASONS` (stored in ``PointsEntry.reason_code``)."""

    ORDER_DELIVERED = "order_delivered"
    ORDER_RETURNED = "order_returned"
    ORDER_PARTIALLY_RETURNED = "order_partially_returned"
    POINTS_RELEASED = "points_released"
    ORDER_POINTS_RELEASED = "order_points_released"
    ORDER_POINTS_EXPIRED = "order_points_expired"
    POINTS_EXPIRED = "points_expired"
    WELCOME_BONUS = "welcome_bonus"
    BIRTHDAY_BONUS = "birthday_bonus"
    ANNIVERSARY_BONUS = "anniversary_bonus"
    ADJUSTMENT = "adjustment"
    REWARD_REDEEMED = "reward_redeemed"
    REDEMPTION_CANCELLED = "redemption_cancelled"
    REDEMPTION_EXPIRED = "redemption_expired"
    REFERRAL_REFERRER = "referral_referrer"
    REFERRAL_REFEREE = "referral_referee"
    REFERRAL_REVERSED = "referral_reversed"
    CHECKOUT_PAID = "checkout_paid"
    CHECKOUT_PAID_ORDER = "checkout_paid_order"
    CHECKOUT_GIVEN_BACK = "checkout_given_back"
    CULTURAL_EVENT = "cultural_event"
    MEMBERSHIP_PAYMENT = "membership_payment"


#: code -> language -> text with ``str.format`` fields named after the entry's parameters. The English
#: texts are exactly what the services store in ``reason``.
REASONS: dict[str, dict[str, str]] = {
    Reason.ORDER_DELIVERED: {"en": "Order {order} delivered", "fa": "تحویل سفارش {order}"},
    Reason.ORDER_RETURNED: {"en": "Order {order} {status}", "fa": "سفارش {order} {status}"},
    Reason.ORDER_PARTIALLY_RETURNED: {
        "en": "Order {order} partially returned: {lines}",
        "fa": "بخشی از سفارش {order} مرجوع شد: {lines}",
    },
    Reason.POINTS_RELEASED: {"en": "Pending points became available", "fa": "امتیازهای در انتظار قابل استفاده شد"},
    Reason.ORDER_POINTS_RELEASED: {
        "en": "Points of order {order} became available",
        "fa": "امتیازهای سفارش {order} قابل استفاده شد",
    },
    Reason.ORDER_POINTS_EXPIRED: {"en": "Points of order {order} expired", "fa": "امتیازهای سفارش {order} منقضی شد"},
    Reason.POINTS_EXPIRED: {"en": "Expired: {what}", "fa": "منقضی شد: {what}"},
    Reason.WELCOME_BONUS: {"en": "Welcome bonus", "fa": "هدیهٔ خوش‌آمد"},
    Reason.BIRTHDAY_BONUS: {"en": "Birthday bonus", "fa": "هدیهٔ تولد"},
    Reason.ANNIVERSARY_BONUS: {
        "en": "Anniversary bonus: {years} year{plural} as a member",
        "fa": "هدیهٔ سالگرد: {years} سال عضویت",
    },
    Reason.ADJUSTMENT: {"en": "Adjusted by staff: {note}", "fa": "اصلاح امتیاز از سوی فروشگاه: {note}"},
    Reason.REWARD_REDEEMED: {"en": "Redeemed: {reward}", "fa": "دریافت جایزه: {reward}"},
    Reason.REDEMPTION_CANCELLED: {"en": "Cancelled: {reward}{note}", "fa": "لغو جایزه: {reward}{note}"},
    Reason.REDEMPTION_EXPIRED: {"en": "Expired: {reward}{note}", "fa": "انقضای جایزه: {reward}{note}"},
    Reason.REFERRAL_REFERRER: {
        "en": "Referral bonus: {friend} placed a first order with your code {code}",
        "fa": "پاداش معرفی: {friend} نخستین خرید خود را با کد {code} انجام داد",
    },
    Reason.REFERRAL_REFEREE: {
        "en": "Referral bonus: first order {order} with code {code}",
        "fa": "پاداش معرفی: نخستین سفارش {order} با کد {code}",
    },
    Reason.REFERRAL_REVERSED: {
        "en": "Referral bonus reversed: order {order} was returned",
        "fa": "پاداش معرفی پس گرفته شد: سفارش {order} مرجوع شد",
    },
    Reason.CHECKOUT_PAID: {"en": "Paid {amount} {currency} at checkout", "fa": "پرداخت {amount} {currency} با امتیاز"},
    Reason.CHECKOUT_PAID_ORDER: {
        "en": "Paid {amount} {currency} at checkout of order {order}",
        "fa": "پرداخت {amount} {currency} با امتیاز در سفارش {order}",
    },
    Reason.CHECKOUT_GIVEN_BACK: {
        "en": "Points paid at checkout given back ({order} returned)",
        "fa": "بازگشت امتیاز پرداخت‌شده ({order} مرجوع شد)",
    },
    Reason.CULTURAL_EVENT: {"en": "{event} {year}", "fa": "{event} {year}"},
    Reason.MEMBERSHIP_PAYMENT: {"en": "Membership {plan} paid", "fa": "پرداخت عضویت {plan}"},
}

#: The clause a take-back adds when points already spent could not be recovered (``unrecovered``).
UNRECOVERED = {
    "en": "; {unrecovered} points already spent could not be taken back",
    "fa": "؛ {unrecovered} امتیاز که پیش‌تر خرج شده بود پس گرفته نشد",
}
#: Order statuses as the returned-order reason names them.
STATUS_FA = {"returned": "مرجوع شد", "refunded": "بازپرداخت شد", "cancelled": "لغو شد"}


def returned_lines(lines: list[list[int]], language: str) -> str:
    """``[[quantity, line no], ...]`` as the partial-return reason lists them."""
    if language == "fa":
        return "، ".join(localized_digits(f"{q} عدد از ردیف {n}", language) for q, n in lines)
    return ", ".join(f"{q} x line {n}" for q, n in lines)


def language_of(locale: str | None) -> str:
    """``fa`` for a Persian locale (``fa``, ``fa-IR``), else ``en``."""
    language = (locale or "en").split("-")[0].split("_")[0].lower()
    return language if language in LANGUAGES else "en"


def localized_digits(text: str, language: str) -> str:
    """``text`` with Western digits and commas written the language's way (Persian digits in ``fa``)."""
    return text.translate(_PERSIAN_DIGITS) if language == "fa" else text


def _value(value: Any, language: str) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return localized_digits(f"{value:,}", language)
    return localized_digits(str(value), language) if language == "fa" and str(value).isdigit() else str(value)


def reason_text(code: str, params: Mapping[str, Any], *, stored: str, language: str | None) -> str:
    """The entry's reason in ``language`` (``en`` or ``fa``); ``stored`` when there is no code, no
    language, or the parameters do not fit (an entry never reads worse than it was written).

    In Persian, counts take Persian digits, a reward or an event reads its Persian name
    (``reward_fa``, ``event_fa``, ``plan_fa``) when it has one, an order status reads in Persian.
    """
    if not code or not language or code not in REASONS:
        return stored
    language = language_of(language)
    values: dict[str, Any] = dict(params)
    if language == "fa":
        for name in ("reward", "event", "plan"):
            if params.get(f"{name}_fa"):
                values[name] = params[f"{name}_fa"]
        if "status" in params:
            values["status"] = STATUS_FA.get(str(params["status"]), str(params["status"]))
    if "lines" in params:
        values["lines"] = returned_lines(params["lines"], language)
    if "years" in params:
        values["plural"] = "" if params["years"] == 1 else "s"
    try:
        fields = {name: _value(value, language) for name, value in values.items() if name != "lines"}
        fields["lines"] = values.get("lines", "")
        text = REASONS[code][language].format(**fields)
        if params.get("unrecovered"):
            text += UNRECOVERED[language].format(unrecovered=fields["unrecovered"])
    except (KeyError, IndexError, ValueError, TypeError):
        return stored
    return text[:300]

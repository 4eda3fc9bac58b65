"""Templates of messages: the variables each kind offers, checking and rendering (docs/engagement.md).

Templates use Django's template language (``{{ member_name }}``, ``{% if gifts %}``, filters) on
an engine of their own: no auto-escaping (messages are plain text; the e-mail's HTML part
escapes the rendered text), no file loaders, no custom tags, so a template can read only the
variables of its kind. Numbers and dates arrive formatted for the member's language: Persian
digits and the Jalali calendar in ``fa``, CLDR formats (Babel) in ``en``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import jdatetime
from babel.dates import format_date
from babel.numbers import format_decimal
from django.template import Context, Engine, Template, TemplateSyntaxError
from django.template.base import FilterExpression, Node, VariableNode
from django.template.defaulttags import ForNode, IfNode
from django.utils.html import escape

from engagement.errors import EngagementError, EngagementErrorCode
from engagement.models import EngagementKind
from loyalty.reasons import localized_digits

#: Languages written right to left. The languages and a member's language are the ledger reasons'
#: (``loyalty.reasons.LANGUAGES``, ``language_of``): one notion for messages and history alike.
RTL = frozenset({"fa"})

#: Variables every kind offers.
COMMON_VARIABLES = {
    "member_name": "the member's name in the shop's record, else their display name",
    "shop_name": "the shop's name",
    "points_available": "the member's available points now (formatted)",
    "tier_name": "the member's tier, empty without one",
    "dashboard_url": "the member's dashboard page of the shop",
    "unsubscribe_url": "stops this channel's marketing messages, without logging in",
}

#: Variables each kind adds to :data:`COMMON_VARIABLES`.
KIND_VARIABLES: dict[str, dict[str, str]] = {
    EngagementKind.BIRTHDAY: {"bonus_points": "the birthday bonus (formatted; empty when none)", "gifts": "gift ideas"},
    EngagementKind.ANNIVERSARY: {
        "years": "years of membership",
        "bonus_points": "the anniversary bonus (formatted; empty when none)",
    },
    EngagementKind.PERSONAL_DATE: {
        "occasion_name": "the occasion: 'wedding anniversary' or the label staff gave it",
        "years": "years since the date (formatted; empty when none have passed)",
        "gifts": "gift ideas",
    },
    EngagementKind.CULTURAL_EVENT: {
        "event_name": "the event's name in the member's language",
        "bonus_points": "the event's bonus (formatted; empty when none)",
        "gifts": "gift ideas",
    },
    EngagementKind.TIER_UPGRADE: {"previous_tier": "the tier before"},
    EngagementKind.POINTS_EXPIRING: {
        "expiring_points": "points that expire (formatted)",
        "expires_on": "the day they expire (the member's calendar)",
    },
    EngagementKind.REDEMPTION_ISSUED: {
        "reward_name": "the reward",
        "code": "the redemption code",
        "expires_on": "the day the code expires, empty if never",
    },
    EngagementKind.REFERRAL_COMPLETED: {"bonus_points": "the referrer's bonus (formatted)"},
    EngagementKind.WIN_BACK: {"days_since_visit": "days since the last visit", "gifts": "gift ideas"},
    EngagementKind.CAMPAIGN: {"gifts": "gift ideas"},
    EngagementKind.RENEWAL_REMINDER: {
        "plan_name": "the membership plan in the member's language",
        "renewal_date": "the day it renews (the member's calendar)",
        "amount": "the price charged, with its currency",
    },
}

_ENGINE = Engine(autoescape=False, loaders=[], string_if_invalid="")


def number(value: int, language: str) -> str:
    """``value`` grouped by thousands, in Persian digits for ``fa`` (Babel's CLDR grouping)."""
    return localized_digits(format_decimal(value, locale="en"), language)


def day(value: dt.date | None, language: str) -> str:
    """A date as the member reads it: ``30 آذر 1405`` (Jalali, Persian digits) or ``December 21, 2026``."""
    if value is None:
        return ""
    if language == "fa":
        jalali = jdatetime.date.fromgregorian(date=value, locale="fa_IR")
        return localized_digits(jalali.strftime("%d %B %Y"), language)
    return format_date(value, format="long", locale="en")


def bonus(value: int, language: str) -> str:
    """A bonus as templates test it: formatted, or empty when there is none (``{% if bonus_points %}``)."""
    return number(value, language) if value else ""


def allowed_variables(kind: str) -> set[str]:
    """Names a template of ``kind`` may read."""
    return set(COMMON_VARIABLES) | set(KIND_VARIABLES.get(kind, {}))


def _expression_names(expression: FilterExpression) -> set[str]:
    """Variables a filter expression reads: its own and its filters' arguments (first segments)."""
    found: set[str] = set()
    for variable in [expression.var] + [arg for _, args in expression.filters for lookup, arg in args if lookup]:
        name = getattr(variable, "var", None)
        if isinstance(name, str) and getattr(variable, "lookups", None):
            found.add(name.split(".")[0])
    return found


def _condition_names(condition: Any) -> set[str]:
    """Variables an ``{% if %}`` condition reads (Django's smartif tree of operators and literals)."""
    if condition is None:
        return set()
    found = (
        _expression_names(condition.value) if isinstance(getattr(condition, "value", None), FilterExpression) else set()
    )
    for part in (getattr(condition, "first", None), getattr(condition, "second", None)):
        found |= _condition_names(part)
    return found


def _names(template: Template) -> tuple[set[str], set[str]]:
    """``(read, bound)``: variables the template reads, and the names its ``{% for %}`` loops bind."""
    read: set[str] = set()
    bound: set[str] = {"forloop"}
    for node in template.nodelist.get_nodes_by_type(Node):
        if isinstance(node, VariableNode):
            read |= _expression_names(node.filter_expression)
        elif isinstance(node, IfNode):
            for condition, _ in node.conditions_nodelists:
                read |= _condition_names(condition)
        elif isinstance(node, ForNode) and isinstance(node.sequence, FilterExpression):
            read |= _expression_names(node.sequence)
            bound |= set(node.loopvars)
    return read, bound


def compiled(text: str, *, kind: str, field: str) -> Template:
    """``text`` compiled, checked to read only ``kind``'s variables (loop variables aside).

    Raises ``INVALID_TEMPLATE`` on ``field`` with Django's message, or naming the unknown variable.
    """
    try:
        template = _ENGINE.from_string(text)
    except TemplateSyntaxError as exc:
        raise EngagementError(EngagementErrorCode.INVALID_TEMPLATE, f"Template error: {exc}", field) from None
    read, bound = _names(template)
    unknown = sorted(read - allowed_variables(kind) - bound)
    if unknown:
        raise EngagementError(
            EngagementErrorCode.INVALID_TEMPLATE,
            f"Unknown variable {unknown[0]!r}; this kind offers: {', '.join(sorted(allowed_variables(kind)))}.",
            field,
        )
    return template


def render(subject: str, body: str, *, kind: str, variables: dict[str, Any]) -> tuple[str, str]:
    """The rendered subject (one line, at most 200 characters) and body of a template of ``kind``."""
    context = Context(variables, autoescape=False)
    rendered_subject = compiled(subject, kind=kind, field="subject").render(context)
    rendered_body = compiled(body, kind=kind, field="body").render(context)
    return " ".join(rendered_subject.split())[:200], rendered_body.strip()


def html_body(body: str, language: str) -> str:
    """The e-mail's HTML part: the rendered text escaped, paragraphs kept, ``dir`` set for the language."""
    direction = "rtl" if language in RTL else "ltr"
    paragraphs = "".join(f"<p>{escape(part).replace(chr(10), '<br>')}</p>" for part in body.split("\n\n"))
    return (
        f'<!doctype html><html lang="{language}" dir="{direction}"><body dir="{direction}">{paragraphs}</body></html>'
    )

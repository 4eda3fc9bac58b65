# ruff: noqa: RUF001  (Persian digits and letters are meant)
"""Templates: every shipped default renders in English and Persian with its kind's variables; a shop's
own template is checked (syntax, variables) before it is saved."""

from __future__ import annotations

import datetime as dt

import pytest
from django.template import Context

from engagement.defaults import DEFAULT_TEMPLATES
from engagement.errors import EngagementError
from engagement.models import EngagementKind
from engagement.rendering import KIND_VARIABLES, allowed_variables, compiled, day, html_body, number, render


def _sample(kind: str, language: str) -> dict:
    values = {name: f"<{name}>" for name in allowed_variables(kind)}
    values["gifts"] = ["Gift card", "Saffron tin"]
    values["bonus_points"] = number(500, language)
    return values


@pytest.mark.parametrize("language", ["en", "fa"])
@pytest.mark.parametrize("kind", EngagementKind.values)
def test_every_default_renders_every_variable_it_names(kind, language):
    subject, body = DEFAULT_TEMPLATES[kind][language]
    rendered_subject, rendered_body = render(subject, body, kind=kind, variables=_sample(kind, language))
    assert rendered_subject
    assert "{{" not in rendered_subject
    assert "{%" not in rendered_body
    assert "<unsubscribe_url>" in rendered_body  # every message says how to stop it
    if "gifts" in KIND_VARIABLES[kind] and kind != EngagementKind.CAMPAIGN:
        assert "Saffron tin" in rendered_body


def test_persian_text_reads_persian_digits_and_the_jalali_calendar():
    assert number(12500, "fa") == "۱۲٬۵۰۰"
    assert number(12500, "en") == "12,500"
    assert day(dt.date(2026, 12, 21), "fa") == "۳۰ آذر ۱۴۰۵"  # Yalda 1405
    assert day(dt.date(2026, 12, 21), "en") == "December 21, 2026"
    html = html_body("سلام\n\nخط دوم <b>", "fa")
    assert 'dir="rtl"' in html
    assert "&lt;b&gt;" in html  # escaped: the text is never markup


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("{% if member_name %}never closed", "Template error"),
        ("{% if %}x{% endif %}", "Template error"),
        ("Hi {{ password }}", "Unknown variable 'password'"),
        ("{% if secret_key %}x{% endif %}", "Unknown variable 'secret_key'"),
        ("{{ member_name|default:settings }}", "Unknown variable 'settings'"),
        ("{% for g in customers %}{{ g }}{% endfor %}", "Unknown variable 'customers'"),
        ("{% load static %}", "Template error"),
    ],
)
def test_a_bad_template_is_refused_with_the_reason(text, needle):
    with pytest.raises(EngagementError) as refused:
        compiled(text, kind=EngagementKind.BIRTHDAY, field="body")
    assert refused.value.code.value == "INVALID_TEMPLATE"
    assert refused.value.field == "body"
    assert needle in refused.value.message


def test_loop_variables_and_kind_variables_are_allowed():
    template = compiled(
        "{% for g in gifts %}{{ forloop.counter }}. {{ g }}\n{% endfor %}", kind="birthday", field="body"
    )
    assert "1. A" in template.render(Context({"gifts": ["A"]}))
    with pytest.raises(EngagementError):
        compiled("{{ code }}", kind=EngagementKind.BIRTHDAY, field="body")  # a redemption's variable
    compiled("{{ code }}", kind=EngagementKind.REDEMPTION_ISSUED, field="body")

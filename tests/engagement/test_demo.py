"""The demo's engagement data: the bazaar's Jalali cultural events, Persian reward names and a Persian
birthday template; a rerun changes nothing, and Yalda 1405 greets the bazaar's members in Persian."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command

from engagement.models import Channel, CulturalEvent, EngagementEvent, EngagementKind, MessageTemplate
from rewards.models import Reward

pytestmark = pytest.mark.django_db


def test_demo_engagement_and_persian_names():
    for command in ("patron_demo", "demo_rewards", "demo_engagement", "demo_engagement"):
        args = ("--skip-samples",) if command == "patron_demo" else ()
        call_command(command, *args, stdout=io.StringIO())
    events = CulturalEvent.objects.filter(shop__slug="demo-bazaar").order_by("month")
    assert [(e.name_fa, e.month, e.day) for e in events] == [("نوروز", 1, 1), ("جشن مهرگان", 7, 16), ("شب یلدا", 9, 30)]
    assert MessageTemplate.objects.filter(kind=EngagementKind.BIRTHDAY, language="fa").count() >= 3
    names_fa = [reward.translations["fa"]["name"] for reward in Reward.objects.all()]
    assert names_fa
    assert not [name for name in names_fa if "(fa)" in name or name.isascii()]
    # on Yalda 1405 (21 December 2026, 11:30 in Tehran) the bazaar's members are greeted
    out = io.StringIO()
    call_command("engagement_send", "--shop", "demo-bazaar", "--as-of", "2026-12-21T08:00:00+00:00", stdout=out)
    inbox = EngagementEvent.objects.filter(kind=EngagementKind.CULTURAL_EVENT, channel=Channel.INBOX)
    assert inbox.exists()
    assert "planned messages: cultural_event" in out.getvalue()
    dry = io.StringIO()
    call_command("engagement_send", "--as-of", "2026-12-21T08:00:00+00:00", "--dry-run", stdout=dry)
    assert "would plan messages: none" in dry.getvalue()  # planned already: nothing new
    assert dt.date(2026, 12, 21) == inbox.first().planned_at.date()

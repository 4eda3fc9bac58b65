# ruff: noqa: RUF001  (Persian names)
"""``manage.py demo_engagement``: the demo shops' cultural events and a Persian birthday template (idempotent).

Runs after ``patron_demo``; ``scripts/run`` calls it. The Tehran bazaar keeps Nowruz, Mehregan and
Yalda (Jalali dates, a bonus and a message each); every demo shop writes its own Persian birthday
message, so the console's Messages page shows a custom template beside the defaults.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from engagement.models import CulturalEvent, EngagementKind, MessageTemplate, OccasionCalendar
from marketplace.models import Shop

#: (English name, Persian name, Jalali month, day, bonus points in the bazaar's program)
BAZAAR_EVENTS = [
    ("Nowruz", "نوروز", 1, 1, 1_000_000),
    ("Mehregan", "جشن مهرگان", 7, 16, 0),
    ("Yalda Night", "شب یلدا", 9, 30, 500_000),
]
BIRTHDAY_FA = (
    "{{ member_name }} عزیز، تولدتان مبارک!",
    "همهٔ ما در {{ shop_name }} تولدتان را تبریک می‌گوییم.{% if bonus_points %} {{ bonus_points }} امتیاز هدیه "
    "به حساب شما افزوده شد.{% endif %}{% if gifts %}\n\nپیشنهاد ما: {{ gifts|join:'، ' }}.{% endif %}"
    "\n\nلغو دریافت: {{ unsubscribe_url }}",
)


class Command(BaseCommand):
    """Create what is missing of the demo's engagement data."""

    help = __doc__

    def handle(self, *args: Any, **options: Any) -> None:
        """Cultural events of the bazaar; a Persian birthday template in every demo shop."""
        bazaar = Shop.objects.filter(slug="demo-bazaar", is_demo=True).first()
        if bazaar is None:
            raise CommandError("demo shop demo-bazaar is missing: run patron_demo first")
        for name, name_fa, month, day, bonus in BAZAAR_EVENTS:
            CulturalEvent.objects.get_or_create(
                shop=bazaar,
                name=name,
                defaults={
                    "name_fa": name_fa,
                    "calendar": OccasionCalendar.JALALI,
                    "month": month,
                    "day": day,
                    "bonus_points": bonus,
                },
            )
        subject, body = BIRTHDAY_FA
        for shop in Shop.objects.filter(is_demo=True):
            MessageTemplate.objects.get_or_create(
                shop=shop, kind=EngagementKind.BIRTHDAY, language="fa", defaults={"subject": subject, "body": body}
            )
        self.stdout.write(f"demo engagement: {len(BAZAAR_EVENTS)} cultural events in demo-bazaar")

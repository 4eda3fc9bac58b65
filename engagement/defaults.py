# ruff: noqa: RUF001  (Persian text: its letters are meant)
"""The templates Patron ships for every kind, in English and Persian (a shop's own replace them).

Each is ``(subject, body)`` in Django's template language over the variables of
``engagement.rendering``; ``tests/engagement/test_templates.py`` renders every one of them.
"""

from __future__ import annotations

from engagement.models import EngagementKind

_GIFTS_EN = "{% if gifts %}\n\nIdeas for you: {{ gifts|join:', ' }}.{% endif %}"
_GIFTS_FA = "{% if gifts %}\n\nپیشنهاد ما برای شما: {{ gifts|join:'، ' }}.{% endif %}"
_FOOTER_EN = "\n\nYour points: {{ points_available }}. {{ dashboard_url }}\nStop these messages: {{ unsubscribe_url }}"
_FOOTER_FA = "\n\nامتیاز شما: {{ points_available }}. {{ dashboard_url }}\nلغو دریافت این پیام‌ها: {{ unsubscribe_url }}"

DEFAULT_TEMPLATES: dict[str, dict[str, tuple[str, str]]] = {
    EngagementKind.BIRTHDAY: {
        "en": (
            "Happy birthday, {{ member_name }}!",
            "Happy birthday from {{ shop_name }}!{% if bonus_points %} We added {{ bonus_points }} points "
            "to your account.{% endif %}" + _GIFTS_EN + _FOOTER_EN,
        ),
        "fa": (
            "{{ member_name }} عزیز، تولدتان مبارک!",
            "{{ shop_name }} تولدتان را تبریک می‌گوید!{% if bonus_points %} {{ bonus_points }} امتیاز "
            "هدیه به حساب شما افزوده شد.{% endif %}" + _GIFTS_FA + _FOOTER_FA,
        ),
    },
    EngagementKind.ANNIVERSARY: {
        "en": (
            "{{ years }} years with {{ shop_name }}",
            "Thank you for {{ years }} years with us, {{ member_name }}.{% if bonus_points %} "
            "{{ bonus_points }} points are on us.{% endif %}" + _FOOTER_EN,
        ),
        "fa": (
            "{{ years }} سال همراهی با {{ shop_name }}",
            "{{ member_name }} عزیز، از {{ years }} سال همراهی شما سپاسگزاریم.{% if bonus_points %} "
            "{{ bonus_points }} امتیاز هدیهٔ ماست.{% endif %}" + _FOOTER_FA,
        ),
    },
    EngagementKind.PERSONAL_DATE: {
        "en": (
            "Happy {{ occasion_name }}, {{ member_name }}",
            "All of us at {{ shop_name }} wish you a happy {{ occasion_name }}"
            "{% if years %} ({{ years }} years){% endif %}!" + _GIFTS_EN + _FOOTER_EN,
        ),
        "fa": (
            "{{ occasion_name }} مبارک",
            "{{ member_name }} عزیز، {{ occasion_name }}{% if years %} ({{ years }} سال){% endif %} را از طرف "
            "{{ shop_name }} تبریک می‌گوییم!" + _GIFTS_FA + _FOOTER_FA,
        ),
    },
    EngagementKind.CULTURAL_EVENT: {
        "en": (
            "Happy {{ event_name }} from {{ shop_name }}",
            "Dear {{ member_name }}, happy {{ event_name }}!{% if bonus_points %} We added "
            "{{ bonus_points }} points to your account to celebrate.{% endif %}" + _GIFTS_EN + _FOOTER_EN,
        ),
        "fa": (
            "{{ event_name }} مبارک",
            "{{ member_name }} عزیز، {{ event_name }} بر شما مبارک!{% if bonus_points %} به همین مناسبت "
            "{{ bonus_points }} امتیاز به حساب شما افزوده شد.{% endif %}" + _GIFTS_FA + _FOOTER_FA,
        ),
    },
    EngagementKind.TIER_UPGRADE: {
        "en": (
            "Welcome to {{ tier_name }}",
            "Congratulations, {{ member_name }}: you moved up from {{ previous_tier }} to {{ tier_name }} at "
            "{{ shop_name }}." + _FOOTER_EN,
        ),
        "fa": (
            "به سطح {{ tier_name }} خوش آمدید",
            "{{ member_name }} عزیز، تبریک! سطح شما در {{ shop_name }} از {{ previous_tier }} به {{ tier_name }} "
            "ارتقا یافت." + _FOOTER_FA,
        ),
    },
    EngagementKind.POINTS_EXPIRING: {
        "en": (
            "{{ expiring_points }} points expire on {{ expires_on }}",
            "{{ member_name }}, {{ expiring_points }} of your points at {{ shop_name }} expire on {{ expires_on }}. "
            "Use them before then." + _FOOTER_EN,
        ),
        "fa": (
            "{{ expiring_points }} امتیاز شما در {{ expires_on }} منقضی می‌شود",
            "{{ member_name }} عزیز، {{ expiring_points }} امتیاز شما در {{ shop_name }} در تاریخ {{ expires_on }} "
            "منقضی می‌شود. پیش از آن از آن‌ها استفاده کنید." + _FOOTER_FA,
        ),
    },
    EngagementKind.REDEMPTION_ISSUED: {
        "en": (
            "Your code for {{ reward_name }}",
            "{{ member_name }}, here is your code for {{ reward_name }} at {{ shop_name }}: {{ code }}"
            "{% if expires_on %} (valid until {{ expires_on }}){% endif %}." + _FOOTER_EN,
        ),
        "fa": (
            "کد {{ reward_name }}",
            "{{ member_name }} عزیز، کد {{ reward_name }} شما در {{ shop_name }}: {{ code }}"
            "{% if expires_on %} (معتبر تا {{ expires_on }}){% endif %}." + _FOOTER_FA,
        ),
    },
    EngagementKind.REFERRAL_COMPLETED: {
        "en": (
            "Your friend joined {{ shop_name }}",
            "Thanks for the referral, {{ member_name }}: your friend placed their first order and you earned "
            "{{ bonus_points }} points." + _FOOTER_EN,
        ),
        "fa": (
            "دوست شما به {{ shop_name }} پیوست",
            "{{ member_name }} عزیز، از معرفی شما سپاسگزاریم: دوستتان نخستین خرید خود را انجام داد و "
            "{{ bonus_points }} امتیاز به شما رسید." + _FOOTER_FA,
        ),
    },
    EngagementKind.WIN_BACK: {
        "en": (
            "We miss you at {{ shop_name }}",
            "{{ member_name }}, it has been {{ days_since_visit }} days since your last visit. "
            "Your {{ points_available }} points are waiting." + _GIFTS_EN + _FOOTER_EN,
        ),
        "fa": (
            "دلمان برایتان تنگ شده است",
            "{{ member_name }} عزیز، {{ days_since_visit }} روز از آخرین خرید شما در {{ shop_name }} می‌گذرد. "
            "{{ points_available }} امتیاز شما منتظر شماست." + _GIFTS_FA + _FOOTER_FA,
        ),
    },
    EngagementKind.CAMPAIGN: {
        "en": ("News from {{ shop_name }}", "{{ member_name }}, we have news for you." + _FOOTER_EN),
        "fa": ("خبر تازه از {{ shop_name }}", "{{ member_name }} عزیز، خبر تازه‌ای برایتان داریم." + _FOOTER_FA),
    },
    EngagementKind.RENEWAL_REMINDER: {
        "en": (
            "Your {{ plan_name }} membership renews on {{ renewal_date }}",
            "Hello {{ member_name }}, your {{ plan_name }} membership at {{ shop_name }} renews on "
            "{{ renewal_date }} for {{ amount }}. To stop it, turn auto-renewal off on your page." + _FOOTER_EN,
        ),
        "fa": (
            "عضویت {{ plan_name }} شما در {{ renewal_date }} تمدید می‌شود",
            "{{ member_name }} عزیز، عضویت {{ plan_name }} شما در {{ shop_name }} در {{ renewal_date }} با "
            "مبلغ {{ amount }} تمدید می‌شود. برای توقف تمدید خودکار به صفحهٔ خود بروید." + _FOOTER_FA,
        ),
    },
}

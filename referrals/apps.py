"""Referrals app configuration (the app is filled by a later issue)."""

from django.apps import AppConfig


class ReferralsConfig(AppConfig):
    """Referrals of a shop's loyalty program."""

    name = "referrals"
    default_auto_field = "django.db.models.BigAutoField"

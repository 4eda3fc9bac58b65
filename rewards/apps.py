"""Rewards app configuration (the app is filled by a later issue)."""

from django.apps import AppConfig


class RewardsConfig(AppConfig):
    """Rewards of a shop's loyalty program."""

    name = "rewards"
    default_auto_field = "django.db.models.BigAutoField"

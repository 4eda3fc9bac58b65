"""Rewards app configuration."""

from django.apps import AppConfig


class RewardsConfig(AppConfig):
    """Rewards catalogues, redemptions and their codes."""

    name = "rewards"
    default_auto_field = "django.db.models.BigAutoField"

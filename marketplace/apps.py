"""Marketplace app configuration."""

from django.apps import AppConfig


class MarketplaceConfig(AppConfig):
    """Shops, staff, customers, catalogue and orders."""

    name = "marketplace"
    default_auto_field = "django.db.models.BigAutoField"

"""Marketplace app configuration."""

from django.apps import AppConfig


class MarketplaceConfig(AppConfig):
    """Shops, staff, customers, catalogue and orders."""

    name = "marketplace"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Refuse, for every model, a row whose text or decimal its column cannot hold (see
        ``marketplace.validation.refuse_unstorable``)."""
        from django.db.models.signals import pre_save

        from marketplace.validation import refuse_unstorable

        pre_save.connect(refuse_unstorable, dispatch_uid="marketplace.refuse_unstorable")

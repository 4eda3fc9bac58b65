"""Django admin for rewards: the catalogue is editable, redemptions are read-only."""

from django.contrib import admin

from loyalty.admin import ReadOnlyAdmin
from rewards.models import Redemption, Reward


@admin.register(Reward)
class RewardAdmin(admin.ModelAdmin):
    """Rewards per program."""

    list_display = ["name", "program", "kind", "points_cost", "stock", "status", "sort_order"]
    list_filter = ["status", "kind", "program"]
    search_fields = ["name"]


@admin.register(Redemption)
class RedemptionAdmin(ReadOnlyAdmin):
    """Redemptions change only through the services (redeem, consume, cancel, expire)."""

    list_display = ["code", "reward", "account", "shop", "status", "points", "issued_at", "expires_at"]
    list_filter = ["status", "shop"]
    search_fields = ["code", "account__customer__external_id"]
    list_select_related = ["reward", "account__customer", "account__program", "shop"]

"""Django admin for the loyalty app: programs and tiers editable, the ledger read-only."""

from django.contrib import admin

from loyalty.models import EarningRule, LoyaltyProgram, MemberAccount, PointsEntry, Tier, TierChange


class TierInline(admin.TabularInline):
    """Tiers inside the program page."""

    model = Tier
    extra = 0


@admin.register(LoyaltyProgram)
class ProgramAdmin(admin.ModelAdmin):
    """Programs with their tiers."""

    list_display = ["name", "shop", "points_per_currency_unit", "tier_basis", "tier_window", "active"]
    search_fields = ["name", "shop__name"]
    inlines = [TierInline]


class ReadOnlyAdmin(admin.ModelAdmin):
    """Ledger data is written by services only: the admin may look, never touch."""

    def has_add_permission(self, request) -> bool:
        """No adding from the admin."""
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        """No changing from the admin."""
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        """No deleting from the admin."""
        return False


@admin.register(MemberAccount)
class MemberAccountAdmin(ReadOnlyAdmin):
    """Member accounts with their cached balances."""

    list_display = ["customer", "program", "tier", "points_available", "points_pending", "lifetime_points"]
    list_filter = ["program", "tier"]
    search_fields = ["customer__display_name", "customer__external_id", "customer__email"]


@admin.register(PointsEntry)
class PointsEntryAdmin(ReadOnlyAdmin):
    """The append-only ledger."""

    list_display = ["created_at", "account", "kind", "points", "available_after", "pending_after", "reason"]
    list_filter = ["kind", "source_type"]
    search_fields = ["idempotency_key", "reason", "account__customer__external_id"]
    list_select_related = ["account__customer", "account__program"]


@admin.register(TierChange)
class TierChangeAdmin(ReadOnlyAdmin):
    """Tier history."""

    list_display = ["created_at", "account", "from_tier", "to_tier", "reason"]
    list_select_related = ["account__customer", "account__program", "from_tier", "to_tier"]


@admin.register(EarningRule)
class EarningRuleAdmin(admin.ModelAdmin):
    """Campaigns per program (the console API of the owners' issue will edit them too)."""

    list_display = ["name", "program", "kind", "multiplier", "bonus_points", "priority", "stackable", "active"]
    list_filter = ["active", "kind", "program"]
    filter_horizontal = ["categories", "tiers"]

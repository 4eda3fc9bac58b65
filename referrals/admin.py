"""Django admin for referrals: settings and code expiry are editable, referrals are read-only."""

from django.contrib import admin

from loyalty.admin import ReadOnlyAdmin
from referrals.models import Referral, ReferralCode, ReferralProgram


@admin.register(ReferralProgram)
class ReferralProgramAdmin(admin.ModelAdmin):
    """Referral settings per program."""

    list_display = ["program", "enabled", "referrer_bonus_points", "referee_bonus_points", "min_order_amount"]
    list_filter = ["enabled"]


@admin.register(ReferralCode)
class ReferralCodeAdmin(admin.ModelAdmin):
    """Members' codes; only ``expires_at`` may be changed (to retire a code)."""

    list_display = ["code", "account", "created_at", "expires_at"]
    search_fields = ["code", "account__customer__external_id"]
    readonly_fields = ["code", "account", "created_at"]
    list_select_related = ["account__customer", "account__program"]


@admin.register(Referral)
class ReferralAdmin(ReadOnlyAdmin):
    """Referrals change only through the services (apply, complete, reverse, expire)."""

    list_display = ["code", "referee", "program", "status", "applied_at", "completed_at", "expires_at"]
    list_filter = ["status", "program"]
    search_fields = ["code__code", "referee__external_id"]
    list_select_related = ["code", "referee", "program"]

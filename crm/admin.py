"""Django admin of crm: operators read statistics, tags, notes, segments and the privacy audit."""

from __future__ import annotations

from django.contrib import admin

from crm.models import CrmSettings, MemberNote, MemberProfile, MemberStats, MemberTag, PrivacyAudit, Segment


@admin.register(MemberStats)
class MemberStatsAdmin(admin.ModelAdmin):
    """Statistics (read-only: the worker keeps them)."""

    list_display = ("account", "visits", "total_spend", "last_visit_at", "refreshed_at")
    readonly_fields = [field.name for field in MemberStats._meta.fields]


@admin.register(MemberTag)
class MemberTagAdmin(admin.ModelAdmin):
    """Tags with their source and reason."""

    list_display = ("account", "tag", "source", "reason", "assigned_at")
    list_filter = ("source", "tag")


@admin.register(Segment)
class SegmentAdmin(admin.ModelAdmin):
    """Segments by shop."""

    list_display = ("name", "shop", "kind", "updated_at")


@admin.register(PrivacyAudit)
class PrivacyAuditAdmin(admin.ModelAdmin):
    """The privacy audit (read-only)."""

    list_display = ("action", "customer_ref", "actor", "shop", "at")
    readonly_fields = [field.name for field in PrivacyAudit._meta.fields]


admin.site.register(CrmSettings)
admin.site.register(MemberProfile)
admin.site.register(MemberNote)

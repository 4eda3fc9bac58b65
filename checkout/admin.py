"""Django admin of checkout: operators read promotions, coupons, quotes and commits (changes go through the API)."""

from __future__ import annotations

from django.contrib import admin

from checkout.models import CheckoutCommit, CheckoutQuote, Coupon, CouponBatch, Promotion, PromotionUse


@admin.register(Promotion)
class PromotionAdmin(admin.ModelAdmin):
    """Promotions by shop, priority first."""

    list_display = ("name", "shop", "kind", "value", "priority", "stacking", "requires_coupon", "active")
    list_filter = ("kind", "active", "requires_coupon")
    search_fields = ("name", "shop__slug")


@admin.register(Coupon)
class CouponAdmin(admin.ModelAdmin):
    """Coupons with their uses."""

    list_display = ("code", "shop", "promotion", "uses", "max_uses", "valid_until", "voided_at")
    search_fields = ("code", "shop__slug")
    raw_id_fields = ("promotion", "batch", "customer")


@admin.register(CouponBatch)
class CouponBatchAdmin(admin.ModelAdmin):
    """Generated batches."""

    list_display = ("name", "shop", "promotion", "count", "prefix", "created_at")


@admin.register(CheckoutQuote)
class CheckoutQuoteAdmin(admin.ModelAdmin):
    """Quotes (read-only: they are a record)."""

    list_display = ("pk", "shop", "customer", "total_due", "currency", "created_at", "expires_at")
    readonly_fields = [field.name for field in CheckoutQuote._meta.fields]


@admin.register(CheckoutCommit)
class CheckoutCommitAdmin(admin.ModelAdmin):
    """Commits (read-only: they are a record)."""

    list_display = ("pk", "shop", "order_external_id", "total_due", "points_spent", "points_returned", "committed_at")
    readonly_fields = [field.name for field in CheckoutCommit._meta.fields]


@admin.register(PromotionUse)
class PromotionUseAdmin(admin.ModelAdmin):
    """Uses (read-only)."""

    list_display = ("promotion", "coupon", "commit", "amount", "revenue", "staff_user", "created_at", "released_at")
    readonly_fields = [field.name for field in PromotionUse._meta.fields]

"""Django admin for marketplace operators: shops, staff, customers and orders (read-mostly)."""

from django.contrib import admin

from marketplace.models import Category, Customer, Order, OrderEvent, OrderLine, Product, Shop, StaffMembership


class StaffInline(admin.TabularInline):
    """Staff roles inside the shop page."""

    model = StaffMembership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Shop)
class ShopAdmin(admin.ModelAdmin):
    """Shops with their staff."""

    list_display = ["name", "slug", "currency", "timezone", "return_window_days", "external_id", "is_demo"]
    search_fields = ["name", "slug", "external_id"]
    list_filter = ["currency", "is_demo"]
    inlines = [StaffInline]


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    """Customers; their accounts are in the loyalty section."""

    list_display = ["display_name", "email", "external_id", "user", "is_demo"]
    search_fields = ["display_name", "email", "phone", "external_id"]
    raw_id_fields = ["user"]


class OrderLineInline(admin.TabularInline):
    """Lines inside the order page (read-only: orders change through events)."""

    model = OrderLine
    extra = 0
    can_delete = False
    readonly_fields = ["line_no", "product", "category", "description", "quantity", "unit_price"]


class OrderEventInline(admin.TabularInline):
    """The order's outbox events and whether the worker has processed them."""

    model = OrderEvent
    extra = 0
    can_delete = False
    readonly_fields = [
        "status",
        "previous_status",
        "occurred_at",
        "idempotency_key",
        "processed_at",
        "attempts",
        "failed_at",
        "failure",
    ]
    exclude = ["request_fingerprint", "recorded_by"]


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    """Orders; status changes go through ``orderEventRecord``, never through this page."""

    list_display = ["external_id", "shop", "customer", "status", "goods_amount", "currency", "placed_at"]
    list_filter = ["status", "shop"]
    search_fields = ["external_id", "customer__external_id"]
    raw_id_fields = ["shop", "customer"]
    inlines = [OrderLineInline, OrderEventInline]

    def has_change_permission(self, request, obj=None) -> bool:
        """Orders are changed by events only."""
        return False


admin.site.register(Category)
admin.site.register(Product, search_fields=["name", "external_id"], raw_id_fields=["shop", "category"])

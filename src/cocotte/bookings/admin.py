"""The admin shows bookings; it does not write them (the engine in `services` does, with its checks)."""

from django.contrib import admin

from .models import Block, Booking, BookingSeries


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Booking)
class BookingAdmin(ReadOnlyAdmin):
    list_display = ["resource", "member", "start", "end", "status", "series"]
    list_filter = ["status", "resource__site", "resource__kind"]
    search_fields = ["member__email", "member__last_name", "resource__name", "note"]
    date_hierarchy = "start"
    list_select_related = ["resource__site", "member", "series"]
    show_full_result_count = False  # no COUNT(*) over years of history on every page


@admin.register(BookingSeries)
class BookingSeriesAdmin(ReadOnlyAdmin):
    list_display = ["resource", "member", "rrule", "first_start"]
    list_select_related = ["resource__site", "member"]
    search_fields = ["member__email", "resource__name"]


@admin.register(Block)
class BlockAdmin(ReadOnlyAdmin):
    list_display = ["resource", "kind", "start", "end", "reason"]
    list_filter = ["kind", "resource__site"]
    list_select_related = ["resource__site"]

"""The admin shows bookings; it does not write them (the engine in `services` does, with its checks)."""

from django import forms
from django.contrib import admin, messages
from django.db import transaction

from cocotte.core.admin import ReadOnlyAdmin
from cocotte.spaces.admin import ResourceAdmin
from cocotte.spaces.models import Resource

from . import services
from .errors import BookingError
from .models import Block, Booking, BookingSeries


class ResourceForm(forms.ModelForm):
    class Meta:
        model = Resource
        fields = "__all__"  # noqa: DJ007 — the admin decides which fields it shows

    def clean_capacity(self):
        """Said kindly here; decided again under the resource's lock when saved (`change_capacity`)."""
        capacity = self.cleaned_data["capacity"]
        if self.instance.pk:
            try:
                services.check_capacity(self.instance, capacity)
            except BookingError as error:
                raise forms.ValidationError(error.message, code=error.code) from None
        return capacity


# The resource form knows bookings only here: spaces sits below bookings and cannot import it.
admin.site.unregister(Resource)


@admin.register(Resource)
class ResourceWithBookingsAdmin(ResourceAdmin):
    form = ResourceForm

    def save_model(self, request, obj, form, change):
        """A new capacity goes through the engine: it moves upcoming bookings between places under the lock."""
        if not change or "capacity" not in form.changed_data:
            return super().save_model(request, obj, form, change)
        capacity, obj.capacity = obj.capacity, form.initial["capacity"]
        super().save_model(request, obj, form, change)
        try:
            services.change_capacity(obj, capacity, by=request.user)
        except BookingError as error:  # taken in the meantime: nothing of this change is kept
            transaction.set_rollback(True)
            self.message_user(request, error.message, messages.ERROR)


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

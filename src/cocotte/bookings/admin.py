"""The admin shows bookings; it does not write them (the engine in `services` does, with its checks)."""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from cocotte.core.admin import ReadOnlyAdmin
from cocotte.spaces.admin import ResourceAdmin
from cocotte.spaces.models import Resource

from . import schedule
from .models import Block, Booking, BookingSeries


class ResourceForm(forms.ModelForm):
    class Meta:
        model = Resource
        fields = "__all__"  # noqa: DJ007 — the admin decides which fields it shows

    def clean_capacity(self):
        capacity = self.cleaned_data["capacity"]
        if self.instance.pk and capacity < self.instance.capacity:
            peak = schedule.peak_upcoming_use(self.instance)
            if peak > capacity:
                raise forms.ValidationError(
                    _(
                        "%(peak)s réservations à venir se chevauchent : annulez-en avant de réduire la capacité."
                    )
                    % {"peak": peak}
                )
        return capacity


# The resource form knows bookings only here: spaces sits below bookings and cannot import it.
admin.site.unregister(Resource)


@admin.register(Resource)
class ResourceWithBookingsAdmin(ResourceAdmin):
    form = ResourceForm


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

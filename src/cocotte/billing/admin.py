from django.contrib import admin

from .models import Operator, PriceLine, SiteOperator


class SiteOperatorInline(admin.TabularInline):
    model = SiteOperator
    extra = 0


class PriceLineInline(admin.TabularInline):
    model = PriceLine
    extra = 0
    autocomplete_fields = ["resource"]


@admin.register(Operator)
class OperatorAdmin(admin.ModelAdmin):
    list_display = ["name", "mode", "siret", "vat_franchise"]
    list_filter = ["mode"]
    search_fields = ["name", "legal_name", "siret"]
    inlines = [SiteOperatorInline, PriceLineInline]

"""The back office of billing: operators and their prices; bills, a draft editable, an issued one read-only."""

from django.contrib import admin

from .models import Bill, BillLine, Operator, PriceLine, SiteOperator


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


def _editable(bill) -> bool:
    """A draft is still the team's to change; an issued bill never changes (a credit note corrects it)."""
    return bill is None or not bill.is_issued


class BillLineInline(admin.TabularInline):
    """A draft's lines, editable; an issued bill's, shown only (`BillLine.save` refuses them anyway)."""

    model = BillLine
    extra = 0
    fields = [
        "position",
        "kind",
        "label",
        "revenue_type",
        "service_start",
        "service_end",
        "quantity",
        "unit",
        "unit_price_excl_vat",
        "vat_rate",
        "amount_excl_vat",
        "aid",
    ]
    raw_id_fields = ["aid"]

    def has_add_permission(self, request, obj=None):
        return _editable(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return _editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return _editable(obj) and super().has_delete_permission(request, obj)


@admin.register(Bill)
class BillAdmin(admin.ModelAdmin):
    """Bills: a draft stays editable; an issued one is shown read-only and can be neither changed nor
    deleted — the admin refuses (403) before the model would. Issuing goes through `issuing.issue`: what it
    sets (number, dates, totals, seller, footprint) is never typed in here."""

    list_display = ["__str__", "kind", "status", "operator", "buyer_name", "issue_date", "total_incl_vat"]
    list_filter = ["status", "kind", "operator"]
    search_fields = ["number", "buyer_name", "member__email", "organisation__name"]
    list_select_related = ["operator"]
    date_hierarchy = "issue_date"
    show_full_result_count = False
    raw_id_fields = ["member", "organisation", "credited_bill", "run"]
    readonly_fields = [
        "status",
        "series",
        "sequence",
        "number",
        "issue_date",
        "due_date",
        "seller",
        "total_excl_vat",
        "total_vat",
        "total_incl_vat",
        "footprint",
        "previous_footprint",
        "issued_at",
        "issued_by",
        "sent_at",
        "platform_status",
    ]
    inlines = [BillLineInline]

    def get_queryset(self, request):
        return super().get_queryset(request).defer("pdf")

    def has_change_permission(self, request, obj=None):
        return _editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return _editable(obj) and super().has_delete_permission(request, obj)

    def get_actions(self, request):
        # Deleting a selection would delete issued bills with the drafts (a queryset's delete skips the model's
        # refusal): drafts are deleted one at a time, from their own page.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

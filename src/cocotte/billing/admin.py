"""The back office of billing in the Django admin: what the team of a tiers-lieu sets up, what it records
through the services, and what it only reads.

**Who sees what.** The admin lets in whom Django lets in: `is_staff`, and the model permissions, which the
staff of every site hold for billing (`accounts.backends.RoleBackend`; others through a group an admin gives
them). Billing's rows are then scoped by operator, as on the
team's billing pages (`access.staff_operators`): the staff of a site see the rows of the operator that runs
it (Site → SiteOperator → Operator); an admin sees them all. Another operator's row does not exist: its pages
answer 404, as for a row that was never there, and every `has_*_permission` asked about it says no. The
choices a form offers (operators, plans, bills, sites, resources) are scoped the same way.

**What is written how.**
- Edited here: the sites an operator runs, its prices, late-cancellation rules and plans; the leases the
  team signs (`Holding`), and with care the cards and subscriptions members took; an organisation's billing
  details (on its page); a draft bill (an issued one is read-only, `BillAdmin`).
- Through a service only, never a raw save: an aid (`aids.grant`: the de minimis ceiling is checked and the
  ledger written, or nothing is), an aid the company declares from another funder (`aids.declare`), a
  payment (`payments.record`: allocated, with its régie receipt in public mode). The service's refusal is
  the form's error. Each is evidence afterwards: shown, never changed or deleted.
- Read only: what the services and the task worker write — charges, runs, sendings and their lifecycle,
  reminders, numbering series, closings, credit uses, allocations.
"""

import contextlib
from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import display_for_value
from django.contrib.admin.widgets import AutocompleteSelectMultiple
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Max, Min, Q
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.text import capfirst
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from cocotte.accounts import permissions
from cocotte.accounts.admin import OrganisationAdmin
from cocotte.accounts.models import Organisation
from cocotte.core.admin import ReadOnlyAdmin, ReadOnlyAdminMixin
from cocotte.core.models import audit
from cocotte.spaces.models import Resource, Site

from . import access, aids, payments, runs
from .documents import euros
from .models import (
    Aid,
    AidLedgerEntry,
    Allocation,
    Bill,
    BillingRun,
    BillLine,
    CancellationRule,
    Charge,
    Closing,
    CreditUse,
    DebtorDetails,
    Holding,
    LifecycleEvent,
    Operator,
    Payment,
    Plan,
    PriceLine,
    Reminder,
    RevenueType,
    Sequence,
    SiteOperator,
    Transmission,
)

# ---------------------------------------------------------------------------------------------------------
# Who sees what
# ---------------------------------------------------------------------------------------------------------

_OPERATORS = "_billing_operator_ids"
_ONLY_SEEN = admin.RelatedOnlyFieldListFilter  # a filter lists only the operators, plans… of the rows shown


def operator_ids(request) -> frozenset[int] | None:
    """Ids of the operators whose billing this request's user runs; None: every one (an admin). Read once a
    request, from the roles (`access.staff_operators`)."""
    if not hasattr(request, _OPERATORS):
        user = request.user
        ids = (
            None
            if permissions.is_admin(user)
            else frozenset(access.staff_operators(user).values_list("pk", flat=True))
        )
        setattr(request, _OPERATORS, ids)
    return getattr(request, _OPERATORS)


def _operator_id(obj, path: str) -> int | None:
    """The operator a row belongs to, by its path ("operator", "bill__operator", "pk" for an operator)."""
    if path == "pk":
        return obj.pk
    *through, last = path.split("__")
    for name in through:
        obj = getattr(obj, name, None)
        if obj is None:
            return None
    return getattr(obj, f"{last}_id")


def _dealt_with(ids) -> Q:
    """Organisations that have a holding, a bill, a charge, a payment or an aid of these operators (all of
    them where `ids` is None)."""

    def of(model, path):
        rows = model.objects.filter(organisation__isnull=False)
        if ids is not None:
            rows = rows.filter(**{f"{path}__in": ids})
        return Q(pk__in=rows.values("organisation_id"))

    return (
        of(Holding, "plan__operator")
        | of(Bill, "operator")
        | of(Charge, "operator")
        | of(Payment, "operator")
        | of(Aid, "operator")
    )


def companies(request):
    """The organisations this user's operators deal with; an admin: every organisation."""
    ids = operator_ids(request)
    organisations = Organisation.objects.order_by("name")
    return organisations if ids is None else organisations.filter(_dealt_with(ids))


def scoped_choices(request, model, admin_site):
    """What a form may offer of `model` to this user; None: Django's default (everything)."""
    if admin_site.is_registered(model) and isinstance(admin_site.get_model_admin(model), OperatorScopedMixin):
        return admin_site.get_model_admin(model).get_queryset(request)
    if model is Resource:
        resources = Resource.objects.select_related("site").order_by("site__name", "name")
        ids = operator_ids(request)
        return resources if ids is None else resources.filter(site__operator_link__operator_id__in=ids)
    if model is Site and operator_ids(request) is not None:
        return Site.objects.filter(pk__in=permissions.staffed_site_ids(request.user)).order_by("name")
    return None


# What a form calls the foreign keys that have no French name on the model.
FIELD_LABELS = {"member": _("Membre"), "organisation": _("Organisation"), "bill": _("Pièce")}


class ScopedChoicesMixin:
    """Foreign keys offer only what the user may see: their operators and their plans, bills, runs, aids;
    the sites they staff; the resources of their operators' sites."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "queryset" not in kwargs:
            choices = scoped_choices(request, db_field.related_model, self.admin_site)
            if choices is not None:
                kwargs["queryset"] = choices
        if db_field.verbose_name == db_field.name.replace("_", " "):  # no French name of its own
            kwargs.setdefault(
                "label",
                FIELD_LABELS.get(db_field.name) or capfirst(db_field.related_model._meta.verbose_name),
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class OperatorScopedMixin(ScopedChoicesMixin):
    """Rows seen by the staff of their operators' sites only (see the module); `operator_path` says how a row
    reaches its operator. Django's model permissions still apply: this only narrows them."""

    operator_path = "operator"

    def scope(self, request) -> Q | None:
        """The condition on this admin's rows for this user; None: all of them."""
        ids = operator_ids(request)
        return None if ids is None else Q(**{f"{self.operator_path}__in": ids})

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        condition = self.scope(request)
        return queryset if condition is None else queryset.filter(condition)

    def in_scope(self, request, obj=None) -> bool:
        """Whether the user's operators reach this row (without a row: whether they have an operator)."""
        ids = operator_ids(request)
        if ids is None:
            return True
        if obj is None:
            return bool(ids)
        return _operator_id(obj, self.operator_path) in ids

    def has_view_permission(self, request, obj=None):
        return self.in_scope(request, obj) and super().has_view_permission(request, obj)

    def has_add_permission(self, request, *args):
        return self.in_scope(request) and super().has_add_permission(request, *args)

    def has_change_permission(self, request, obj=None):
        return self.in_scope(request, obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self.in_scope(request, obj) and super().has_delete_permission(request, obj)

    def get_object(self, request, object_id, from_field=None):
        """Another operator's row, or none: the same 404 (ids tell nothing), where Django would redirect."""
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404(gettext("Introuvable."))
        return obj


class ScopedAdmin(OperatorScopedMixin, admin.ModelAdmin):
    pass


class ScopedReadOnlyAdmin(OperatorScopedMixin, ReadOnlyAdmin):
    """Rows the services and the task worker write: shown to their operators' staff, never written here."""

    show_full_result_count = False


class ReadOnlyInline(ReadOnlyAdminMixin, admin.TabularInline):
    extra = 0
    can_delete = False


def _debtor(row):
    return row.member or row.organisation


def _link(url: str, text) -> str:
    return format_html('<a href="{}">{}</a>', url, text)


def _days(value) -> str:
    """Days as the team reads them: 9,5."""
    return f"{Decimal(value).normalize():f}".replace(".", ",")


def _choices_field(choices, label, help_text=""):
    """A list of codes (a JSON field) as checkboxes."""
    return forms.MultipleChoiceField(
        label=capfirst(label),
        choices=choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=help_text,
    )


# ---------------------------------------------------------------------------------------------------------
# Rows written by a service: the add form calls it, the row is read-only afterwards
# ---------------------------------------------------------------------------------------------------------


class ServiceForm(forms.ModelForm):
    """An add form whose row a service writes — or refuses, writing nothing: the admin never saves what the
    form built. Each form's `record(data)` calls its service and returns the row; the service's refusal (a
    ValidationError) becomes the form's errors."""

    request = None  # given by `ServiceAdminMixin.get_form`
    admin_site = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if not callable(getattr(cls, "record", None)):
            raise TypeError(f"{cls.__name__} must say which service writes its row: define record(data).")

    def _post_clean(self):
        # In place of the model's validation of a row built from the form: the service checks, then writes.
        if self.errors:
            return
        try:
            self.instance = self.record(self.cleaned_data)
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                for name, errors in error.error_dict.items():
                    self.add_error(name if name in self.fields else None, errors)
            else:
                self.add_error(None, error)

    def save(self, commit=True):
        self.save_m2m = lambda: None
        return self.instance


class ServiceAdminMixin:
    """The add page (`add_form`, `add_fieldsets`) calls the service; afterwards the row is shown
    (`fieldsets`), never changed nor deleted — not even by an admin."""

    add_form: type[ServiceForm]  # each admin names the form of its service
    add_fieldsets = ()

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = self.add_form
        form = super().get_form(request, obj, **kwargs)  # a new class at each call: its own to set
        form.request, form.admin_site = request, self.admin_site
        return form

    def get_fieldsets(self, request, obj=None):
        return self.add_fieldsets if obj is None else super().get_fieldsets(request, obj)

    def get_inline_instances(self, request, obj=None):
        return [] if obj is None else super().get_inline_instances(request, obj)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        pass  # the service wrote it, inside the admin's transaction


# ---------------------------------------------------------------------------------------------------------
# Operators, their sites, prices, rules and plans: edited here
# ---------------------------------------------------------------------------------------------------------


class SiteOperatorInline(ScopedChoicesMixin, admin.TabularInline):
    """An operator's sites: changed here by an admin; the team changes them on « Sites gérés »."""

    model = SiteOperator
    extra = 0

    def has_add_permission(self, request, obj=None):
        return operator_ids(request) is None and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return operator_ids(request) is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return operator_ids(request) is None and super().has_delete_permission(request, obj)


class PriceLineForm(forms.ModelForm):
    class Meta:
        model = PriceLine
        fields = "__all__"  # noqa: DJ007 — the admin decides which fields it shows

    def clean(self):
        cleaned = super().clean()
        resource = cleaned.get("resource")
        operator_id = cleaned["operator"].pk if cleaned.get("operator") else self.instance.operator_id
        if (
            resource is not None
            and operator_id is not None
            and not SiteOperator.objects.filter(site_id=resource.site_id, operator_id=operator_id).exists()
        ):
            self.add_error("resource", _("Cette ressource n’est pas sur un site que gère cette structure."))
        return cleaned


class PriceLineInline(ScopedChoicesMixin, admin.TabularInline):
    model = PriceLine
    form = PriceLineForm
    extra = 0


class OperatorForm(forms.ModelForm):
    regie_revenue_types = _choices_field(
        RevenueType.choices,
        Operator._meta.get_field("regie_revenue_types").verbose_name,
        Operator._meta.get_field("regie_revenue_types").help_text,
    )

    class Meta:
        model = Operator
        fields = "__all__"  # noqa: DJ007 — the admin decides which fields it shows


@admin.register(Operator)
class OperatorAdmin(ScopedAdmin):
    """An operator: the team of its sites keeps its details; only an admin adds or deletes one. Once it has
    issued a bill, its mode and prefixes no longer change: its series go on as they started."""

    form = OperatorForm
    operator_path = "pk"
    list_display = ["name", "mode", "siret", "vat_franchise"]
    list_filter = ["mode"]
    search_fields = ["name", "legal_name", "siret"]
    inlines = [SiteOperatorInline, PriceLineInline]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.bills.filter(status=Bill.Status.ISSUED).exists():
            return ["mode", "invoice_prefix", "credit_note_prefix"]
        return []

    def has_add_permission(self, request):
        return operator_ids(request) is None and super().has_add_permission(request)

    def has_delete_permission(self, request, obj=None):
        return operator_ids(request) is None and super().has_delete_permission(request, obj)


@admin.register(SiteOperator)
class SiteOperatorAdmin(ScopedAdmin):
    """Which operator runs (and bills) which site. The staff of a site see every site of their operators,
    and choose among their operators for the sites they staff; what was billed stays with the operator
    that billed it."""

    list_display = ["site", "operator"]
    list_filter = [("operator", _ONLY_SEEN)]
    search_fields = ["site__name", "operator__name"]
    list_select_related = ["site", "operator"]

    def _staffed(self, request, obj) -> bool:
        return (
            obj is None
            or operator_ids(request) is None
            or obj.site_id in permissions.staffed_site_ids(request.user)
        )

    def has_change_permission(self, request, obj=None):
        return self._staffed(request, obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._staffed(request, obj) and super().has_delete_permission(request, obj)


@admin.register(PriceLine)
class PriceLineAdmin(ScopedAdmin):
    """Pay-as-you-go prices. A new price applies to what is booked from now on: charges keep their price."""

    form = PriceLineForm
    list_display = [
        "label",
        "operator",
        "resource",
        "kind",
        "category",
        "unit",
        "amount_excl_vat",
        "vat_rate",
    ]
    list_filter = [("operator", _ONLY_SEEN), "kind", "category", "unit"]
    search_fields = ["label", "resource__name"]
    list_select_related = ["operator", "resource__site"]


@admin.register(CancellationRule)
class CancellationRuleAdmin(ScopedAdmin):
    list_display = ["operator", "kind", "percent"]
    list_filter = [("operator", _ONLY_SEEN), "kind"]
    list_select_related = ["operator"]


class PlanForm(forms.ModelForm):
    day_kinds = _choices_field(
        Resource.Kind.choices,
        Plan._meta.get_field("day_kinds").verbose_name,
        Plan._meta.get_field("day_kinds").help_text,
    )
    hour_kinds = _choices_field(
        Resource.Kind.choices,
        Plan._meta.get_field("hour_kinds").verbose_name,
        Plan._meta.get_field("hour_kinds").help_text,
    )

    class Meta:
        model = Plan
        fields = "__all__"  # noqa: DJ007 — the admin decides which fields it shows


@admin.register(Plan)
class PlanAdmin(ScopedAdmin):
    """What an operator sells beyond pay-as-you-go. A plan's price is copied onto each holding when it is
    taken: changing it changes what is taken from now on. Once held, its operator and kind stay."""

    form = PlanForm
    list_display = [
        "name",
        "operator",
        "kind",
        "price_excl_vat",
        "vat_rate",
        "days",
        "valid_months",
        "on_sale",
    ]
    list_filter = [("operator", _ONLY_SEEN), "kind", "on_sale"]
    search_fields = ["name", "name_en"]
    list_select_related = ["operator"]

    def get_readonly_fields(self, request, obj=None):
        return ["operator", "kind"] if obj is not None and obj.holdings.exists() else []


# ---------------------------------------------------------------------------------------------------------
# Holdings: the leases the team signs; the cards and subscriptions members took, with care
# ---------------------------------------------------------------------------------------------------------


def _holding_charges(holding):
    """The charges a holding handed over: its months (rent, subscription) or its sale (card, pass)."""
    return Charge.objects.filter(
        Q(source__startswith=f"{runs.RECURRING_SOURCE}:") | Q(source=runs.SALE_SOURCE), source_id=holding.pk
    )


class HoldingForm(forms.ModelForm):
    """A lease signed by the team (a member or an organisation, the office, the dates, the monthly price), or
    a holding already taken, changed without breaking what bookings took of it: its dates keep the bookings
    it covered, and a correction of the days left is applied to what is left now (a booking may take one
    while the page is open)."""

    class Meta:
        model = Holding
        fields = "__all__"  # noqa: DJ007 — the admin decides which fields it shows

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        fields = self.fields
        if "plan" in fields:
            fields["plan"].queryset = fields["plan"].queryset.filter(kind=Plan.Kind.LEASE)
            fields["plan"].help_text = _(
                "Une location se signe ici ; un pass, une carte ou un abonnement se prennent depuis "
                "l’espace du membre."
            )
        if "price_excl_vat" in fields and not self.instance.pk:
            fields["price_excl_vat"].required = False
            fields["price_excl_vat"].help_text = _("Par mois. Vide : le prix de la formule.")
        if "days_left" in fields and self.instance.pk:
            fields["days_left"].show_hidden_initial = True  # what the page showed, to apply a correction
            taken = sum(self.instance.uses.values_list("amount", flat=True), Decimal("0"))
            fields["days_left"].help_text = _(
                "%(taken)s j déjà pris par des réservations, qui restent couvertes. Ce que vous corrigez "
                "s’ajoute à ce qui reste au moment d’enregistrer, ou s’en retire."
            ) % {"taken": _days(taken)}

    def _value(self, name):
        if name in self.cleaned_data:
            return self.cleaned_data[name]
        try:
            return getattr(self.instance, name)
        except ObjectDoesNotExist:
            return None

    def clean(self):
        cleaned = super().clean()
        plan, member, organisation = self._value("plan"), self._value("member"), self._value("organisation")
        if bool(member) == bool(organisation):
            self.add_error(
                "member" if "member" in self.fields else None,
                _("Une formule est détenue par un membre ou par une organisation : l’un des deux."),
            )
        starts_on, ends_on = self._value("starts_on"), self._value("ends_on")
        if starts_on and ends_on and ends_on < starts_on:
            self.add_error("ends_on", _("La fin précède le début."))
            return cleaned
        if plan is not None and plan.kind == Plan.Kind.LEASE and starts_on:
            self._check_office(plan, self._value("resource"), starts_on, ends_on)
        if self.instance.pk and starts_on:
            self._check_uses(starts_on, ends_on)
        if "price_excl_vat" in self.fields and cleaned.get("price_excl_vat") is None and plan is not None:
            cleaned["price_excl_vat"] = plan.price_excl_vat
        if "days_left" in self.fields and cleaned.get("days_left") is not None:
            self._check_days_left(cleaned["days_left"])
        return cleaned

    def _check_office(self, plan, resource, starts_on, ends_on):
        field = "resource" if "resource" in self.fields else None
        if resource is None:
            self.add_error(field, _("Une location porte sur un bureau : choisissez-le."))
            return
        if not SiteOperator.objects.filter(site_id=resource.site_id, operator_id=plan.operator_id).exists():
            self.add_error(
                field,
                _("Ce bureau n’est pas sur un site que gère %(operator)s.") % {"operator": plan.operator},
            )
            return
        others = Holding.objects.filter(resource=resource, plan__kind=Plan.Kind.LEASE).exclude(
            pk=self.instance.pk
        )
        others = others.filter(Q(ends_on__isnull=True) | Q(ends_on__gte=starts_on))
        if ends_on is not None:
            others = others.filter(starts_on__lte=ends_on)
        if other := others.select_related("member", "organisation").first():
            self.add_error(
                field,
                _("Ce bureau est déjà loué à %(debtor)s à partir du %(day)s.")
                % {"debtor": other.debtor, "day": other.starts_on.strftime("%d/%m/%Y")},
            )

    def _check_uses(self, starts_on, ends_on):
        span = self.instance.uses.aggregate(first=Min("booking__start"), last=Max("booking__start"))
        if span["first"] is None:
            return
        first, last = timezone.localdate(span["first"]), timezone.localdate(span["last"])
        if starts_on > first and "starts_on" in self.fields:
            self.add_error(
                "starts_on",
                _(
                    "Une réservation du %(day)s a été couverte par cette formule : elle commence ce jour-là au plus tard."
                )
                % {"day": first.strftime("%d/%m/%Y")},
            )
        if ends_on is not None and ends_on < last:
            self.add_error(
                "ends_on",
                _(
                    "Une réservation du %(day)s a été couverte par cette formule : elle finit ce jour-là au plus tôt."
                )
                % {"day": last.strftime("%d/%m/%Y")},
            )

    def _check_days_left(self, typed):
        bound = self["days_left"]
        seen = self.initial.get("days_left")
        if bound.html_initial_name in self.data:
            with contextlib.suppress(ValidationError):  # tampered with: taken as what is left now
                seen = bound.field.to_python(self.data[bound.html_initial_name])
        self.days_left_delta = typed - (seen if seen is not None else typed)
        now = Holding.objects.filter(pk=self.instance.pk).values_list("days_left", flat=True).first()
        if now is None:
            now = 0
        if typed < 0 or now + self.days_left_delta < 0:
            self.add_error(
                "days_left",
                _("Il reste %(left)s j : on ne peut en retirer davantage.") % {"left": _days(now)},
            )


class CreditUseInline(ReadOnlyInline):
    model = CreditUse
    fields = ["what", "amount", "month"]
    readonly_fields = ["what"]
    verbose_name_plural = _("utilisations par des réservations")

    @admin.display(description=_("réservation"))
    def what(self, use):
        return use.booking


@admin.register(Holding)
class HoldingAdmin(ScopedAdmin):
    """Holdings. The team signs leases here (a member or an organisation, the office, the dates, the monthly
    price); a pass, card or subscription a member took is shown, and only its end and, for a card, its days
    left may be corrected — never so as to uncover a booking it covered. Each month billed keeps its amount:
    a new price applies to the months not yet charged."""

    form = HoldingForm
    operator_path = "plan__operator"
    list_display = [
        "__str__",
        "kind",
        "resource",
        "starts_on",
        "ends_on",
        "price_excl_vat",
        "days_left",
        "cancelled_at",
    ]
    list_filter = [("plan__operator", _ONLY_SEEN), "plan__kind", ("resource__site", _ONLY_SEEN)]
    search_fields = [
        "member__email",
        "member__last_name",
        "organisation__name",
        "plan__name",
        "resource__name",
    ]
    list_select_related = ["plan", "member", "organisation", "resource__site"]
    autocomplete_fields = ["member", "organisation"]
    date_hierarchy = "starts_on"
    show_full_result_count = False
    inlines = [CreditUseInline]

    @admin.display(description=_("type"), ordering="plan__kind")
    def kind(self, holding):
        return holding.plan.get_kind_display()

    @admin.display(description=_("saisie par"))
    def entered_by(self, holding):
        return holding.created_by or "—"

    @admin.display(description=_("saisie le"))
    def entered_at(self, holding):
        return display_for_value(holding.created_at, "—")

    def get_fieldsets(self, request, obj=None):
        main = ["plan", ("member", "organisation"), "resource", ("starts_on", "ends_on"), "price_excl_vat"]
        if obj is None:
            return [(None, {"fields": main})]
        if obj.plan.kind != Plan.Kind.LEASE:
            main.remove("resource")
        if obj.plan.kind in (Plan.Kind.CARD, Plan.Kind.DAY_PASS):
            main.append("days_left")
        return [
            (None, {"fields": main}),
            (_("Suivi"), {"fields": ["cancelled_at", ("entered_by", "entered_at")]}),
        ]

    def get_readonly_fields(self, request, obj=None):
        fields = ["cancelled_at", "entered_by", "entered_at"]
        if obj is None:
            return fields
        kind = obj.plan.kind
        if kind != Plan.Kind.LEASE:  # taken by the member: what and for whom stays as they took it
            fields += ["plan", "member", "organisation", "resource", "starts_on"]
            if kind in (Plan.Kind.CARD, Plan.Kind.DAY_PASS):
                fields.append("price_excl_vat")  # billed at once
        elif _holding_charges(obj).exists():  # months billed to this debtor under this plan
            fields += ["plan", "member", "organisation"]
        return fields

    def get_inline_instances(self, request, obj=None):
        return [] if obj is None else super().get_inline_instances(request, obj)

    def has_delete_permission(self, request, obj=None):
        """A holding entered by mistake, nothing billed nor covered yet: deleted; otherwise ended."""
        if obj is not None and (obj.uses.exists() or _holding_charges(obj).exists()):
            return False
        return super().has_delete_permission(request, obj)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # one at a time, each checked (`has_delete_permission`)
        return actions

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
            obj.save()
            audit(request.user, "billing.holding.signed", obj, plan=obj.plan.name, debtor=str(obj.debtor))
            return
        # Never the days left as read when the page was posted: a booking may have taken one since.
        changed = [name for name in form.changed_data if name != "days_left"]
        if changed:
            obj.save(update_fields=changed)
        delta = getattr(form, "days_left_delta", 0) if "days_left" in form.changed_data else 0
        if delta:
            try:
                with transaction.atomic():
                    Holding.objects.filter(pk=obj.pk).update(days_left=F("days_left") + delta)
            except IntegrityError:  # taken in the meantime: nothing of this change is kept
                transaction.set_rollback(True)
                self.message_user(
                    request,
                    gettext("Des réservations ont pris ces jours entre-temps : rien n’est enregistré."),
                    messages.ERROR,
                )
                return
            obj.refresh_from_db(fields=["days_left"])
            if obj.days_left != form.cleaned_data["days_left"]:
                self.message_user(
                    request,
                    gettext(
                        "Des réservations ont pris ou rendu des jours pendant la correction : il en reste %(left)s."
                    )
                    % {"left": _days(obj.days_left)},
                    messages.WARNING,
                )
        if form.changed_data:
            audit(
                request.user,
                "billing.holding.changed",
                obj,
                **{name: str(form.cleaned_data.get(name)) for name in form.changed_data},
            )


@admin.register(CreditUse)
class CreditUseAdmin(ScopedReadOnlyAdmin):
    operator_path = "holding__plan__operator"
    list_display = ["booking", "holding", "amount", "month", "created_at"]
    list_filter = [("holding__plan__operator", _ONLY_SEEN), "holding__plan__kind", "month"]
    search_fields = ["holding__member__email", "holding__organisation__name", "booking__resource__name"]
    list_select_related = ["booking__resource", "holding__plan", "holding__member", "holding__organisation"]


# ---------------------------------------------------------------------------------------------------------
# Bills: a draft editable, an issued one read-only
# ---------------------------------------------------------------------------------------------------------


def _editable(bill) -> bool:
    """A draft is still the team's to change; an issued bill never changes (a credit note corrects it)."""
    return bill is None or not bill.is_issued


class BillLineInline(ScopedChoicesMixin, admin.TabularInline):
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
class BillAdmin(ScopedAdmin):
    """Bills: a draft stays editable; an issued one is shown read-only and can be neither changed nor
    deleted — the admin refuses (403) before the model would. Issuing goes through `issuing.issue`: what it
    sets (number, dates, totals, seller, footprint) is never typed in here."""

    list_display = ["__str__", "kind", "status", "operator", "buyer_name", "issue_date", "total_incl_vat"]
    list_filter = ["status", "kind", ("operator", _ONLY_SEEN)]
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


class SourceFilter(admin.SimpleListFilter):
    """Where charges come from: bookings, rent and subscriptions (all months together), plan sales…"""

    title = _("origine")
    parameter_name = "origine"

    def lookups(self, request, model_admin):
        sources = model_admin.get_queryset(request).order_by().values_list("source", flat=True).distinct()
        return [(source, source) for source in sorted({s.split(":")[0] for s in sources})]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(Q(source=self.value()) | Q(source__startswith=f"{self.value()}:"))
        return queryset


@admin.register(Charge)
class ChargeAdmin(ScopedReadOnlyAdmin):
    """Billable lines handed over by the apps (`ledger.hand_over`); a run takes them into drafts."""

    list_display = [
        "service_date",
        "label",
        "debtor",
        "operator",
        "amount_excl_vat",
        "status",
        "source",
        "bill",
    ]
    list_filter = ["status", ("operator", _ONLY_SEEN), SourceFilter, "revenue_type"]
    search_fields = ["label", "member__email", "member__last_name", "organisation__name", "source"]
    list_select_related = ["operator", "member", "organisation", "bill"]
    date_hierarchy = "service_date"

    @admin.display(description=_("débiteur"))
    def debtor(self, charge):
        return _debtor(charge)

    def get_queryset(self, request):
        return super().get_queryset(request).defer("bill__pdf")


@admin.register(BillingRun)
class BillingRunAdmin(ScopedReadOnlyAdmin):
    """Months billed: run, reviewed and issued from the team's page « Facturation »."""

    list_display = ["__str__", "operator", "month", "status", "progress", "started_at", "finished_at", "page"]
    list_filter = [("operator", _ONLY_SEEN), "status"]
    list_select_related = ["operator"]
    readonly_fields = ["page"]
    date_hierarchy = "month"

    @admin.display(description=_("avancement"))
    def progress(self, run):
        return f"{run.done} / {run.total}"

    @admin.display(description=_("page de l’équipe"))
    def page(self, run):
        return _link(reverse("billing:run", args=[run.pk]), _("Revoir et émettre"))


class LifecycleEventInline(ReadOnlyInline):
    model = LifecycleEvent
    fields = ["status", "occurred_at", "reason", "recorded_at"]
    readonly_fields = ["recorded_at"]


@admin.register(Transmission)
class TransmissionAdmin(ScopedReadOnlyAdmin):
    """How each bill travelled to its buyer, and what the e-invoicing platform reported of it."""

    operator_path = "bill__operator"
    list_display = ["bill", "channel", "status", "lifecycle", "attempts", "sent_at", "at"]
    list_filter = ["status", "channel", "lifecycle", "fallback", ("bill__operator", _ONLY_SEEN)]
    search_fields = ["bill__number", "bill__buyer_name", "external_id"]
    list_select_related = ["bill"]
    inlines = [LifecycleEventInline]

    def get_queryset(self, request):
        return super().get_queryset(request).defer("bill__pdf")


@admin.register(Reminder)
class ReminderAdmin(ScopedReadOnlyAdmin):
    operator_path = "bill__operator"
    list_display = ["bill", "days_overdue", "sent_at"]
    list_filter = ["days_overdue", ("bill__operator", _ONLY_SEEN)]
    search_fields = ["bill__number", "bill__buyer_name"]
    list_select_related = ["bill"]

    def get_queryset(self, request):
        return super().get_queryset(request).defer("bill__pdf")


@admin.register(Sequence)
class SequenceAdmin(ScopedReadOnlyAdmin):
    """Numbering series: the last number given, under the lock of issuing; never set by hand."""

    list_display = ["operator", "series", "last", "last_issued_on"]
    list_filter = [("operator", _ONLY_SEEN)]
    list_select_related = ["operator"]


@admin.register(Closing)
class ClosingAdmin(ScopedReadOnlyAdmin):
    """Closed months and years (`cocotte close_period`): nothing dated in them can be issued any more."""

    list_display = ["operator", "period", "starts_on", "ends_on", "closed_at", "closed_by"]
    list_filter = [("operator", _ONLY_SEEN), "period"]
    list_select_related = ["operator", "closed_by"]

    def get_queryset(self, request):
        return super().get_queryset(request).defer("archive")


# ---------------------------------------------------------------------------------------------------------
# Payments: recorded through `payments.record`, evidence afterwards
# ---------------------------------------------------------------------------------------------------------


class RecordPaymentForm(ServiceForm):
    bills = forms.ModelMultipleChoiceField(
        label=_("Pièces réglées"),
        queryset=Bill.objects.none(),
        required=False,
        help_text=_(
            "Vide : les pièces émises les plus anciennes que le débiteur doit encore à cette structure."
        ),
    )

    class Meta:
        model = Payment
        fields = [
            "operator",
            "member",
            "organisation",
            "amount",
            "method",
            "received_on",
            "reference",
            "revenue_type",
            "bills",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        fields = self.fields
        fields["method"].choices = [c for c in fields["method"].choices if c[0] != Payment.Method.ONLINE]
        fields["received_on"].initial = timezone.localdate
        fields["revenue_type"].help_text = _(
            "Mode public, encaissement à la régie (espèces, chèque, carte) : ce que le paiement règle. "
            "Il reçoit alors sa quittance numérotée."
        )
        fields["member"].help_text = _("Le membre, ou l’organisation : l’un des deux.")
        if self.admin_site is not None:  # searched as you type, among the bills the user may see
            fields["bills"].widget = AutocompleteSelectMultiple(
                Allocation._meta.get_field("bill"), self.admin_site
            )
        bills = scoped_choices(self.request, Bill, self.admin_site) if self.request else Bill.objects.none()
        fields["bills"].queryset = bills.filter(status=Bill.Status.ISSUED, kind__in=payments.OWED_KINDS)

    def clean(self):
        cleaned = super().clean()
        if bool(cleaned.get("member")) == bool(cleaned.get("organisation")):
            self.add_error(
                "member", _("Un paiement vient d’un membre ou d’une organisation : l’un des deux.")
            )
        return cleaned

    def record(self, data):
        return payments.record(
            data["operator"],
            data["member"] or data["organisation"],
            data["amount"],
            data["method"],
            data["received_on"],
            reference=data["reference"],
            revenue_type=data["revenue_type"],
            bills=list(data["bills"]) or None,
            by=self.request.user,
        )


class AllocationInline(ReadOnlyInline):
    model = Allocation
    fields = ["bill", "amount"]


@admin.register(Payment)
class PaymentAdmin(ServiceAdminMixin, ScopedAdmin):
    """Payments received (transfer, cheque, card, cash), recorded by `payments.record`: allocated to the
    bills named, or else to the debtor's oldest open ones; in public mode, a payment taken on site gets its
    régie receipt. A payment recorded is evidence: shown with its receipt, never changed nor deleted."""

    add_form = RecordPaymentForm
    add_fieldsets = [
        (None, {"fields": ["operator", ("member", "organisation"), ("amount", "method"), "received_on"]}),
        (None, {"fields": ["reference", "revenue_type", "bills"]}),
    ]
    fieldsets = [
        (
            None,
            {
                "description": _(
                    "Un paiement enregistré ne se modifie ni ne se supprime : il fait foi. Une erreur se "
                    "corrige par un avoir ou un nouveau paiement."
                ),
                "fields": [
                    "operator",
                    ("member", "organisation"),
                    ("amount", "method", "status"),
                    "received_on",
                    "reference",
                    "revenue_type",
                ],
            },
        ),
        (_("Reçu"), {"fields": ["receipt_number", "receipt", "unallocated"]}),
        (_("Suivi"), {"fields": ["provider_reference", "recorded_by", "created_at"]}),
    ]
    readonly_fields = ["receipt", "unallocated", "created_at"]
    list_display = [
        "__str__",
        "debtor",
        "operator",
        "amount",
        "method",
        "status",
        "received_on",
        "receipt_number",
        "reference",
    ]
    list_filter = ["status", "method", ("operator", _ONLY_SEEN), "revenue_type"]
    search_fields = [
        "reference",
        "receipt_number",
        "provider_reference",
        "member__email",
        "member__last_name",
        "organisation__name",
    ]
    list_select_related = ["operator", "member", "organisation"]
    autocomplete_fields = ["member", "organisation"]
    date_hierarchy = "received_on"
    show_full_result_count = False
    inlines = [AllocationInline]

    @admin.display(description=_("débiteur"))
    def debtor(self, payment):
        return _debtor(payment)

    @admin.display(description=_("reçu (PDF)"))
    def receipt(self, payment):
        if payment.status != Payment.Status.RECEIVED:
            return "—"
        label = (
            _("Quittance n° %(number)s") % {"number": payment.receipt_number}
            if payment.receipt_number
            else _("Reçu de paiement")
        )
        return _link(reverse("billing:receipt_pdf", args=[payment.pk]), label)

    @admin.display(description=_("non affecté (crédit du débiteur)"))
    def unallocated(self, payment):
        return euros(payments.unallocated(payment))

    def response_add(self, request, obj, post_url_continue=None):
        allocations = list(obj.allocations.select_related("bill").order_by("pk"))
        if obj.receipt_number:
            self.message_user(request, gettext("Quittance n° %(number)s.") % {"number": obj.receipt_number})
        if allocations:
            self.message_user(
                request,
                format_html(
                    "{} {}",
                    ngettext("Pièce réglée :", "Pièces réglées :", len(allocations)),
                    format_html_join(
                        ", ", "{} ({})", ((a.bill.reference, euros(a.amount)) for a in allocations)
                    ),
                ),
            )
        if (left := payments.unallocated(obj)) > 0:
            self.message_user(
                request,
                gettext("%(amount)s restent au crédit du débiteur.") % {"amount": euros(left)},
                messages.WARNING,
            )
        return super().response_add(request, obj, post_url_continue)


@admin.register(Allocation)
class AllocationAdmin(ScopedReadOnlyAdmin):
    operator_path = "payment__operator"
    list_display = ["payment", "bill", "amount"]
    list_filter = [("payment__operator", _ONLY_SEEN)]
    search_fields = ["bill__number", "payment__reference", "payment__receipt_number"]
    list_select_related = ["payment", "bill"]

    def get_queryset(self, request):
        return super().get_queryset(request).defer("bill__pdf")


# ---------------------------------------------------------------------------------------------------------
# Aids and the de minimis ledger: granted through `aids.grant`, declared through `aids.declare`
# ---------------------------------------------------------------------------------------------------------

CORRECTION = _(
    "Une aide inscrite au registre de minimis ne se modifie ni ne se supprime : le registre garde chaque "
    "octroi. Une correction s’enregistre comme une nouvelle aide (ou une nouvelle déclaration)."
)


class GrantAidForm(ServiceForm):
    revenue_types = _choices_field(
        RevenueType.choices,
        Aid._meta.get_field("revenue_types").verbose_name,
        Aid._meta.get_field("revenue_types").help_text,
    )
    monthly_rent = forms.DecimalField(
        label=_("Loyer mensuel sans l’aide"),
        required=False,
        min_value=0,
        max_digits=12,
        decimal_places=2,
        help_text=_(
            "Ce que l’entreprise paierait par mois sans l’aide (le loyer, ou les prestations aidées) : "
            "nécessaire à une part en pourcentage sans loyer de marché."
        ),
    )

    class Meta:
        model = Aid
        fields = [
            "operator",
            "organisation",
            "kind",
            "funder",
            "legal_basis",
            "percent",
            "monthly_amount",
            "revenue_types",
            "starts_on",
            "ends_on",
            "monthly_rent",
            "market_monthly_rent",
            "granted_on",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["granted_on"].initial = timezone.localdate
        self.fields["percent"].help_text = _(
            "Une part, ou un montant mensuel : l’un des deux (mois offerts : 100 %)."
        )

    def record(self, data):
        return aids.grant(
            data["operator"],
            data["organisation"],
            kind=data["kind"],
            funder=data["funder"],
            legal_basis=data["legal_basis"],
            percent=data["percent"],
            monthly_amount=data["monthly_amount"],
            revenue_types=data["revenue_types"],
            starts_on=data["starts_on"],
            ends_on=data["ends_on"],
            monthly_rent=data["monthly_rent"],
            market_monthly_rent=data["market_monthly_rent"],
            granted_on=data["granted_on"],
            by=self.request.user,
        )


class CompaniesMixin:
    """The organisations an aid form offers: those the user's operators deal with (a holding, a bill, a
    payment, an aid…); for an admin, every one (searched as you type)."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "organisation":
            kwargs.setdefault("queryset", companies(request))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_autocomplete_fields(self, request):
        return ["organisation"] if operator_ids(request) is None else []


@admin.register(Aid)
class AidAdmin(ServiceAdminMixin, CompaniesMixin, ScopedAdmin):
    """Aids granted through `aids.grant`: the de minimis ceiling (300,000 € over any three years, declared
    aid included) is checked under the company's lock and the ledger entry written with the aid — or the
    aid is refused, its message shown, and nothing is written. Read-only afterwards."""

    add_form = GrantAidForm
    add_fieldsets = [
        (
            None,
            {
                "description": _(
                    "À l’enregistrement, le plafond de minimis (300 000 € sur trois ans glissants, aides "
                    "déclarées comprises) est vérifié : une aide qui le dépasserait est refusée et rien n’est "
                    "inscrit."
                ),
                "fields": ["operator", "organisation", "kind", "funder", "legal_basis", "granted_on"],
            },
        ),
        (
            _("Ce que l’aide prend en charge"),
            {"fields": [("percent", "monthly_amount"), "revenue_types", ("starts_on", "ends_on")]},
        ),
        (_("Équivalent-subvention brut"), {"fields": [("monthly_rent", "market_monthly_rent")]}),
    ]
    fieldsets = [
        (
            None,
            {
                "description": CORRECTION,
                "fields": [
                    "operator",
                    "organisation",
                    "kind",
                    "funder",
                    "legal_basis",
                    "granted_on",
                    "granted_by",
                ],
            },
        ),
        (
            _("Ce que l’aide prend en charge"),
            {"fields": [("percent", "monthly_amount"), "revenue_types", ("starts_on", "ends_on")]},
        ),
        (
            _("Registre de minimis"),
            {"fields": ["gross_grant_equivalent", "market_monthly_rent", ("source", "source_id")]},
        ),
    ]
    list_display = [
        "organisation",
        "kind",
        "funder",
        "percent",
        "monthly_amount",
        "starts_on",
        "ends_on",
        "gross_grant_equivalent",
        "granted_on",
        "operator",
    ]
    list_filter = ["kind", ("operator", _ONLY_SEEN)]
    search_fields = ["organisation__name", "organisation__siren", "funder"]
    list_select_related = ["organisation", "operator"]
    date_hierarchy = "granted_on"


class DeclareAidForm(ServiceForm):
    class Meta:
        model = AidLedgerEntry
        fields = ["organisation", "granted_on", "amount", "funder", "aid_type", "legal_basis"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].required = True
        self.fields["legal_basis"].initial = aids.LEGAL_BASIS
        self.fields["aid_type"].help_text = _("Subvention, prêt d’honneur, avance remboursable…")

    def record(self, data):
        return aids.declare(
            data["organisation"],
            granted_on=data["granted_on"],
            amount=data["amount"],
            funder=data["funder"],
            aid_type=data["aid_type"],
            legal_basis=data["legal_basis"],
            by=self.request.user,
        )


@admin.register(AidLedgerEntry)
class AidLedgerEntryAdmin(ServiceAdminMixin, CompaniesMixin, ScopedAdmin):
    """The de minimis ledger of the companies the user's operators deal with — every aid of theirs, whoever
    granted it, since the ceiling counts them all. Added here: the aid a company declares from another
    funder (`aids.declare`, never refused: later grants are). An aid granted here enters it with the aid."""

    add_form = DeclareAidForm
    add_fieldsets = [
        (
            None,
            {
                "description": _(
                    "Une aide de minimis que l’entreprise a reçue d’un autre financeur, qu’elle a déclarée. "
                    "Une aide accordée par votre structure s’inscrit d’elle-même, depuis « Aides »."
                ),
                "fields": ["organisation", "granted_on", "amount", "funder", "aid_type", "legal_basis"],
            },
        )
    ]
    fieldsets = [
        (
            None,
            {
                "description": CORRECTION,
                "fields": [
                    ("siren", "organisation"),
                    "granted_on",
                    "amount",
                    "funder",
                    "aid_type",
                    "legal_basis",
                    ("declared", "aid"),
                    "created_at",
                ],
            },
        )
    ]
    readonly_fields = ["created_at"]
    list_display = ["siren", "organisation", "granted_on", "amount", "aid_type", "funder", "declared"]
    list_filter = ["declared"]
    search_fields = ["siren", "organisation__name", "funder"]
    list_select_related = ["organisation"]
    date_hierarchy = "granted_on"

    def scope(self, request):
        ids = operator_ids(request)
        return None if ids is None else Q(organisation__in=companies(request))

    def in_scope(self, request, obj=None):
        ids = operator_ids(request)
        if ids is None:
            return True
        if obj is None:
            return bool(ids)
        return companies(request).filter(pk=obj.organisation_id).exists()


# ---------------------------------------------------------------------------------------------------------
# An organisation's billing details, on its page
# ---------------------------------------------------------------------------------------------------------


class DebtorDetailsInline(admin.StackedInline):
    """What bills need of an organisation beyond its name, SIREN and address. Another operator's customer
    is theirs to keep: the team changes the details of the organisations its operators deal with, or of
    those nobody bills yet."""

    model = DebtorDetails
    can_delete = False
    max_num = 1

    def _theirs(self, request, organisation) -> bool:
        ids = operator_ids(request)
        if ids is None or organisation is None or organisation.pk is None:
            return True
        known = getattr(request, "_billing_companies", {})
        if organisation.pk not in known:
            one = Organisation.objects.filter(pk=organisation.pk)
            known[organisation.pk] = bool(ids) and (
                one.filter(_dealt_with(ids)).exists() or not one.filter(_dealt_with(None)).exists()
            )
            request._billing_companies = known
        return known[organisation.pk]

    def has_add_permission(self, request, obj=None):
        return self._theirs(request, obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._theirs(request, obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False


# Accounts cannot know billing (it sits below): its organisation page gets the billing details here.
admin.site.unregister(Organisation)


@admin.register(Organisation)
class OrganisationWithBillingAdmin(OrganisationAdmin):
    inlines = [*OrganisationAdmin.inlines, DebtorDetailsInline]

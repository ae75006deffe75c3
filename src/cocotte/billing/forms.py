"""The team's forms for billing runs and drafts: what staff type, checked before a service sees it."""

from decimal import Decimal

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.translation import gettext_lazy as _

from .models import Operator, Plan, RevenueType
from .runs import RunError, month_of
from .shop import plans_on_sale

MONEY = {"max_digits": 12, "decimal_places": 2}


class RunForm(forms.Form):
    operator = forms.ModelChoiceField(label=_("Structure"), queryset=Operator.objects.none())
    month = forms.CharField(
        label=_("Mois facturé"),
        widget=forms.DateInput(attrs={"type": "month"}),
        help_text=_("AAAA-MM, par exemple 2027-01."),
    )

    def __init__(self, *args, operators, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["operator"].queryset = operators
        if len(operators) == 1:
            self.fields["operator"].initial = operators[0]

    def clean_month(self):
        try:
            return month_of(self.cleaned_data["month"].strip())
        except RunError as error:
            raise forms.ValidationError(str(error)) from error


class LineForm(forms.Form):
    label = forms.CharField(label=_("Libellé"), max_length=300)
    quantity = forms.DecimalField(
        label=_("Quantité"), max_digits=10, decimal_places=3, validators=[MinValueValidator(Decimal("0.001"))]
    )
    unit_price = forms.DecimalField(
        label=_("Prix unitaire HT (€)"), validators=[MinValueValidator(Decimal("0"))], **MONEY
    )
    vat_rate = forms.DecimalField(
        label=_("Taux de TVA (%)"),
        max_digits=5,
        decimal_places=2,
        initial=Decimal("20"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )


class NewLineForm(LineForm):
    revenue_type = forms.ChoiceField(label=_("Type de recette"), choices=RevenueType.choices)
    unit = forms.ChoiceField(
        label=_("Unité"),
        choices=[
            ("forfait", _("forfait")),
            ("hour", _("heure")),
            ("day", _("journée")),
            ("month", _("mois")),
            ("sheet", _("feuille")),
        ],
    )

    field_order = ["label", "revenue_type", "quantity", "unit", "unit_price", "vat_rate"]


class TakePlanForm(forms.Form):
    plan = forms.ModelChoiceField(label=_("Formule"), queryset=Plan.objects.none(), widget=forms.HiddenInput)
    for_organisation = forms.TypedChoiceField(
        label=_("Pour"), coerce=int, empty_value=None, required=False, choices=[]
    )
    starts_on = forms.DateField(
        label=_("À partir du"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Aujourd’hui si vous laissez vide."),
    )

    def __init__(self, *args, organisations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["plan"].queryset = plans_on_sale()
        self.fields["for_organisation"].choices = [("", _("moi-même"))] + [
            (o.pk, o.name) for o in organisations
        ]
        if not organisations:
            self.fields["for_organisation"].widget = forms.HiddenInput()

"""Forms of the booking pages. They parse what a person typed; the engine decides what may be booked."""

from datetime import time, timedelta

from django import forms
from django.contrib.auth import get_user_model
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from cocotte.accounts.search import find_people
from cocotte.core.i18n import localized
from cocotte.core.timeutils import at_local, zone
from cocotte.spaces.models import Equipment, Resource

from . import periods
from .models import Block
from .rules import EARLIEST_YEAR, LATEST_YEAR

Unit = Resource.Unit

PARTS = [("morning", _("Matinée")), ("afternoon", _("Après-midi")), ("day", _("Journée entière"))]
REPEATS = [
    ("", _("Pas de répétition")),
    ("DAILY", _("Tous les jours")),
    ("WEEKLY", _("Toutes les semaines")),
    ("MONTHLY", _("Tous les mois")),
]


def in_date_range(value):
    """Refuse a day far from today (a typo or a probe) before any date arithmetic can overflow."""
    if not EARLIEST_YEAR < value.year < LATEST_YEAR:
        raise forms.ValidationError(
            _("Date hors des limites (%(first)s–%(last)s)."),
            code="out_of_range",
            params={"first": EARLIEST_YEAR + 1, "last": LATEST_YEAR - 1},
        )


class _EquipmentChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return localized(obj, "name")  # the English name for an English reader, when staff wrote one


class GridFilterForm(forms.Form):
    date = forms.DateField(
        label=_("Jour"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        validators=[in_date_range],
    )
    vue = forms.ChoiceField(
        label=_("Vue"), choices=[("jour", _("Jour")), ("semaine", _("Semaine"))], required=False
    )
    type = forms.ChoiceField(
        label=_("Type"), choices=[("", _("Tous")), *list(Resource.Kind.choices)], required=False
    )
    places = forms.IntegerField(label=_("Personnes (au moins)"), min_value=1, max_value=500, required=False)
    equipement = _EquipmentChoice(
        label=_("Équipement"),
        queryset=Equipment.objects.all(),
        to_field_name="slug",
        required=False,
        empty_label=_("Indifférent"),
    )


class SlotForm(forms.Form):
    """Choose a slot of one resource: the fields follow its booking unit."""

    date = forms.DateField(
        label=_("Jour"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        validators=[in_date_range],
    )
    start_time = forms.TimeField(
        label=_("De"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time", "step": 1800}, format="%H:%M"),
    )
    end_time = forms.TimeField(
        label=_("À"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time", "step": 1800}, format="%H:%M"),
    )
    part = forms.ChoiceField(label=_("Période"), choices=PARTS, required=False, widget=forms.RadioSelect)
    months = forms.IntegerField(label=_("Nombre de mois"), min_value=1, max_value=36, required=False)
    repeat = forms.ChoiceField(label=_("Répéter"), choices=REPEATS, required=False)
    count = forms.IntegerField(
        label=_("Nombre de fois"),
        min_value=2,
        max_value=104,
        required=False,
        help_text=_("Occurrences en tout, la première comprise."),
    )
    member_email = forms.CharField(
        label=_("Pour le membre (nom ou e-mail)"),
        required=False,
        max_length=254,
        help_text=_(
            "Un nom, une partie de nom ou l’adresse e-mail ; laissez vide pour réserver à votre nom."
        ),
    )
    note = forms.CharField(
        label=_("Note pour l’équipe"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    # Which form field an engine refusal belongs to, per unit (its `field` is start, end, rrule, member…).
    ERROR_FIELDS = {
        "time": {"start": "start_time", "end": "end_time"},
        "part": {"start": "part", "end": "part"},
        "month": {"start": "date", "end": "months"},
    }

    def __init__(self, *args, resource: Resource, staff: bool = False, moving: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.resource = resource
        self.kind = {Unit.HALF_DAY: "part", Unit.DAY: "part", Unit.MONTH: "month"}.get(resource.unit, "time")
        # Moving a booking changes its period only: no repetition, no other member, its note kept as it is.
        keep = {"date"} if moving else {"date", "note", "repeat", "count"}
        keep |= {"time": {"start_time", "end_time"}, "part": {"part"}, "month": {"months"}}[self.kind]
        if staff and not moving:
            keep.add("member_email")
        if self.kind == "month":
            keep -= {"repeat", "count"}
            self.fields["date"].label = _("Premier jour")
        if resource.unit == Unit.DAY:
            self.fields["part"].choices = [c for c in PARTS if c[0] == "day"]
        if self.kind == "part":
            self._show_part_times()
        for name in list(self.fields):
            if name not in keep:
                del self.fields[name]
        for name in {"start_time", "end_time", "part", "months"} & set(self.fields):
            self.fields[name].required = True

    def _show_part_times(self):
        """Name each period with its hours on the day asked (the site's own: a lunch break shows)."""
        value = self.data.get(self.add_prefix("date")) if self.is_bound else self.initial.get("date")
        try:
            day = self.fields["date"].to_python(value)
            if day is None:
                return
            in_date_range(day)
        except forms.ValidationError:
            return
        parts = periods.day_parts(self.resource, day)
        if not parts:
            return
        tz = zone(self.resource.site.timezone)
        self.fields["part"].choices = [
            (
                name,
                _("%(part)s, %(start)s–%(end)s")
                % {
                    "part": label,
                    "start": date_format(parts[name][0].astimezone(tz), "TIME_FORMAT"),
                    "end": date_format(parts[name][1].astimezone(tz), "TIME_FORMAT"),
                },
            )
            if name in parts
            else (name, label)
            for name, label in self.fields["part"].choices
        ]
        self.fields["part"].help_text = _("Horaires du %(day)s.") % {"day": date_format(day, "DATE_FORMAT")}

    def clean_member_email(self):
        email = (self.cleaned_data.get("member_email") or "").strip()
        if not email:
            return None
        member = get_user_model().objects.filter(email__iexact=email, is_active=True).first()
        if member is not None:
            return member
        found = find_people(email)
        if len(found) == 1:
            return found[0]
        if not found:
            raise forms.ValidationError(
                _("Aucun membre actif ne correspond à « %(text)s ».") % {"text": email}
            )
        raise forms.ValidationError(
            _("Plusieurs membres correspondent : %(people)s. Précisez, par exemple avec l’adresse e-mail.")
            % {"people": " ; ".join(f"{p.get_full_name() or p.email} ({p.email})" for p in found)}
        )

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        day = data["date"]
        if self.kind == "time":
            data["start"], data["end"] = periods.time_period(
                self.resource, day, data["start_time"], data["end_time"]
            )
        elif self.kind == "month":
            data["start"], data["end"] = periods.month_period(self.resource, day, data["months"])
        else:
            parts = periods.day_parts(self.resource, day)
            if not parts:
                self.add_error("date", _("Le site est fermé ce jour-là."))
                return data
            if data["part"] not in parts:
                self.add_error("part", _("Le site n’ouvre pas sur cette période ce jour-là."))
                return data
            data["start"], data["end"] = parts[data["part"]]
        if data.get("repeat") and not data.get("count"):
            self.add_error("count", _("Combien de fois ? (2 au moins)"))
        data["rrule"] = (
            f"FREQ={data['repeat']};COUNT={data['count']}"
            if data.get("repeat") and data.get("count")
            else None
        )
        return data

    def add_engine_error(self, error):
        """Put the engine's refusal next to the field it concerns, or at the top of the form."""
        name = self.ERROR_FIELDS[self.kind].get(error.field) or {
            "rrule": "repeat",
            "member": "member_email",
        }.get(error.field)
        self.add_error(name if name in self.fields else None, error.message)

    @classmethod
    def initial_for(cls, resource: Resource, start, end=None):
        """Pre-fill from a slot clicked in the grid."""
        from cocotte.core.timeutils import zone

        tz = zone(resource.site.timezone)
        local = start.astimezone(tz)
        initial = {"date": local.date(), "months": 1}
        if resource.unit in (Unit.HALF_DAY, Unit.DAY):
            initial["part"] = cls._part_of(periods.day_parts(resource, local.date()), start, end)
        step = resource.unit_duration or timedelta(minutes=30)
        end = end or start + step * max(resource.min_units, 1)
        initial.update(start_time=local.time(), end_time=end.astimezone(tz).time())
        return initial

    @staticmethod
    def _part_of(parts, start, end) -> str:
        """The period that is [start, end), or the half-day that `start` falls in (the first one starting
        after it, if it falls in none); the whole day for a day resource."""
        for name, period in parts.items():
            if period == (start, end):
                return name
        halves = [(name, p) for name, p in parts.items() if name != "day"]
        for name, (_start, p_end) in halves:
            if start < p_end:
                return name
        return halves[-1][0] if halves else "day"


class RefuseForm(forms.Form):
    reason = forms.CharField(
        label=_("Motif du refus"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Il est envoyé au membre."),
    )


class BlockForm(forms.Form):
    """Take a resource out: a maintenance, a closure. Without hours, whole days."""

    resource = forms.ModelChoiceField(label=_("Ressource"), queryset=Resource.objects.none())
    date = forms.DateField(
        label=_("Du"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        validators=[in_date_range],
    )
    start_time = forms.TimeField(
        label=_("à partir de"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text=_("Vide : dès minuit."),
    )
    end_date = forms.DateField(
        label=_("Au"),
        required=False,
        validators=[in_date_range],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Vide : le même jour."),
    )
    end_time = forms.TimeField(
        label=_("jusqu’à"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text=_("Vide : jusqu’à minuit."),
    )
    kind = forms.ChoiceField(label=_("Type"), choices=Block.Kind.choices)
    reason = forms.CharField(
        label=_("Motif"), max_length=200, help_text=_("Dit aux membres dont la réservation est annulée.")
    )
    cancel_conflicting = forms.BooleanField(
        label=_("Annuler les réservations sur cette période"), required=False
    )

    def __init__(self, *args, site, **kwargs):
        super().__init__(*args, **kwargs)
        self.site = site
        # Each option's label names the site too (Resource.__str__): fetch it with the resources.
        self.fields["resource"].queryset = Resource.objects.filter(site=site).select_related("site")

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        tz = zone(self.site.timezone)
        last_day = data.get("end_date") or data["date"]
        data["start"] = at_local(data["date"], data.get("start_time") or time(0), tz)
        end_time = data.get("end_time")
        data["end"] = at_local(
            last_day if end_time else last_day + timedelta(days=1), end_time or time(0), tz
        )
        if data["end"] <= data["start"]:
            self.add_error("end_time", _("La fin doit être après le début."))
        return data

"""Trainings' forms: they read and check the input's shape; the services decide the rest."""

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cocotte.accounts.models import Role
from cocotte.core.timeutils import at_local, zone
from cocotte.spaces.models import Resource

from .models import Enrolment, Module, Session


class ApplicationForm(forms.Form):
    project = forms.CharField(
        label=_("Votre projet"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=5000,
        help_text=_("En quelques lignes : votre idée, où vous en êtes."),
    )
    expectations = forms.CharField(
        label=_("Vos attentes"), widget=forms.Textarea(attrs={"rows": 3}), max_length=5000, required=False
    )
    prerequisites_met = forms.BooleanField(label=_("Je confirme remplir les prérequis de la formation"))
    needs_adaptation = forms.CharField(
        label=_("Adaptations liées à un handicap"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
        required=False,
        help_text=_("Le référent handicap vous contacte pour les prévoir."),
    )
    funding = forms.ChoiceField(label=_("Financement"), choices=Enrolment.Funding.choices)
    payer = forms.ModelChoiceField(
        label=_("Organisation qui paie"),
        queryset=None,
        required=False,
        help_text=_("Pour un financement par votre employeur ou une organisation que vous gérez."),
    )

    def __init__(self, *args, organisations=(), free=False, **kwargs):
        super().__init__(*args, **kwargs)
        if free:  # nothing to finance
            del self.fields["funding"]
        else:
            self.fields["funding"].choices = [
                c for c in Enrolment.Funding.choices if c[0] != Enrolment.Funding.FREE
            ]
        from cocotte.accounts.models import Organisation

        ids = [o.pk for o in organisations]
        self.fields["payer"].queryset = Organisation.objects.filter(pk__in=ids)
        if not ids or free:
            del self.fields["payer"]


def _site_choices_for_trainer(site):
    User = get_user_model()
    staff = [Role.Name.SITE_STAFF, Role.Name.PROJECT_OFFICER, Role.Name.TRAINER]
    return (
        User.objects.filter(
            is_active=True, roles__role__in=staff, roles__scope_app_label="spaces", roles__scope_id=site.pk
        )
        .distinct()
        .order_by("last_name", "first_name", "pk")
    )


class TrainerChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.get_full_name() or obj.email


class SittingForm(forms.Form):
    day = forms.DateField(label=_("Jour"), widget=forms.DateInput(attrs={"type": "date"}))
    start = forms.TimeField(label=_("Début"), widget=forms.TimeInput(attrs={"type": "time"}))
    end = forms.TimeField(label=_("Fin"), widget=forms.TimeInput(attrs={"type": "time"}))
    trainer = TrainerChoice(label=_("Formateur ou formatrice"), queryset=None)
    room = forms.ModelChoiceField(label=_("Salle"), queryset=None, required=False)
    outside_address = forms.CharField(label=_("Ou adresse extérieure"), max_length=300, required=False)
    module = forms.ModelChoiceField(label=_("Module"), queryset=None, required=False)

    def __init__(self, *args, session: Session, **kwargs):
        super().__init__(*args, **kwargs)
        self.session = session
        self.fields["trainer"].queryset = _site_choices_for_trainer(session.site)
        self.fields["room"].queryset = Resource.objects.filter(
            site=session.site,
            kind__in=[Resource.Kind.MEETING_ROOM, Resource.Kind.VISIO_ROOM, Resource.Kind.COMMON_ROOM],
        ).order_by("name")
        self.fields["module"].queryset = Module.objects.filter(programme_id=session.programme_id)

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        tz = zone(self.session.site.timezone)
        data["start_at"] = at_local(data["day"], data["start"], tz)
        data["end_at"] = at_local(data["day"], data["end"], tz)
        if data["end_at"] <= data["start_at"]:
            self.add_error("end", _("La fin de la séance doit suivre son début."))
        return data

    @classmethod
    def initial_for(cls, sitting) -> dict:
        start = timezone.localtime(sitting.start, zone(sitting.session.site.timezone))
        end = timezone.localtime(sitting.end, zone(sitting.session.site.timezone))
        return {
            "day": start.date(),
            "start": start.time().replace(second=0),
            "end": end.time().replace(second=0),
            "trainer": sitting.trainer_id,
            "room": sitting.room_id,
            "outside_address": sitting.outside_address,
            "module": sitting.module_id,
        }


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Motif (dit à la personne)"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000
    )


class CancelSessionForm(forms.Form):
    reason = forms.CharField(
        label=_("Motif de l’annulation (dit aux stagiaires)"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
    )


class MoveForm(forms.Form):
    session = forms.TypedChoiceField(label=_("Vers la session"), coerce=int)

    def __init__(self, *args, sessions, **kwargs):
        """`sessions`: the other open sessions of the programme, read once for every enrolment of the page."""
        super().__init__(*args, **kwargs)
        self.sessions = {s.pk: s for s in sessions}
        self.fields["session"].choices = [(s.pk, f"{s.label}") for s in sessions]

    def clean_session(self):
        return self.sessions[self.cleaned_data["session"]]

    @staticmethod
    def targets(enrolment_or_session) -> list:
        """The programme's other open sessions that have not begun (the services refuse a move into one
        that has: offering it would only lead to a refusal)."""
        session = getattr(enrolment_or_session, "session", enrolment_or_session)
        return list(
            Session.objects.filter(programme_id=session.programme_id, status=Session.Status.OPEN)
            .filter(Q(starts_at__isnull=True) | Q(starts_at__gt=timezone.now()))
            .exclude(pk=session.pk)
            .order_by("starts_at", "pk")
        )


class SessionSettingsForm(forms.ModelForm):
    class Meta:
        model = Session
        fields = ["label", "status", "capacity", "enrolment_opens", "enrolment_closes"]
        widgets = {
            "enrolment_opens": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
            "enrolment_closes": forms.DateTimeInput(
                attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
            ),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [
            (Session.Status.PLANNED, Session.Status.PLANNED.label),
            (Session.Status.OPEN, Session.Status.OPEN.label),
        ]
        for name in ("enrolment_opens", "enrolment_closes"):
            self.fields[name].input_formats = ["%Y-%m-%dT%H:%M"]


class ContractForm(forms.Form):
    name = forms.CharField(label=_("Vos prénom et nom"), max_length=200)
    agreed = forms.BooleanField(label=_("J’ai lu le contrat de formation et je l’accepte"))
    text_hash = forms.CharField(widget=forms.HiddenInput, max_length=64)

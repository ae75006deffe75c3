"""The events' forms: the team's event form, and the registration form (a visitor's name and address, and the
event's questions). The rules themselves are the services': a form only parses and shows their refusals."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from cocotte.spaces import photos
from cocotte.spaces.models import Resource, Site

from . import services
from .models import Event, Question

ROOM_KINDS = (
    Resource.Kind.MEETING_ROOM,
    Resource.Kind.VISIO_ROOM,
    Resource.Kind.COMMON_ROOM,
    Resource.Kind.OPEN_SPACE,
)


class LocalDateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class EventForm(forms.ModelForm):
    site = forms.ModelChoiceField(label=_("Site"), queryset=Site.objects.none())
    questions = forms.CharField(
        label=_("Questions posées à l’inscription"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Une par ligne. « * » devant une question obligatoire ; des choix après « | » : "
            "« * Déjeunerez-vous sur place ? | Oui | Non »."
        ),
    )

    class Meta:
        model = Event
        fields = [
            "site",
            "title",
            "description",
            "image",
            "image_alt",
            "rooms",
            "outside_address",
            "start",
            "end",
            "audience",
            "capacity",
            "waiting_list",
            "offer_hours",
            "registration_opens",
            "registration_closes",
            "price_excl_vat",
            "vat_rate",
            "cancellation_hours",
        ]
        widgets = {
            "start": LocalDateTimeInput(),
            "end": LocalDateTimeInput(),
            "registration_opens": LocalDateTimeInput(),
            "registration_closes": LocalDateTimeInput(),
            "description": forms.Textarea(attrs={"rows": 6}),
            "rooms": forms.CheckboxSelectMultiple(),
        }

    def __init__(self, *args, sites, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = sites
        site_ids = [s.pk for s in sites]
        self.fields["rooms"].queryset = (
            Resource.objects.filter(site_id__in=site_ids, kind__in=ROOM_KINDS, is_active=True)
            .select_related("site")
            .order_by("site__name", "name")
        )
        self.fields["rooms"].label_from_instance = lambda r: f"{r.name} ({r.site.name})"
        if self.instance.pk:
            self.fields["site"].disabled = True
            self.fields["site"].initial = self.instance.site_id
            self.fields["questions"].initial = services.questions_text(self.instance)
        elif len(sites) == 1:
            self.fields["site"].initial = sites[0].pk

    def clean_image(self):
        upload = self.cleaned_data.get("image")
        if upload and hasattr(upload, "content_type"):  # a new upload, not the stored file
            large, _thumbnail = photos.resized(upload)
            return large
        return upload

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end and end <= start:  # before the model's constraint says it in its own words
            self.add_error("end", ValidationError(_("La fin doit suivre le début."), code="end_before_start"))
        return data

    def clean_questions(self):
        try:
            return services.parse_questions(self.cleaned_data.get("questions", ""))
        except services.InvalidEvent as error:
            raise ValidationError(error.message) from error

    def event_fields(self) -> dict:
        data = dict(self.cleaned_data)
        for name in ("site", "rooms", "questions"):
            data.pop(name, None)
        if not data.get("image"):
            data.pop("image", None)
        return data


class CancelEventForm(forms.Form):
    reason = forms.CharField(
        label=_("Motif, dit aux inscrits"), widget=forms.Textarea(attrs={"rows": 3}), max_length=1000
    )


class RegistrationForm(forms.Form):
    """The event's questions; a visitor's name and e-mail address first."""

    def __init__(self, *args, event, visitor: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if visitor:
            self.fields["name"] = forms.CharField(label=_("Nom et prénom"), max_length=200)
            self.fields["name"].widget.attrs["autocomplete"] = "name"
            self.fields["email"] = forms.EmailField(
                label=_("Adresse e-mail"),
                help_text=_("Nous vous y envoyons le lien qui confirme l’inscription."),
            )
            self.fields["email"].widget.attrs["autocomplete"] = "email"
        for question in event.questions.all():
            name = f"q{question.pk}"
            if question.kind == Question.Kind.CHOICE:
                choices = [("", "—")] + [(c, c) for c in question.choice_list]
                self.fields[name] = forms.ChoiceField(
                    label=question.label, choices=choices, required=question.required
                )
            else:
                self.fields[name] = forms.CharField(
                    label=question.label, required=question.required, max_length=1000
                )

    def answers(self) -> dict:
        return {k[1:]: v for k, v in self.cleaned_data.items() if k.startswith("q") and v}


class WalkInForm(forms.Form):
    """Someone at the door who did not register."""

    name = forms.CharField(label=_("Nom et prénom"), max_length=200)
    email = forms.EmailField(label=_("Adresse e-mail"), required=False)

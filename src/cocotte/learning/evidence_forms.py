"""Forms of the evidence pages: they parse; the services decide (their refusals become form errors)."""

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from cocotte.spaces.models import Site

from .models import Complaint, Mark, Programme, Session

SCALE = [(str(n), str(n)) for n in range(1, 6)]


class SignForm(forms.Form):
    """A signature: a typed name (works without JavaScript) or a drawing made on the pad (its SVG path)."""

    method = forms.ChoiceField(
        choices=Mark.Method.choices, initial=Mark.Method.TYPED, widget=forms.HiddenInput, required=False
    )
    typed_name = forms.CharField(
        label=_("Votre nom, en guise de signature"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    drawing = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["typed_name"].widget.attrs["aria-describedby"] = f"{self['typed_name'].auto_id}_aide"

    def clean(self):
        data = super().clean()
        # The drawing decides, not the hidden field beside it: a page sent back with a drawing cleared, or
        # without the pad's script, signs with the typed name.
        drawn = bool((data.get("drawing") or "").strip())
        if not drawn or not data.get("method"):
            data["method"] = Mark.Method.DRAWN if drawn else Mark.Method.TYPED
        return data


class ScreenSignForm(SignForm):
    """On the trainer's screen: the trainee proves who they are with their own password."""

    password = forms.CharField(
        label=_("Mot de passe du stagiaire"),
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
        strip=False,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # On the trainer's device: no browser suggests the trainer's own name or keeps the trainee's password.
        self.fields["typed_name"].widget.attrs["autocomplete"] = "off"
        self.order_fields(["password", "typed_name", "method", "drawing"])


class AbsenceForm(forms.Form):
    state = forms.ChoiceField(
        label=_("Absence"),
        choices=[(Mark.State.ABSENT, _("absent")), (Mark.State.EXCUSED, _("absence justifiée"))],
    )
    reason = forms.CharField(label=_("Motif"), max_length=1000)


class AmendForm(forms.Form):
    state = forms.ChoiceField(
        label=_("Nouvel état"),
        choices=[
            (Mark.State.PRESENT, _("présent")),
            (Mark.State.ABSENT, _("absent")),
            (Mark.State.EXCUSED, _("absence justifiée")),
        ],
    )
    reason = forms.CharField(
        label=_("Motif de la correction"), max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )


class CloseSessionForm(forms.Form):
    """One pair of fields per accepted trainee: completed, and the assessment's result."""

    def __init__(self, *args, enrolments, hours, **kwargs):
        super().__init__(*args, **kwargs)
        self.rows = []
        for enrolment in enrolments:
            name = enrolment.trainee.get_full_name() or enrolment.trainee.email
            done = f"completed_{enrolment.pk}"
            result = f"result_{enrolment.pk}"
            self.fields[done] = forms.BooleanField(
                label=_("%(name)s a terminé la formation") % {"name": name}, required=False, initial=True
            )
            self.fields[result] = forms.CharField(
                label=_("Résultat de l’évaluation de %(name)s") % {"name": name},
                required=False,
                max_length=2000,
                widget=forms.Textarea(attrs={"rows": 2}),
            )
            self.rows.append((enrolment, name, hours.get(enrolment.pk), self[done], self[result]))

    def outcomes(self) -> dict[int, tuple[bool, str]]:
        return {
            enrolment.pk: (
                self.cleaned_data[f"completed_{enrolment.pk}"],
                self.cleaned_data[f"result_{enrolment.pk}"],
            )
            for enrolment, *_rest in self.rows
        }


class SurveyForm(forms.Form):
    overall = forms.ChoiceField(label=_("Satisfaction générale"), choices=SCALE, widget=forms.RadioSelect)
    content = forms.ChoiceField(
        label=_("Le contenu de la formation"), choices=SCALE, widget=forms.RadioSelect, required=False
    )
    trainers = forms.ChoiceField(
        label=_("Les formateurs"), choices=SCALE, widget=forms.RadioSelect, required=False
    )
    organisation = forms.ChoiceField(
        label=_("L’organisation (accueil, salles, horaires)"),
        choices=SCALE,
        widget=forms.RadioSelect,
        required=False,
    )
    usefulness = forms.ChoiceField(
        label=_("L’utilité pour votre projet"), choices=SCALE, widget=forms.RadioSelect, required=False
    )
    would_recommend = forms.ChoiceField(
        label=_("Recommanderiez-vous la formation ?"),
        choices=[("yes", _("oui")), ("no", _("non"))],
        widget=forms.RadioSelect,
        required=False,
    )
    comments = forms.CharField(
        label=_("Commentaires"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 4})
    )

    def answers(self) -> dict:
        data = dict(self.cleaned_data)
        data["would_recommend"] = {"yes": True, "no": False}.get(data.get("would_recommend"))
        return data


class ColdSurveyForm(SurveyForm):
    business_created = forms.ChoiceField(
        label=_("Avez-vous créé ou repris votre entreprise ?"),
        choices=[("yes", _("oui")), ("no", _("pas encore"))],
        widget=forms.RadioSelect,
        required=False,
    )
    business_created_on = forms.DateField(
        label=_("Si oui, quand ?"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def answers(self) -> dict:
        data = super().answers()
        data["business_created"] = {"yes": True, "no": False}.get(data.get("business_created"))
        return data


class BusinessForm(forms.Form):
    business_created = forms.ChoiceField(
        label=_("Entreprise créée"),
        choices=[("", _("non renseigné")), ("yes", _("oui")), ("no", _("non"))],
        required=False,
    )
    business_created_on = forms.DateField(
        label=_("Créée le"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


class ComplaintForm(forms.Form):
    author_name = forms.CharField(
        label=_("Votre nom"), max_length=200, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    author_email = forms.EmailField(
        label=_("Votre e-mail"), widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    programme = forms.ModelChoiceField(
        label=_("Formation concernée"), queryset=Programme.objects.filter(published=True), required=False
    )
    session = forms.ModelChoiceField(
        label=_("Session concernée"),
        queryset=Session.objects.exclude(status=Session.Status.PLANNED).select_related("programme"),
        required=False,
    )
    subject = forms.CharField(label=_("Objet"), max_length=200)
    description = forms.CharField(
        label=_("Votre réclamation"), max_length=5000, widget=forms.Textarea(attrs={"rows": 6})
    )


class AnswerForm(forms.Form):
    response = forms.CharField(label=_("Réponse apportée"), widget=forms.Textarea(attrs={"rows": 4}))
    action_taken = forms.CharField(
        label=_("Action d’amélioration"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    close = forms.BooleanField(label=_("Clore la réclamation"), required=False)


class ComplaintFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Statut"), choices=[("", _("tous")), *list(Complaint.Status.choices)], required=False
    )


class GrantForm(forms.Form):
    qualification = forms.ChoiceField(label=_("Qualification"))
    holder_email = forms.EmailField(label=_("E-mail du titulaire"))
    site = forms.ModelChoiceField(label=_("Site"), queryset=Site.objects.order_by("name"))
    valid_until = forms.DateField(
        label=_("Valable jusqu’au"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, qualifications, **kwargs):
        super().__init__(*args, **kwargs)
        self.qualifications = {str(q.pk): q for q in qualifications}
        self.fields["qualification"].choices = [(str(q.pk), q.name) for q in qualifications]

    def clean_holder_email(self):
        email = self.cleaned_data["holder_email"]
        holder = get_user_model().objects.filter(email__iexact=email, is_active=True).first()
        if holder is None:
            raise forms.ValidationError(_("Aucun membre n’a cette adresse."))
        return holder

    def clean_qualification(self):
        return self.qualifications[self.cleaned_data["qualification"]]


class GrantChangeForm(forms.Form):
    action = forms.ChoiceField(
        label=_("Action"), choices=[("suspend", _("suspendre")), ("revoke", _("retirer"))]
    )
    reason = forms.CharField(label=_("Motif"), max_length=1000)

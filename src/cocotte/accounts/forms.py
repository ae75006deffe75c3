"""Sign-up and profile forms. Consent is recorded with the version of the text and the time (GDPR)."""

from django import forms
from django.conf import settings
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from cocotte.core import phones

from .models import Consent, Organisation, Profile


def clean_french_phone(value: str) -> str:
    """A phone number a person can be called on, stored in E.164 (+33…); empty is fine."""
    value = (value or "").strip()
    if not value:
        return ""
    number = phones.e164(value)
    if number is None:
        raise forms.ValidationError(_("Numéro de téléphone invalide (exemple : 04 71 20 00 00)."))
    return number


class ProfileFieldsMixin(forms.Form):
    first_name = forms.CharField(
        label=_("Prénom"), max_length=150, widget=forms.TextInput(attrs={"autocomplete": "given-name"})
    )
    last_name = forms.CharField(
        label=pgettext_lazy("personne", "Nom"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
    )
    status = forms.ChoiceField(label=_("Vous êtes"), choices=Profile.Status.choices)
    organisation = forms.CharField(
        label=_("Organisation"),
        max_length=200,
        required=False,
        help_text=_("Entreprise, association, employeur…"),
    )
    commune = forms.CharField(
        label=_("Commune de résidence"),
        max_length=120,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "address-level2"}),
    )
    phone = forms.CharField(
        label=_("Téléphone"),
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "type": "tel"}),
    )

    def clean_phone(self):
        return clean_french_phone(self.cleaned_data.get("phone"))

    def save_profile(self, user):
        data = self.cleaned_data
        user.first_name, user.last_name = data["first_name"].strip(), data["last_name"].strip()
        user.save(update_fields=["first_name", "last_name"])
        profile = user.profile
        profile.status = data["status"]
        profile.commune = data["commune"].strip()
        profile.phone = data["phone"]
        name = data["organisation"].strip()
        profile.organisation = Organisation.objects.get_or_create(name=name)[0] if name else None
        if "language" in data:
            profile.language = data["language"]
        if "billing_address" in data:
            profile.billing_address = data["billing_address"].strip()
        profile.save()


class SignupForm(ProfileFieldsMixin):
    """allauth's sign-up form takes these fields too (ACCOUNT_SIGNUP_FORM_CLASS)."""

    accept_terms = forms.BooleanField(label=_("J’accepte les conditions d’utilisation."), required=True)
    accept_privacy = forms.BooleanField(
        label=_(
            "J’ai lu la politique de confidentialité et j’accepte le traitement de mes données pour mes réservations."
        ),
        required=True,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Each consent links to the text it accepts (opened beside the form, which keeps what was typed).
        for name, url_name, label in (
            ("accept_terms", "terms", _("Lire les conditions d’utilisation (nouvel onglet)")),
            ("accept_privacy", "privacy", _("Lire la politique de confidentialité (nouvel onglet)")),
        ):
            self.fields[name].help_text = format_html(
                '<a href="{}" target="_blank" rel="noopener">{}</a>', reverse(url_name), label
            )

    def signup(self, request, user):
        self.save_profile(user)
        ip = request.META.get("REMOTE_ADDR") or None
        Consent.objects.bulk_create(
            [
                Consent(
                    user=user,
                    document=Consent.Document.TERMS,
                    version=settings.COCOTTE_TERMS_VERSION,
                    ip_address=ip,
                ),
                Consent(
                    user=user,
                    document=Consent.Document.PRIVACY,
                    version=settings.COCOTTE_PRIVACY_VERSION,
                    ip_address=ip,
                ),
            ]
        )


class ProfileForm(ProfileFieldsMixin):
    billing_address = forms.CharField(
        label=_("Adresse de facturation"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "street-address"}),
        help_text=_("Imprimée sur vos factures : rue, puis code postal et commune sur la dernière ligne."),
    )
    language = forms.ChoiceField(label=_("Langue des messages"), choices=settings.LANGUAGES)

    @classmethod
    def for_user(cls, user, data=None):
        profile = user.profile
        initial = {
            "first_name": user.first_name,
            "last_name": user.last_name,
            "status": profile.status,
            "organisation": profile.organisation.name if profile.organisation else "",
            "commune": profile.commune,
            "billing_address": profile.billing_address,
            "phone": phones.as_written(profile.phone),
            "language": profile.language,
        }
        return cls(data=data, initial=initial)


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label=_("Nom du jeton"),
        max_length=100,
        help_text=_("Pour le reconnaître : « agenda », « script »…"),
        error_messages={"required": _("Donnez un nom au jeton.")},
    )


class DeleteAccountForm(forms.Form):
    """Deleting an account asks who is there: the password, or the e-mail address for an account that
    logs in by code only."""

    confirmation = forms.CharField(
        label=_("Votre mot de passe (ou, sans mot de passe, votre adresse e-mail)"),
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        strip=False,
    )

    def __init__(self, user, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_confirmation(self):
        given = self.cleaned_data["confirmation"]
        if self.user.has_usable_password():
            if not self.user.check_password(given):
                raise forms.ValidationError(_("Mot de passe incorrect : le compte n’est pas supprimé."))
        elif given.strip().lower() != self.user.email.lower():
            raise forms.ValidationError(_("Ce n’est pas l’adresse de ce compte : il n’est pas supprimé."))
        return given

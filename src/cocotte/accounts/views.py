"""The member's own pages: profile, private calendar address, API tokens, their data and its erasure."""

import json

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from . import gdpr
from .forms import ApiTokenForm, DeleteAccountForm, ProfileForm
from .models import ApiToken


def _profile_page(request, form, token_form, *, status=200):
    return render(
        request,
        "accounts/profile.html",
        {
            "form": form,
            "token_form": token_form,
            "tokens": request.user.api_tokens.live().order_by("-created_at"),
            "calendar_url": request.user.profile.calendar_url(request),
            "consents": request.user.consents.all(),
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def profile(request):
    form = ProfileForm.for_user(request.user, data=request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            form.save_profile(request.user)
        messages.success(request, _("Profil enregistré."))
        return redirect("accounts:profile")
    return _profile_page(request, form, ApiTokenForm(), status=400 if form.errors else 200)


@login_required
@require_POST
def renew_calendar(request):
    request.user.profile.renew_calendar_key()
    messages.success(request, _("Nouvelle adresse de calendrier créée : l’ancienne ne fonctionne plus."))
    return redirect("accounts:profile")


@login_required
@require_POST
def create_token(request):
    form = ApiTokenForm(request.POST)
    if not form.is_valid():  # the profile again, the error next to the token's name field
        return _profile_page(request, ProfileForm.for_user(request.user), form, status=400)
    token, raw = ApiToken.issue(request.user, name=form.cleaned_data["name"])
    # The secret is shown in this response only: never stored, never put in a cookie or a message.
    return render(request, "accounts/token_created.html", {"token": token, "raw": raw})


@login_required
@require_http_methods(["GET", "POST"])
def revoke_token(request, token_id: int):
    """GET asks for confirmation (a program using the token loses its access); POST revokes."""
    token = get_object_or_404(ApiToken.objects.live(), pk=token_id, user=request.user)
    if request.method == "GET":
        return render(request, "accounts/revoke_token.html", {"token": token})
    token.revoke()
    messages.success(request, _("Jeton « %(name)s » révoqué.") % {"name": token.name})
    return redirect("accounts:profile")


@login_required
@require_http_methods(["GET"])
def my_data(request):
    """Everything the platform holds on the member, as a JSON file (GDPR, art. 15 and 20)."""
    data = gdpr.export(request.user)
    response = HttpResponse(
        json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2),
        content_type="application/json; charset=utf-8",
    )
    name = f"cocotte-mes-donnees-{timezone.localdate():%Y-%m-%d}.json"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
def delete_account(request):
    """Delete one's account: confirmed by the password, then anonymised everywhere (accounts.gdpr)."""
    form = DeleteAccountForm(request.user, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        gdpr.erase(request.user)
        logout(request)
        messages.success(request, _("Votre compte est supprimé. Merci d’être passé par nos lieux."))
        return redirect("home")
    return render(request, "accounts/delete_account.html", {"form": form}, status=400 if form.errors else 200)

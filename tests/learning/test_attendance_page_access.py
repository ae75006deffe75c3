"""The sheet page as a phone and a screen reader use it: every field labelled and described, each line's forms
grouped under the trainee's name, the typed name signing without the pad (the keyboard's way), the error summary
taking the focus, the trainee's password never offered to or kept by the trainer's browser; and the refusals
of the team's line forms answered with their own status (not all 400), or, for a line changed since the page
was shown, said above the page as it is now."""

import re

from django.urls import reverse

from cocotte.learning import attendance
from tests.learning.test_attendance import mark_of

PASSWORD = "a-long-password-1"


def labelled(html: str) -> None:
    """Every visible input, select and textarea has a <label for> (or is inside one)."""
    ids = set(re.findall(r'<label[^>]*for="([^"]+)"', html))
    for tag in re.findall(r"<(?:input|select|textarea)\b[^>]*>", html):
        if 'type="hidden"' in tag or 'type="submit"' in tag:
            continue
        found = re.search(r'id="([^"]+)"', tag)
        assert found and found.group(1) in ids, f"unlabelled: {tag}"


def test_the_team_page_labels_and_groups_every_line_and_keeps_no_password(client, now_sheet, trainer, alice):
    client.force_login(trainer)
    html = client.get(reverse("learning:sheet", args=[now_sheet.pk])).content.decode()
    labelled(html)
    assert "<legend>Signature de Alice Martin</legend>" in html
    assert "<legend>Absence de Alice Martin</legend>" in html
    alices = mark_of(now_sheet, alice)
    typed = re.search(rf'<input[^>]*id="id_m{alices.pk}-typed_name"[^>]*>', html).group(0)
    assert 'autocomplete="off"' in typed  # not the trainer's own name offered on a trainee's line
    assert f'aria-describedby="id_m{alices.pk}-typed_name_aide"' in typed
    assert f'id="id_m{alices.pk}-typed_name_aide"' in html
    password = re.search(rf'<input[^>]*id="id_m{alices.pk}-password"[^>]*>', html).group(0)
    assert 'type="password"' in password and 'autocomplete="off"' in password
    # The pad appears only with its script; without it the typed name is all there is.
    assert re.search(r"<div class=\"signature-pad\"[^>]*hidden>", html)


def test_the_trainees_own_page_is_labelled_and_offers_the_typed_name(client, now_sheet, alice):
    client.force_login(alice)
    html = client.get(reverse("learning:sheet", args=[now_sheet.pk])).content.decode()
    labelled(html)
    assert 'id="id_own-typed_name"' in html and 'autocomplete="name"' in html


def test_an_error_summary_takes_the_focus(client, now_sheet, trainer, alice):
    client.force_login(trainer)
    alices = mark_of(now_sheet, alice)
    answer = client.post(
        reverse("learning:mark_sign", args=[now_sheet.pk, alices.pk]),
        {f"m{alices.pk}-typed_name": "Alice Martin", f"m{alices.pk}-password": "wrong"},
    )
    html = answer.content.decode()
    assert answer.status_code == 403
    assert re.search(r'<div class="error-summary" role="alert" tabindex="-1" autofocus>', html)
    assert "<details open>" in html and "Mot de passe incorrect" in html


def test_a_typed_name_signs_whatever_the_hidden_method_says_when_nothing_is_drawn(client, now_sheet, alice):
    """A page sent back after the drawing was cleared (or by a browser without the pad's script) says
    `drawn` with no drawing: the typed name signs, rather than a confusing « signature vide »."""
    client.force_login(alice)
    answer = client.post(
        reverse("learning:sheet_sign", args=[now_sheet.pk]),
        {"own-method": "drawn", "own-drawing": "", "own-typed_name": "Alice Martin"},
    )
    assert answer.status_code == 302
    mark = mark_of(now_sheet, alice)
    assert (mark.state, mark.method, mark.signed_name) == ("present", "typed", "Alice Martin")


def test_the_team_line_forms_answer_with_the_refusals_own_status(
    client, now_sheet, trainer, alice, bob, sophie
):
    alices = mark_of(now_sheet, alice)
    attendance.sign(alices, signer=alice, method="typed", typed_name="Alice Martin")
    client.force_login(trainer)
    answer = client.post(
        reverse("learning:mark_absence", args=[now_sheet.pk, alices.pk]),
        {f"a{alices.pk}-state": "absent", f"a{alices.pk}-reason": "Partie"},
    )
    # The line changed under the form (she signed): the page as it is now, the refusal said above it.
    assert answer.status_code == 302
    assert "Ce stagiaire a signé" in client.get(answer.url).content.decode()
    assert mark_of(now_sheet, alice).state == "present"
    client.force_login(sophie)
    answer = client.post(
        reverse("learning:mark_amend", args=[now_sheet.pk, alices.pk]),
        {f"c{alices.pk}-state": "absent", f"c{alices.pk}-reason": "Partie à 10 h"},
    )
    assert answer.status_code == 302  # no correction form on an open sheet: the refusal above the page
    assert "encore ouverte" in client.get(answer.url).content.decode()
    answer = client.post(
        reverse("learning:mark_absence", args=[now_sheet.pk, mark_of(now_sheet, bob).pk]),
        {f"a{mark_of(now_sheet, bob).pk}-state": "excused", f"a{mark_of(now_sheet, bob).pk}-reason": " "},
    )
    assert answer.status_code == 400 and "<details open>" in answer.content.decode()  # on its own line

"""Each place's public face: what a visitor finds before they ever sign up, and what staff put there."""

from datetime import date, time, timedelta
from decimal import Decimal
from io import BytesIO

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone, translation
from PIL import Image

from cocotte.spaces import photos
from cocotte.spaces.admin import SitePhotoForm
from cocotte.spaces.models import Closure, Equipment, Resource, SitePhoto
from tests.web.html import text_of


@pytest.fixture
def murat(make_site):
    """A telecentre with a lunch break, closed at weekends, its public texts in French and English."""
    return make_site(
        "telecentre",
        name="Télécentre de Murat",
        hours=((time(9), time(12, 30)), (time(13, 30), time(17, 30))),
        days=range(5),
        holidays=True,
        description="Le premier télécentre du territoire.",
        description_en="The area's first telecentre.",
        audience="Télétravailleurs et porteurs de projet.",
        extra_services="Formation à la création d’entreprise\nForum du télétravail",
        directions="Au rez-de-chaussée de la mairie.",
        latitude=Decimal("45.1103"),
        longitude=Decimal("2.8664"),
        phone="+33465710012",
        email="murat@example.org",
        contact_name="Claire Martin",
        contact_role="chargée de mission",
        contact_role_en="project officer",
    )


@pytest.fixture
def spaces(murat, make_resource):
    screen = Equipment.objects.create(name="Écran", name_en="Screen", slug="ecran")
    open_space = make_resource(
        murat,
        "open-space",
        kind=Resource.Kind.OPEN_SPACE,
        capacity=12,
        unit=Resource.Unit.HALF_DAY,
        max_units=2,
    )
    room = make_resource(murat, "salle", name="Salle du Plomb", name_en="Plomb room", seats=8)
    room.equipment.add(screen)
    make_resource(murat, "cachee", name="Salle fermée", is_active=False)
    return open_space, room


def page(client, site):
    response = client.get(reverse("spaces:site", args=[site.slug]))
    assert response.status_code == 200
    return response, text_of(response)


def test_a_visitor_finds_what_the_place_is_when_it_is_open_and_whom_to_call(client, murat, spaces):
    response, text = page(client, murat)

    assert "Le premier télécentre du territoire." in text
    assert "Télétravailleurs et porteurs de projet." in text
    assert "9 h 00 – 12 h 30, 13 h 30 – 17 h 30" in text  # the lunch break shows
    saturday = text[text.index("Samedi") :]
    assert saturday.split("Dimanche")[0].strip().endswith("Fermé")
    assert "aujourd’hui" in text
    assert "04 65 71 00 12" in text  # as written in France
    assert 'href="tel:+33465710012"' in response.content.decode()
    assert "Claire Martin, chargée de mission" in text
    assert "murat@example.org" in text
    assert "Au rez-de-chaussée de la mairie." in text
    assert "https://www.openstreetmap.org/?mlat=45.110300&amp;mlon=2.866400" in response.content.decode()


def test_it_lists_the_services_and_the_spaces_with_a_link_to_book_each(client, murat, spaces):
    open_space, room = spaces
    response, text = page(client, murat)
    html = response.content.decode()

    for service in ("Coworking en open space", "Salles de réunion", "Formation à la création d’entreprise"):
        assert service in text
    assert "Bureaux privatifs" not in text  # no office here
    assert "12 places" in text and "8 personnes" in text
    assert "Écran" in text
    assert "Salle fermée" not in text  # not bookable, not shown
    assert reverse("bookings:book", args=[murat.slug, room.pk]) in html
    assert reverse("bookings:book", args=[murat.slug, open_space.pk]) in html


def test_the_next_closures_are_listed_with_their_reason(client, murat):
    first = timezone.localdate() + timedelta(days=20)
    Closure.objects.create(site=murat, start_date=first, end_date=first + timedelta(days=6), reason="Travaux")

    _response, text = page(client, murat)

    assert "(Travaux)" in text
    assert "Du " in text  # one range, not seven days


def test_without_coordinates_the_map_link_searches_the_address(client, make_site):
    site = make_site("sans-point")

    response, _text = page(client, site)

    assert (
        "https://www.openstreetmap.org/search?query=1+place+de+l%E2%80%99%C3%89glise"
        in response.content.decode()
    )


def test_in_english_staff_s_english_texts_show_and_the_french_fills_the_gaps(client, murat, spaces):
    client.post(reverse("set_language"), {"language": "en", "next": "/"})

    _response, text = page(client, murat)

    assert "The area's first telecentre." in text
    assert "Plomb room" in text and "Screen" in text
    assert "project officer" in text
    assert "Au rez-de-chaussée de la mairie." in text  # no English version written: the French shows
    assert "Opening hours this week" in text


def test_an_inactive_or_unknown_site_is_a_404_in_the_site_s_layout_and_in_french(client, make_site):
    closed = make_site("ferme", is_active=False)

    for slug in (closed.slug, "nulle-part"):
        response = client.get(reverse("spaces:site", args=[slug]))
        assert response.status_code == 404
        text = text_of(response)
        assert "Page introuvable" in text
        assert "Retour à l’accueil" in text
        assert "Not Found" not in text


def test_the_home_page_presents_every_site_with_its_commune_today_s_hours_and_phone(client, murat, spaces):
    response = client.get(reverse("home"))
    text = text_of(response)

    assert "Télécentre de Murat" in text and "15300 Murat" in text
    assert "04 65 71 00 12" in text
    assert reverse("spaces:site", args=[murat.slug]) in response.content.decode()
    assert "Aujourd’hui :" in text


# --- photos --------------------------------------------------------------------------------------------


def jpeg(width, height, *, exif_gps=False) -> SimpleUploadedFile:
    image = Image.new("RGB", (width, height), (30, 120, 200))
    out = BytesIO()
    exif = Image.Exif()
    if exif_gps:
        exif[0x010F] = "PhoneMaker"  # the camera's make: metadata a resize must not carry over
    image.save(out, "JPEG", exif=exif)
    return SimpleUploadedFile("open-space.jpg", out.getvalue(), content_type="image/jpeg")


def test_an_uploaded_photo_is_resized_stripped_and_shown_with_its_alternative_text(
    client, murat, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    form = SitePhotoForm(
        data={"alt_text": "L’open space, douze postes", "alt_text_en": "", "position": 0},
        files={"image": jpeg(4000, 3000, exif_gps=True)},
        instance=SitePhoto(site=murat),
    )
    assert form.is_valid(), form.errors
    photo = form.save()

    with Image.open(photo.image.path) as large, Image.open(photo.thumbnail.path) as thumbnail:
        assert max(large.size) == photos.LARGE_SIDE
        assert max(thumbnail.size) == photos.THUMBNAIL_SIDE
        assert 0x010F not in large.getexif()
    assert (photo.width, photo.height) == (1600, 1200)

    response, _text = page(client, murat)
    html = response.content.decode()
    assert f'src="{photo.thumbnail.url}"' in html
    assert 'alt="L’open space, douze postes"' in html
    assert client.get(photo.thumbnail.url).status_code == 200  # served to visitors


def gif() -> SimpleUploadedFile:
    out = BytesIO()
    Image.new("P", (40, 30)).save(out, "GIF")
    return SimpleUploadedFile("photo.gif", out.getvalue(), content_type="image/gif")


@pytest.mark.parametrize(
    "upload, message",
    [
        (lambda: SimpleUploadedFile("photo.jpg", b"not an image", content_type="image/jpeg"), "image valide"),
        (gif, "Format non accepté"),
    ],
    ids=["not an image", "a gif"],
)
def test_a_file_that_is_not_a_photo_is_refused_with_a_clear_message(
    murat, upload, message, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    form = SitePhotoForm(
        data={"alt_text": "Une photo", "position": 0},
        files={"image": upload()},
        instance=SitePhoto(site=murat),
    )

    assert not form.is_valid()
    assert message in " ".join(form.errors["image"])
    assert SitePhoto.objects.count() == 0
    assert not any(tmp_path.rglob("*.jpg"))


def test_a_decompression_bomb_is_refused_before_it_is_decoded():
    image = Image.new("1", (8000, 8000))
    out = BytesIO()
    image.save(out, "PNG")
    out.size, out.name = len(out.getvalue()), "bomb.png"

    with pytest.raises(ValidationError, match="trop grande"):
        photos.resized(out)


def test_the_language_switch_names_each_language_in_itself(db, client):
    with translation.override("fr"):
        text = text_of(client.get(reverse("home")))
    assert "English" in text
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert "Français" in text_of(client.get(reverse("home")))


def test_a_date_of_the_first_of_the_month_reads_1er_in_french():
    from cocotte.core.formats import format_day

    with translation.override("fr"):
        assert format_day(date(2027, 1, 1)) == "vendredi 1er janvier 2027"


def test_public_holidays_are_named_in_the_reader_s_language(client, make_site):
    from cocotte.spaces.opening import public_holiday

    site = make_site("ferie", holidays=True)
    with translation.override("fr"):
        assert public_holiday(site, date(2027, 3, 29)) == "Lundi de Pâques"
    with translation.override("en"):
        assert public_holiday(site, date(2027, 3, 29)) == "Easter Monday"

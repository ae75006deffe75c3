"""French by default, English on request; dates written the French way, in the site's time (Europe/Paris)."""

import re
from html import unescape

from django.urls import reverse


def html_lang(response) -> str:
    return re.search(r'<html lang="([^"]+)"', response.content.decode()).group(1)


def text(fragment: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def caption(response) -> str:
    """The grid table's caption."""
    grid = re.search(r'<table[^>]*class="grid".*?</table>', response.content.decode(), re.S).group(0)
    return text(re.search(r"<caption[^>]*>(.*?)</caption>", grid, re.S).group(1))


def column_headers(response) -> list[str]:
    grid = re.search(r'<table[^>]*class="grid".*?</table>', response.content.decode(), re.S).group(0)
    thead = re.search(r"<thead[^>]*>(.*?)</thead>", grid, re.S).group(1)
    return [text(t) for t in re.findall(r"<th[^>]*>(.*?)</th>", thead, re.S)]


def test_pages_are_in_french_by_default(db, client):
    response = client.get(reverse("home"))
    assert html_lang(response) == "fr"
    assert "Les tiers-lieux du réseau" in response.content.decode()


def test_a_language_the_site_does_not_speak_falls_back_to_french(db, client):
    assert html_lang(client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9")) == "fr"


def test_the_english_switch_is_offered_and_kept(db, client):
    home = client.get(reverse("home")).content.decode()
    assert 'name="language" value="en"' in home and 'lang="en"' in home
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302 and response.url == "/"
    english = client.get(reverse("home"))
    assert html_lang(english) == "en"
    assert 'name="language" value="fr"' in english.content.decode()  # and the way back
    client.post(reverse("set_language"), {"language": "fr", "next": "/"})
    assert html_lang(client.get(reverse("home"))) == "fr"


def test_the_grid_writes_dates_the_french_way(site, room, client):
    response = client.get(reverse("bookings:grid", args=[site.slug]) + "?date=2026-12-07")
    assert response.status_code == 200
    assert caption(response).lower().startswith("lundi 7 décembre 2026")
    week = client.get(reverse("bookings:grid", args=[site.slug]) + "?date=2026-12-09&vue=semaine")
    assert caption(week).startswith("Semaine du 7 décembre 2026")
    assert column_headers(week)[1:] == ["lun 7", "mar 8", "mer 9", "jeu 10", "ven 11", "sam 12", "dim 13"]


def test_the_grid_in_english_writes_dates_the_english_way(site, room, client):
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    response = client.get(reverse("bookings:grid", args=[site.slug]) + "?date=2026-12-07")
    assert caption(response).startswith("Monday 7 December 2026")


def test_the_grid_hours_are_the_sites_wall_clock_in_winter_and_summer(site, room, client):
    # The test site opens 08:00–20:00 Paris time: 07:00 UTC in winter, 06:00 UTC in summer.
    for day in ("2026-12-07", "2027-07-05"):
        headers = column_headers(client.get(reverse("bookings:grid", args=[site.slug]) + f"?date={day}"))
        assert headers[1] == "8 h 00" and headers[-1] == "19 h 30", (day, headers)
        assert len(headers) == 1 + 24

"""The network's sites and resources, open to visitors."""

import re

import pytest

from cocotte.spaces.models import Equipment, Resource


def test_sites_lists_the_active_sites_with_their_opening_hours(api, site, make_site):
    make_site("ferme", is_active=False)

    response = api.get("/sites")

    assert response.status_code == 200
    (murat,) = response.json()
    assert (murat["slug"], murat["name"], murat["timezone"]) == ("murat", "Murat", "Europe/Paris")
    assert len(murat["opening_hours"]) == 7
    assert murat["opening_hours"][0] == {"weekday": 0, "opens": "08:00:00", "closes": "20:00:00"}


def test_opening_hours_are_local_times_as_the_document_describes_them(api, site):
    # Regression: documented as `format: time` (RFC 3339, which requires an offset: "08:00:00+01:00"), sent
    # without one. The schema now says what is sent: the site's wall-clock time.
    document = api.get("/openapi.json").json()
    opens = document["components"]["schemas"]["OpeningHoursOut"]["properties"]["opens"]

    sent = api.get("/sites/murat").json()["opening_hours"][0]["opens"]

    assert "format" not in opens
    assert re.fullmatch(opens["pattern"], sent)


def test_a_site_by_its_slug_and_404_for_an_unknown_or_inactive_one(api, site, make_site):
    make_site("ferme", is_active=False)

    assert api.get("/sites/murat").json()["slug"] == "murat"
    for slug in ("nulle-part", "ferme"):
        response = api.get(f"/sites/{slug}")
        assert (response.status_code, response.json()["code"]) == (404, "not_found")


@pytest.mark.parametrize("slug", ["mu%00rat", "mu%20rat", "é"])
def test_a_slug_that_cannot_be_one_is_a_422(api, site, slug):
    # Regression: a NUL character reached PostgreSQL, which refuses it in text (a 500).
    response = api.get(f"/sites/{slug}")

    assert (response.status_code, response.json()["code"], response.json()["field"]) == (
        422,
        "invalid_input",
        "slug",
    )


def test_resources_filter_by_site_and_kind_with_their_equipment(
    api, site, other_site, room, desk, make_resource
):
    make_resource(other_site, "salle-allanche")
    make_resource(site, "ancienne-salle", is_active=False)
    screen = Equipment.objects.create(name="Écran", slug="ecran")
    room.equipment.add(screen)

    everything = api.get("/resources").json()
    at_murat = api.get("/resources", site="murat").json()
    desks = api.get("/resources", site="murat", kind="desk").json()

    assert len(everything) == 3
    assert {r["slug"] for r in at_murat} == {"salle-reunion", "poste-1"}
    assert [r["slug"] for r in desks] == ["poste-1"]
    salle = next(r for r in at_murat if r["slug"] == "salle-reunion")
    assert (salle["site"], salle["kind"], salle["unit"], salle["equipment"]) == (
        "murat",
        "meeting_room",
        "30min",
        ["Écran"],
    )


def test_resources_of_an_unknown_site_is_a_404_and_an_unknown_kind_a_422(api, site):
    unknown_site = api.get("/resources", site="nulle-part")
    unknown_kind = api.get("/resources", kind="piscine")
    nul_site = api.get("/resources", site="mu\x00rat")

    assert (unknown_site.status_code, unknown_site.json()["code"]) == (404, "not_found")
    assert (unknown_kind.status_code, unknown_kind.json()["field"]) == (422, "kind")
    assert (nul_site.status_code, nul_site.json()["field"]) == (422, "site")


def test_the_documented_resource_kinds_are_the_resources_ones(api, db):
    # Regression: `Resource.Kind` and `Block.Kind` are both called « Kind »; the OpenAPI document kept one, so
    # the kinds of resources were documented as maintenance/closure/other, and valid requests were refused.
    schemas = api.get("/openapi.json").json()["components"]["schemas"]

    assert schemas["ResourceKind"]["enum"] == list(Resource.Kind.values)
    assert schemas["BlockKind"]["enum"] == ["maintenance", "closure", "other"]
    assert "Kind" not in schemas

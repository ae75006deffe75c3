"""A booking's price, shown before the member confirms: from the operator's price lines, the most precise
line winning, VAT to the cent, none under the VAT franchise."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from cocotte.billing.models import Category, Operator, PriceLine, SiteOperator
from cocotte.bookings import hooks
from cocotte.bookings.models import Booking
from cocotte.core.money import cents, vat_of
from cocotte.spaces.models import Resource
from tests.helpers import day_ahead, paris


@pytest.fixture
def operator(site):
    operator = Operator.objects.create(
        name="Hautes Terres Communauté",
        legal_name="Communauté de communes Hautes Terres Communauté",
        mode=Operator.Mode.PUBLIC,
        street="4 rue du Faubourg",
        postal_code="15300",
        city="Murat",
        siret="20006663700014",
    )
    SiteOperator.objects.create(site=site, operator=operator)
    return operator


@pytest.fixture
def prices(operator, room):
    PriceLine.objects.create(
        operator=operator,
        kind=Resource.Kind.MEETING_ROOM,
        unit=Resource.Unit.HALF_HOUR,
        amount_excl_vat=Decimal("7.50"),
        label="Demi-heure de salle",
    )
    PriceLine.objects.create(
        operator=operator,
        kind=Resource.Kind.MEETING_ROOM,
        unit=Resource.Unit.HALF_HOUR,
        category=Category.PROJECT_HOLDER,
        amount_excl_vat=Decimal("5.00"),
        label="Demi-heure, porteur de projet",
    )


def quote(resource, member, start, end):
    return hooks.quote(hooks.Proposal("book", resource, member, member, start, end))


def test_an_hour_and_a_half_of_meeting_room_costs_three_half_hours_plus_vat(alice, room, prices):
    day = day_ahead(5)

    price = quote(room, alice, paris(day, 10), paris(day, 11, 30))

    assert (price["amount_excl_vat"], price["vat"], price["total"]) == ("22.50", "4.50", "27.00")
    assert price["lines"] == [
        {
            "label": "Demi-heure de salle",
            "quantity": 3,
            "unit": "30min",
            "unit_price_excl_vat": "7.50",
            "covered_by": "pay_as_you_go",
        }
    ]
    assert price["covered_by"] == "pay_as_you_go"


def test_the_member_s_category_gets_its_own_price(alice, room, prices):
    alice.profile.status = Category.PROJECT_HOLDER
    alice.profile.save()
    day = day_ahead(5)

    assert quote(room, alice, paris(day, 10), paris(day, 11))["total"] == "12.00"  # 2 × 5.00 + 20 %


def test_a_resource_s_own_price_wins_over_its_kind_s(operator, alice, room, prices):
    PriceLine.objects.create(
        operator=operator,
        resource=room,
        unit=Resource.Unit.HALF_HOUR,
        amount_excl_vat=Decimal("9.00"),
        label="Salle du Plomb",
    )
    day = day_ahead(5)

    assert quote(room, alice, paris(day, 10), paris(day, 10, 30))["amount_excl_vat"] == "9.00"


def test_under_the_vat_franchise_no_vat_is_charged_and_the_mention_is_given(operator, alice, room, prices):
    operator.vat_franchise = True
    operator.save()
    day = day_ahead(5)

    price = quote(room, alice, paris(day, 10), paris(day, 11))

    assert (price["vat"], price["total"]) == ("0.00", "15.00")
    assert price["vat_note"] == "TVA non applicable, art. 293 B du CGI"


def test_a_site_without_operator_or_price_has_no_quote(alice, room, other_site, make_resource, operator):
    day = day_ahead(5)
    assert quote(room, alice, paris(day, 10), paris(day, 11)) is None  # an operator, but no price line
    elsewhere = make_resource(other_site, "salle")
    assert quote(elsewhere, alice, paris(day, 10), paris(day, 11)) is None


def test_the_confirm_page_shows_the_price_before_the_member_confirms(client, alice, room, prices):
    client.force_login(alice)
    day = day_ahead(6)

    response = client.post(
        reverse("bookings:book", args=[room.site.slug, room.pk]),
        {"step": "check", "date": day.isoformat(), "start_time": "09:00", "end_time": "10:00"},
    )

    assert response.status_code == 200
    assert "18,00\u00a0€ TTC (15,00\u00a0€ HT + 3,00\u00a0€ de TVA)" in response.content.decode()


def test_the_api_s_created_booking_carries_its_price(client, alice, room, prices):
    from cocotte.accounts.models import ApiToken

    _token, raw = ApiToken.issue(alice)
    day = day_ahead(6)
    body = {"resource": room.pk, "start": paris(day, 9).isoformat(), "end": paris(day, 10).isoformat()}

    response = client.post(
        "/api/v1/bookings", body, content_type="application/json", headers={"Authorization": f"Bearer {raw}"}
    )

    assert response.status_code == 201
    assert response.json()["price"]["total"] == "18.00"


def test_an_operator_s_siret_and_vat_number_are_checked(operator):
    operator.siret = "20006663700015"  # wrong check digit
    with pytest.raises(ValidationError) as refusal:
        operator.full_clean()
    assert "siret" in refusal.value.message_dict
    operator.siret = "200 066 637 00014"
    operator.vat_number = "FR00200066637"
    with pytest.raises(ValidationError) as refusal:
        operator.full_clean()
    assert "vat_number" in refusal.value.message_dict
    assert operator.siret == "20006663700014"  # given with spaces, kept compact


@given(
    amount=st.decimals(min_value=0, max_value=10_000, places=2),
    rate=st.sampled_from([Decimal("0"), Decimal("5.5"), Decimal("10"), Decimal("20")]),
    units=st.integers(min_value=1, max_value=48),
)
def test_vat_and_totals_are_to_the_cent_and_add_up(amount, rate, units):
    excl = cents(amount * units)
    vat = vat_of(excl, rate)
    assert vat == vat.quantize(Decimal("0.01")) and excl == excl.quantize(Decimal("0.01"))
    assert abs(vat - excl * rate / 100) <= Decimal("0.005")
    assert excl + vat >= excl


def test_the_api_preview_prices_a_slot_and_each_free_occurrence_of_a_series(client, alice, room, prices):
    from cocotte.accounts.models import ApiToken

    headers = {"Authorization": f"Bearer {ApiToken.issue(alice, name='tests')[1]}"}
    day = day_ahead(7)
    slot = {"resource": room.pk, "start": paris(day, 10).isoformat(), "end": paris(day, 11).isoformat()}

    single = client.post("/api/v1/bookings/preview", slot, content_type="application/json", headers=headers)
    series = client.post(
        "/api/v1/bookings/preview",
        {**slot, "rrule": "FREQ=WEEKLY;COUNT=3"},
        content_type="application/json",
        headers=headers,
    )

    assert single.status_code == 200, single.json()
    [occurrence] = single.json()
    assert occurrence["price"]["total"] == "18.00" and occurrence["price"]["covered_by"] == "pay_as_you_go"
    assert [o["price"]["total"] for o in series.json()] == ["18.00"] * 3
    assert not Booking.objects.exists()  # a preview books nothing

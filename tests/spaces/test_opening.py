"""When a site is open: weekly hours with breaks, public holidays, closures."""

from datetime import date, time

import pytest

from cocotte.spaces.models import Closure
from cocotte.spaces.opening import OpeningCalendar
from tests.helpers import paris

pytestmark = pytest.mark.django_db


def test_weekly_hours_with_a_lunch_break(make_site):
    site = make_site(
        "telecentre", hours=((time(9), time(12, 30)), (time(13, 30), time(17, 30))), days=range(5)
    )
    monday = date(2027, 1, 11)
    calendar = OpeningCalendar.for_site(site, monday, monday)
    assert calendar.day_intervals(monday) == [
        (paris(monday, 9), paris(monday, 12, 30)),
        (paris(monday, 13, 30), paris(monday, 17, 30)),
    ]
    assert calendar.day_span(monday) == (paris(monday, 9), paris(monday, 17, 30))


def test_weekends_are_closed_when_no_hours_are_set(make_site):
    site = make_site("semaine", days=range(5))
    saturday = date(2027, 1, 16)
    assert OpeningCalendar.for_site(site, saturday, saturday).day_intervals(saturday) == []


def test_french_public_holidays_close_the_site(make_site):
    site = make_site("riom", holidays=True)
    calendar = OpeningCalendar.for_site(site, date(2027, 5, 1), date(2027, 5, 14))
    assert "Fête du Travail" in calendar.closure_reason(date(2027, 5, 1))
    assert calendar.closure_reason(date(2027, 5, 6)) is not None  # Ascension
    assert calendar.closure_reason(date(2027, 5, 3)) is None


def test_alsace_moselle_has_its_own_holidays(make_site):
    strasbourg = make_site("strasbourg", holidays=True, holiday_subdivision="6AE")
    murat = make_site("murat-15", holidays=True)
    boxing_day = date(2027, 12, 26)
    assert OpeningCalendar.for_site(strasbourg, boxing_day, boxing_day).closure_reason(boxing_day)
    assert OpeningCalendar.for_site(murat, boxing_day, boxing_day).closure_reason(boxing_day) is None


def test_closures_cover_every_day_of_their_range(make_site):
    site = make_site("ete")
    Closure.objects.create(
        site=site, start_date=date(2027, 8, 2), end_date=date(2027, 8, 15), reason="Congés d’été"
    )
    calendar = OpeningCalendar.for_site(site, date(2027, 8, 1), date(2027, 8, 31))
    assert calendar.closure_reason(date(2027, 8, 1)) is None
    assert calendar.closure_reason(date(2027, 8, 2)) == "Congés d’été"
    assert calendar.closure_reason(date(2027, 8, 15)) == "Congés d’été"
    assert calendar.closure_reason(date(2027, 8, 16)) is None


def test_midnight_as_closing_time_means_the_end_of_the_day(make_site):
    site = make_site("nuit", hours=((time(18), time(0)),))
    day = date(2027, 1, 11)
    (interval,) = OpeningCalendar.for_site(site, day, day).day_intervals(day)
    assert interval == (paris(day, 18), paris(date(2027, 1, 12), 0))


def test_the_database_refuses_hours_that_close_before_they_open(make_site):
    from django.db import IntegrityError, transaction

    from cocotte.spaces.models import OpeningHours

    site = make_site("x", days=())
    with pytest.raises(IntegrityError), transaction.atomic():
        OpeningHours.objects.create(site=site, weekday=0, opens=time(18), closes=time(9))


class TestDayPeriods:
    """The half-days and the whole day that half-day and day bookings follow."""

    MONDAY = date(2027, 1, 11)

    def periods(self, make_site, hours, **fields):
        site = make_site("periodes", hours=hours, **fields)
        return OpeningCalendar.for_site(site, self.MONDAY, self.MONDAY).day_periods(self.MONDAY)

    def test_a_lunch_break_separates_the_morning_from_the_afternoon(self, make_site):
        day = self.MONDAY
        found = self.periods(make_site, ((time(9), time(12)), (time(14), time(18))))
        assert (found.morning, found.afternoon, found.day) == (
            (paris(day, 9), paris(day, 12)),
            (paris(day, 14), paris(day, 18)),
            (paris(day, 9), paris(day, 18)),
        )

    def test_one_opening_is_cut_at_the_half_day_split(self, make_site):
        day = self.MONDAY
        found = self.periods(make_site, ((time(8), time(18)),), half_day_split=time(12, 30))
        assert (found.morning, found.afternoon) == (
            (paris(day, 8), paris(day, 12, 30)),
            (paris(day, 12, 30), paris(day, 18)),
        )

    def test_an_afternoon_only_site_has_no_morning(self, make_site):
        found = self.periods(make_site, ((time(14), time(18)),))
        assert found.morning is None
        assert found.afternoon == found.day == (paris(self.MONDAY, 14), paris(self.MONDAY, 18))

    def test_three_openings_are_grouped_around_the_split(self, make_site):
        day = self.MONDAY
        found = self.periods(make_site, ((time(8), time(10)), (time(10, 30), time(12)), (time(14), time(18))))
        assert (found.morning, found.afternoon) == (
            (paris(day, 8), paris(day, 12)),
            (paris(day, 14), paris(day, 18)),
        )

    def test_a_closed_day_has_none(self, make_site):
        site = make_site("ferme", days=range(5))
        saturday = date(2027, 1, 16)
        assert OpeningCalendar.for_site(site, saturday, saturday).day_periods(saturday) is None

"""A person's events data: exported, and erased (upcoming places cancelled and given to the next; names,
addresses and answers of every registration anonymised, as a member and as a visitor by their address)."""

from cocotte.accounts import gdpr
from cocotte.events import services
from cocotte.events.models import Registration


def test_export_finds_member_and_visitor_registrations(forum, make_event, alice):
    services.register(forum, member=alice)
    other = make_event(title="Portes ouvertes")
    services.register_visitor(other, name="Alice en visite", email="ALICE@example.org")
    exported = gdpr.export(alice)["events"]
    assert sorted(r["event"] for r in exported) == ["Forum du télétravail", "Portes ouvertes"]


def test_erasure_anonymises_and_frees_the_place(make_event, alice, bob):
    event = make_event(capacity=1)
    mine = services.register(event, member=alice)
    waiting = services.register(event, member=bob)
    visitor = services.register_visitor(make_event(title="Autre"), name="Alice", email="alice@example.org")
    gdpr.erase(alice)
    mine.refresh_from_db()
    visitor.refresh_from_db()
    assert mine.status == "cancelled" and mine.member is None
    for registration in (mine, visitor):
        assert (
            registration.name == "—"
            and registration.email.endswith(".invalid")
            and registration.answers == {}
        )
    assert Registration.objects.get(pk=waiting.pk).status == "offered"

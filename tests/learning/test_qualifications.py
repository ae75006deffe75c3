"""Qualifications: granted by hand or by a training, suspended, revoked, expired; never deleted."""

from datetime import date, timedelta

import pytest
from django.urls import reverse

from cocotte.accounts import permissions
from cocotte.accounts.models import Role
from cocotte.learning import qualifications
from cocotte.learning.models import Grant, GrantDeletion


@pytest.fixture
def granter(make_user, qualification):
    user = make_user("fabien@example.org", first_name="Fabien", last_name="Fabmanager")
    permissions.grant_role(user, Role.Name.TRAINER, qualification)
    return user


def test_a_trainer_of_the_qualification_grants_it_by_hand(granter, qualification, alice, bob, site):
    made = qualifications.grant(qualification, alice, by=granter, site=site)
    assert made.granted_by == granter and qualifications.holds(alice, qualification)
    assert qualifications.grant(qualification, alice, by=granter, site=site) == made  # held already
    with pytest.raises(qualifications.Forbidden):
        qualifications.grant(qualification, alice, by=bob, site=site)


def test_validity_suspension_revocation_and_expiry(granter, qualification, alice, site):
    today = date(2027, 3, 1)
    made = qualifications.grant(
        qualification, alice, by=granter, site=site, valid_until=today + timedelta(days=30), today=today
    )
    assert qualifications.holds(alice, qualification, on=today + timedelta(days=30))
    assert not qualifications.holds(alice, qualification, on=today + timedelta(days=31))
    assert qualifications.expire_due(today=today + timedelta(days=31)) == 1
    made.refresh_from_db()
    assert made.status == Grant.Status.EXPIRED
    again = qualifications.grant(qualification, alice, by=granter, site=site)
    with pytest.raises(qualifications.QualificationError):
        qualifications.suspend(again, by=granter, reason="")
    qualifications.suspend(again, by=granter, reason="Usage dangereux de la découpeuse")
    assert not qualifications.holds(alice, qualification)
    qualifications.revoke(again, by=granter, reason="Récidive")
    with pytest.raises(qualifications.Conflict):
        qualifications.suspend(again, by=granter, reason="x")
    assert Grant.objects.filter(holder=alice).count() == 2  # the history stays


def test_a_grant_is_never_deleted(granter, qualification, alice, site):
    made = qualifications.grant(qualification, alice, by=granter, site=site)
    with pytest.raises(GrantDeletion):
        made.delete()
    with pytest.raises(GrantDeletion):
        Grant.objects.filter(holder=alice).delete()
    assert Grant.objects.count() == 1


def test_the_admin_offers_no_deletion(client, root, granter, qualification, alice, site):
    made = qualifications.grant(qualification, alice, by=granter, site=site)
    client.force_login(root)
    assert client.get(reverse("admin:learning_grant_delete", args=[made.pk])).status_code == 403
    assert Grant.objects.filter(pk=made.pk).exists()


def test_the_staff_page_grants_and_the_member_sees_it(client, granter, qualification, alice, site):
    client.force_login(granter)
    answer = client.post(
        reverse("learning:qualification_grants"),
        {"qualification": qualification.pk, "holder_email": "alice@example.org", "site": site.pk},
    )
    assert answer.status_code == 302 and qualifications.holds(alice, qualification)
    client.force_login(alice)
    assert "Découpe laser" in client.get(reverse("learning:my_qualifications")).content.decode()
    assert client.get(reverse("learning:qualification_grants")).status_code == 403

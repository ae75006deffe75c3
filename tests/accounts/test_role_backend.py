"""The staff of a site get the admins that apps open to them from their role, with no group to hand-make."""

from cocotte.accounts import permissions
from cocotte.accounts.models import Role
from tests.billing.conftest import private_operator  # noqa: F401 — the operator that runs sophie's site


def test_site_staff_hold_billings_permissions_and_lose_them_with_the_role(sophie, site):
    assert sophie.has_perm("billing.view_plan") and sophie.has_module_perms("billing")
    assert not sophie.has_perm("spaces.change_site")  # spaces has not opened its admin to the team
    permissions.revoke_role(sophie, Role.Name.SITE_STAFF, site)
    sophie = type(sophie).objects.get(pk=sophie.pk)  # Django caches permissions on the instance
    assert not sophie.has_perm("billing.view_plan")


def test_members_and_staff_outside_the_admin_hold_none(alice, sophie):
    assert not alice.has_perm("billing.view_plan")
    sophie.is_staff = False
    assert not sophie.has_perm("billing.view_plan")


def test_the_team_finds_billing_in_the_admin(client, sophie, private_operator):  # noqa: F811
    client.force_login(sophie)
    page = client.get("/admin/")
    assert page.status_code == 200
    assert "/admin/billing/" in page.content.decode()

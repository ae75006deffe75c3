"""Who may do what with trainings, from the roles of `accounts` (the one place they live).

- a session's **staff** are the staff of its site (and admins): they publish, accept, refuse, move, mark
  attendance, issue certificates and read the complaints;
- a **trainer** holds the trainer role over a site ("spaces", site id) to be named on its sittings, and takes
  the attendance of the sittings they teach;
- a person who may **grant** a qualification by hand holds the trainer role over it ("learning", its id);
- a **trainee** sees their own enrolments, signs their own marks and answers their own surveys: nobody signs
  for somebody else.
"""

from cocotte.accounts import permissions
from cocotte.accounts.models import Role


def manages(user, session_or_programme) -> bool:
    return permissions.is_site_staff(user, session_or_programme.site_id)


def may_teach_at(user, site_id: int) -> bool:
    """May be named trainer of a sitting at this site."""
    return permissions.has_role(user, Role.Name.TRAINER, ("spaces", site_id)) or permissions.is_site_staff(
        user, site_id
    )


def takes_attendance(user, sitting) -> bool:
    """The sitting's trainer, or its session's staff."""
    return permissions.is_member(user) and (
        sitting.trainer_id == user.pk or permissions.is_site_staff(user, sitting.session.site_id)
    )


def may_grant(user, qualification) -> bool:
    return permissions.has_role(user, Role.Name.TRAINER, qualification) or permissions.is_admin(user)


def is_trainee(user, enrolment) -> bool:
    return permissions.is_member(user) and enrolment.trainee_id == user.pk

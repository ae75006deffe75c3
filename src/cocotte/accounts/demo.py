"""Demo data of accounts: the people of the demo and their organisation (see `cocotte.core.seeding`).

Puts `people` (email → user, in the order of PEOPLE) into the shared context. Their roles over sites are
given by spaces' demo, which knows the sites.
"""

from allauth.account.models import EmailAddress
from django.db import transaction

from .models import Organisation, Profile, User

DEMO_PASSWORD = "cocotte-demo"  # noqa: S105 — printed on purpose: demo accounts only

PEOPLE = [
    # email, first name, last name, status, commune, role
    ("admin@cocotte.test", "Camille", "Admin", Profile.Status.OTHER, "Murat", "admin"),
    ("equipe@cocotte.test", "Sophie", "Chargée de mission", Profile.Status.OTHER, "Murat", "staff:all"),
    (
        "telecentre@cocotte.test",
        "Marc",
        "Gestionnaire",
        Profile.Status.OTHER,
        "Murat",
        "staff:telecentre-murat",
    ),
    ("alice@cocotte.test", "Alice", "Martin", Profile.Status.TELEWORKER, "Allanche", "member"),
    ("bob@cocotte.test", "Bob", "Durand", Profile.Status.PROJECT_HOLDER, "Murat", "member"),
    ("chloe@cocotte.test", "Chloé", "Roux", Profile.Status.COMPANY, "Neussargues", "member"),
]


@transaction.atomic
def seed(context):
    coop, _ = Organisation.objects.get_or_create(name="Coop des Volcans", defaults={"siren": "732829320"})
    people = {}
    for email, first, last, status, commune, role in PEOPLE:
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(
                email,
                DEMO_PASSWORD,
                first_name=first,
                last_name=last,
                is_superuser=role == "admin",
                is_staff=role != "member",
            )
            EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
            Profile.objects.filter(user=user).update(
                status=status,
                commune=commune,
                organisation=coop if status == Profile.Status.COMPANY else None,
            )
        people[email] = user
    context.shared["people"] = people


def report(context):
    context.write(context.style.SUCCESS(f"\nComptes de démonstration (mot de passe : {DEMO_PASSWORD})"))
    for email, first, last, _status, _commune, role in PEOPLE:
        context.write(f"  {email:<26} {first} {last} — {role}")

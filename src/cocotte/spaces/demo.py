"""Demo data of spaces: the network of Hautes Terres Communauté, its two sites in Murat (opening hours,
the Murat telecentre's lunch break, year-end closures), their resources, and the sites' teams.

Reads `people` from accounts' demo; puts `network` and `sites` (in the order of SITES) into the shared context.
"""

from datetime import date, time

from django.db import transaction
from django.utils import timezone

from cocotte.accounts import demo as accounts_demo
from cocotte.accounts import permissions
from cocotte.accounts.models import Role

from .models import Closure, Equipment, Network, OpeningHours, Resource, Site

R = Resource.Kind
U = Resource.Unit

SITES = [
    {
        "slug": "cocotte-numerique",
        "name": "La COcotte numérique",
        "description": "Second télécentre de Hautes Terres Communauté : open space, bureaux, salles de réunion "
        "et de visioconférence, espace de convivialité et Fablab.",
        "street": "Rue du Faubourg Notre-Dame",
        "opened_on": date(2019, 9, 2),
        "hours": {d: [(time(8, 30), time(18, 30))] for d in range(5)},
        "resources": [
            ("open-space", R.OPEN_SPACE, "Open space", 12, 12, U.HALF_DAY, 1, 2, 60, 2, False, []),
            ("poste-fenetre", R.DESK, "Poste Fenêtre", 1, 1, U.HALF_DAY, 1, 2, 60, 2, False, ["ecran"]),
            ("poste-volcan", R.DESK, "Poste Volcan", 1, 1, U.HALF_DAY, 1, 2, 60, 2, False, ["ecran"]),
            ("bureau-1", R.OFFICE, "Bureau 1", 2, 1, U.MONTH, 1, 12, 365, 720, True, []),
            ("bureau-2", R.OFFICE, "Bureau 2", 3, 1, U.MONTH, 1, 12, 365, 720, True, []),
            (
                "salle-plomb",
                R.MEETING_ROOM,
                "Salle du Plomb du Cantal",
                12,
                1,
                U.HALF_HOUR,
                1,
                20,
                90,
                24,
                False,
                ["ecran", "paperboard"],
            ),
            (
                "salle-visio",
                R.VISIO_ROOM,
                "Salle de visio Puy Mary",
                6,
                1,
                U.HALF_HOUR,
                1,
                16,
                90,
                24,
                False,
                ["ecran", "visio"],
            ),
            (
                "convivialite",
                R.COMMON_ROOM,
                "Espace de convivialité",
                30,
                1,
                U.HOUR,
                1,
                10,
                120,
                48,
                True,
                [],
            ),
            ("imprimante-3d", R.MACHINE, "Imprimante 3D", 1, 1, U.HALF_HOUR, 1, 16, 30, 12, False, []),
            ("decoupe-laser", R.MACHINE, "Découpeuse laser", 1, 1, U.HALF_HOUR, 1, 8, 30, 12, True, []),
        ],
    },
    {
        "slug": "telecentre-murat",
        "name": "Télécentre de Murat",
        "description": "Le premier télécentre de Hautes Terres Communauté, ouvert en 2007.",
        "street": "Place de l’Hôtel de Ville",
        "opened_on": date(2007, 3, 1),
        "hours": {d: [(time(9, 0), time(12, 30)), (time(13, 30), time(17, 30))] for d in range(5)},
        "resources": [
            ("open-space", R.OPEN_SPACE, "Open space", 6, 6, U.HALF_DAY, 1, 2, 60, 2, False, []),
            ("bureau-a", R.OFFICE, "Bureau A", 2, 1, U.MONTH, 1, 12, 365, 720, True, []),
            (
                "salle-reunion",
                R.MEETING_ROOM,
                "Salle de réunion",
                8,
                1,
                U.HALF_HOUR,
                1,
                16,
                90,
                24,
                False,
                ["ecran"],
            ),
        ],
    },
]

EQUIPMENT = {"ecran": "Écran", "paperboard": "Paperboard", "visio": "Kit de visioconférence"}


@transaction.atomic
def seed(context):
    network, _ = Network.objects.get_or_create(
        slug="hautes-terres",
        defaults={
            "name": "Tiers-lieux de Hautes Terres Communauté",
            "operator": "Hautes Terres Communauté",
        },
    )
    equipment = {
        slug: Equipment.objects.get_or_create(slug=slug, defaults={"name": name})[0]
        for slug, name in EQUIPMENT.items()
    }
    sites = []
    for spec in SITES:
        site, created = Site.objects.get_or_create(
            slug=spec["slug"],
            defaults={
                "network": network,
                "name": spec["name"],
                "description": spec["description"],
                "street": spec["street"],
                "postal_code": "15300",
                "city": "Murat",
                "email": f"{spec['slug']}@cocotte.test",
                "opened_on": spec["opened_on"],
            },
        )
        if created:
            OpeningHours.objects.bulk_create(
                OpeningHours(site=site, weekday=day, opens=o, closes=c)
                for day, intervals in spec["hours"].items()
                for o, c in intervals
            )
            year = timezone.localdate().year
            Closure.objects.create(
                site=site,
                start_date=date(year, 12, 24),
                end_date=date(year + 1, 1, 1),
                reason="Fêtes de fin d’année",
            )
        for position, row in enumerate(spec["resources"]):
            slug, kind, name, seats, capacity, unit, min_u, max_u, ahead, notice, approval, equip = row
            resource, _ = Resource.objects.get_or_create(
                site=site,
                slug=slug,
                defaults={
                    "kind": kind,
                    "name": name,
                    "seats": seats,
                    "capacity": capacity,
                    "unit": unit,
                    "min_units": min_u,
                    "max_units": max_u,
                    "max_advance_days": ahead,
                    "cancellation_notice_hours": notice,
                    "requires_approval": approval,
                    "position": position,
                },
            )
            resource.equipment.add(*(equipment[e] for e in equip))
        sites.append(site)
    _teams(sites, context.shared["people"])
    context.shared["network"] = network
    context.shared["sites"] = sites


def _teams(sites, people):
    """The demo's people marked "staff:all" or "staff:<site slug>" hold the site-staff role there."""
    for email, *_names, role in accounts_demo.PEOPLE:
        if not role.startswith("staff:"):
            continue
        for site in sites:
            if role == "staff:all" or role == f"staff:{site.slug}":
                permissions.grant_role(people[email], Role.Name.SITE_STAFF, site)

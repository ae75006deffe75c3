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
        "page": {
            "description_en": "Hautes Terres Communauté's second telecentre: open space, offices, meeting and "
            "videoconference rooms, a lounge and a Fablab.",
            "audience": "Télétravailleurs salariés ou indépendants, porteurs de projet et créateurs d’entreprise, "
            "entreprises et associations du territoire qui cherchent une salle ou un bureau.",
            "audience_en": "Employed and freelance teleworkers, people starting a business, and the area's "
            "companies and associations looking for a room or an office.",
            "extra_services": "Cycle de formation à la création d’entreprise (agréé)\nAccompagnement des "
            "porteurs de projet par la chargée de mission\nForum du télétravail et rencontres\nConcours "
            "Start’up Chef",
            "extra_services_en": "Accredited business-creation training cycle\nSupport for project holders by "
            "the project officer\nTeleworking forum and meetups\nStart’up Chef contest",
            "directions": "À cinq minutes à pied de la gare SNCF de Murat (ligne Clermont-Ferrand – Aurillac). "
            "Parking gratuit rue du Faubourg Notre-Dame. Locaux de plain-pied, accessibles en fauteuil.",
            "directions_en": "Five minutes' walk from Murat railway station (Clermont-Ferrand – Aurillac line). "
            "Free parking in rue du Faubourg Notre-Dame. Step-free, wheelchair-accessible premises.",
            "latitude": "45.110300",
            "longitude": "2.866400",
            "phone": "04 65 71 00 12",  # a number the ARCEP keeps for fiction
            "contact_name": "Claire Martin",
            "contact_role": "chargée de mission",
            "contact_role_en": "project officer",
        },
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
        "page": {
            "description_en": "Hautes Terres Communauté's first telecentre, opened in 2007.",
            "audience": "Télétravailleurs et indépendants qui cherchent un poste au calme, au cœur de Murat.",
            "audience_en": "Teleworkers and freelancers looking for a quiet desk in the heart of Murat.",
            "directions": "Au rez-de-chaussée de la mairie, place de l’Hôtel de Ville. Fermé entre 12 h 30 et "
            "13 h 30.",
            "directions_en": "On the ground floor of the town hall. Closed from 12:30 to 13:30.",
            "phone": "04 65 71 00 13",
            "contact_name": "Accueil du télécentre",
            "contact_role": "",
        },
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

EQUIPMENT = {
    "ecran": ("Écran", "Screen"),
    "paperboard": ("Paperboard", "Flip chart"),
    "visio": ("Kit de visioconférence", "Videoconference kit"),
}

# English names of the demo's resources, where they differ from the French.
RESOURCE_NAMES_EN = {
    "poste-fenetre": "Window desk",
    "poste-volcan": "Volcano desk",
    "bureau-1": "Office 1",
    "bureau-2": "Office 2",
    "bureau-a": "Office A",
    "salle-plomb": "Plomb du Cantal room",
    "salle-visio": "Puy Mary videoconference room",
    "convivialite": "Lounge",
    "imprimante-3d": "3D printer",
    "decoupe-laser": "Laser cutter",
    "salle-reunion": "Meeting room",
}


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
        slug: Equipment.objects.get_or_create(slug=slug, defaults={"name": name, "name_en": name_en})[0]
        for slug, (name, name_en) in EQUIPMENT.items()
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
                **spec["page"],
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
                    "name_en": RESOURCE_NAMES_EN.get(slug, ""),
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

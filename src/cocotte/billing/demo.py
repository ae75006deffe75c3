"""Demo data of billing: who runs each demo site, and its prices.

La COcotte numérique is run directly by Hautes Terres Communauté (public mode: statements and a régie, no
invoice number); the Télécentre de Murat by an association (private mode: invoices, VAT franchise). Reads
`sites` from spaces' demo.
"""

from decimal import Decimal

from django.db import transaction

from cocotte.spaces.models import Resource

from .models import Category, Operator, PriceLine, SiteOperator

K, U, C = Resource.Kind, Resource.Unit, Category

OPERATORS = {
    "cocotte-numerique": {
        "name": "Hautes Terres Communauté",
        "legal_name": "Communauté de communes Hautes Terres Communauté",
        "mode": Operator.Mode.PUBLIC,
        "street": "4 rue du Faubourg Notre-Dame",
        "siret": "20006663700014",
        "invoice_prefix": "HTC",
        "prices": [
            # kind, unit, category ("" for everyone), € excl. VAT, label
            (K.OPEN_SPACE, U.HALF_DAY, "", "6.00", "Demi-journée de coworking"),
            (
                K.OPEN_SPACE,
                U.HALF_DAY,
                C.PROJECT_HOLDER,
                "4.00",
                "Demi-journée de coworking, porteur de projet",
            ),
            (K.DESK, U.HALF_DAY, "", "7.50", "Demi-journée au poste réservé"),
            (K.OFFICE, U.MONTH, "", "250.00", "Mois de bureau privatif"),
            (K.OFFICE, U.MONTH, C.PROJECT_HOLDER, "180.00", "Mois de bureau privatif, porteur de projet"),
            (K.MEETING_ROOM, U.HALF_HOUR, "", "7.50", "Demi-heure de salle de réunion"),
            (K.VISIO_ROOM, U.HALF_HOUR, "", "8.00", "Demi-heure de salle de visioconférence"),
            (K.COMMON_ROOM, U.HOUR, C.ASSOCIATION, "10.00", "Heure d’espace de convivialité, association"),
            (K.COMMON_ROOM, U.HOUR, "", "20.00", "Heure d’espace de convivialité"),
            (K.MACHINE, U.HALF_HOUR, "", "5.00", "Demi-heure de machine du Fablab"),
        ],
    },
    "telecentre-murat": {
        "name": "Association du Télécentre de Murat",
        "legal_name": "Association Télécentre de Murat",
        "mode": Operator.Mode.PRIVATE,
        "street": "Place de l’Hôtel de Ville",
        "siret": "81234567600017",
        "vat_franchise": True,
        "invoice_prefix": "TM",
        "prices": [
            (K.OPEN_SPACE, U.HALF_DAY, "", "5.00", "Demi-journée de coworking"),
            (K.OFFICE, U.MONTH, "", "200.00", "Mois de bureau"),
            (K.MEETING_ROOM, U.HALF_HOUR, "", "6.00", "Demi-heure de salle de réunion"),
        ],
    },
}


@transaction.atomic
def seed(context):
    for site in context.shared["sites"]:
        spec = OPERATORS.get(site.slug)
        if spec is None:
            continue
        fields = {k: v for k, v in spec.items() if k != "prices"}
        operator, _created = Operator.objects.get_or_create(
            siret=spec["siret"], defaults={**fields, "postal_code": "15300", "city": "Murat"}
        )
        SiteOperator.objects.get_or_create(site=site, defaults={"operator": operator})
        for kind, unit, category, amount, label in spec["prices"]:
            PriceLine.objects.get_or_create(
                operator=operator,
                kind=kind,
                resource=None,
                category=category,
                unit=unit,
                defaults={
                    "amount_excl_vat": Decimal(amount),
                    "label": label,
                    "vat_rate": Decimal("0") if spec.get("vat_franchise") else Decimal("20.00"),
                },
            )

"""Demo data of billing: who runs each demo site, its prices and plans, and last month billed.

La COcotte numérique is run directly by Hautes Terres Communauté (public mode: statements and a régie, no
invoice number); the Télécentre de Murat by an association (private mode: invoices, VAT franchise). Reads
`sites` and `people` from the demo modules below.

Then, as a place that has been running for a while: members hold plans (a subscription, a card, an office
lease for a company, a subscription that began mid-month), two organisations managed by Chloé (a member of
both), the Coop's rent halved by an aid in the de minimis ledger; the demo's bookings are priced and covered
as the engine would have done; last month is billed in both modes — invoices issued and partly paid, one
credited, statements issued with a régie receipt, and the public month's export written to the data folder.
"""

from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from cocotte.accounts import permissions
from cocotte.accounts.models import Organisation, Profile, Role
from cocotte.bookings.models import Booking
from cocotte.spaces.models import Resource

from . import aids, exports, issuing, ledger, participant, payments, runs
from .models import (
    BillingRun,
    Category,
    Charge,
    CreditUse,
    DebtorDetails,
    Holding,
    Operator,
    Plan,
    PriceLine,
    RevenueType,
    SiteOperator,
)

K, U, C = Resource.Kind, Resource.Unit, Category

OPERATORS = {
    "cocotte-numerique": {
        "name": "Hautes Terres Communauté",
        "legal_name": "Communauté de communes Hautes Terres Communauté",
        "mode": Operator.Mode.PUBLIC,
        "street": "4 rue du Faubourg Notre-Dame",
        "siret": "20006663700014",
        "invoice_prefix": "HTC",
        "regie_revenue_types": [
            RevenueType.COWORKING,
            RevenueType.OFFICE,
            RevenueType.MEETING_ROOM,
            RevenueType.FABLAB,
        ],
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
        "plans": [
            # kind, name, € excl. VAT (a month for subscriptions and leases), days, included hours
            (Plan.Kind.DAY_PASS, "Pass journée", "10.00", 1, 0),
            (Plan.Kind.CARD, "Carte 10 jours", "90.00", 10, 0),
            (Plan.Kind.SUBSCRIPTION, "Abonnement coworking", "100.00", 0, 4),
            (Plan.Kind.LEASE, "Bureau privatif au mois", "250.00", 0, 0),
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
        "plans": [
            (Plan.Kind.CARD, "Carte 10 demi-journées", "45.00", 5, 0),
            (Plan.Kind.SUBSCRIPTION, "Abonnement coworking", "70.00", 0, 4),
            (Plan.Kind.LEASE, "Bureau au mois", "200.00", 0, 0),
        ],
    },
}
DAY_KINDS, HOUR_KINDS = [K.OPEN_SPACE, K.DESK], [K.MEETING_ROOM, K.VISIO_ROOM]
ORGANISATIONS = {
    # name: SIREN, address, billing e-mail
    "Coop des Volcans": ("732829320", "2 avenue de la Gare\n15300 Murat", "compta@coop-volcans.test"),
    "Atelier des Monts": ("841234503", "12 rue du Bailliage\n15300 Murat", "atelier@monts.test"),
}
BILLING_ADDRESSES = {
    "alice@cocotte.test": "3 place de la Mairie\n15160 Allanche",
    "bob@cocotte.test": "8 rue de l’Argenterie\n15300 Murat",
    "chloe@cocotte.test": "1 route de la Gare\n15500 Neussargues",
}


def seed(context):
    operators = _operators(context.shared["sites"])
    people = context.shared["people"]
    organisations = _organisations(people)
    today = timezone.localdate()
    last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    if BillingRun.objects.filter(month=last_month).exists():
        return  # seeded already: a month is billed once
    with transaction.atomic():
        _holdings(operators, people, organisations, last_month)
        _price_demo_bookings()
    _bill_last_month(operators, people, organisations, last_month, today)
    context.shared["operators"] = operators


@transaction.atomic
def _operators(sites) -> dict[str, Operator]:
    operators = {}
    for site in sites:
        spec = OPERATORS.get(site.slug)
        if spec is None:
            continue
        fields = {k: v for k, v in spec.items() if k not in ("prices", "plans")}
        operator, _created = Operator.objects.get_or_create(
            siret=spec["siret"], defaults={**fields, "postal_code": "15300", "city": "Murat"}
        )
        operators[site.slug] = operator
        SiteOperator.objects.get_or_create(site=site, defaults={"operator": operator})
        rate = Decimal("0") if spec.get("vat_franchise") else Decimal("20.00")
        for kind, unit, category, amount, label in spec["prices"]:
            PriceLine.objects.get_or_create(
                operator=operator,
                kind=kind,
                resource=None,
                category=category,
                unit=unit,
                defaults={"amount_excl_vat": Decimal(amount), "label": label, "vat_rate": rate},
            )
        for kind, name, price, days, hours in spec["plans"]:
            Plan.objects.get_or_create(
                operator=operator,
                kind=kind,
                name=name,
                defaults={
                    "price_excl_vat": Decimal(price),
                    "vat_rate": rate,
                    "days": Decimal(days),
                    "valid_months": 6,
                    "included_hours": Decimal(hours),
                    "day_kinds": DAY_KINDS if kind != Plan.Kind.LEASE else [],
                    "hour_kinds": HOUR_KINDS if hours else [],
                    "notice_months": 1 if kind == Plan.Kind.LEASE else 0,
                    "deposit": Decimal(price) if kind == Plan.Kind.LEASE else Decimal("0"),
                },
            )
    return operators


@transaction.atomic
def _organisations(people) -> dict[str, Organisation]:
    """Two companies; Chloé works for the Coop and manages both (a member of two organisations)."""
    chloe = people["chloe@cocotte.test"]
    organisations = {}
    for name, (siren, address, email) in ORGANISATIONS.items():
        organisation, _created = Organisation.objects.get_or_create(name=name, defaults={"siren": siren})
        Organisation.objects.filter(pk=organisation.pk).update(siren=siren, address=address)
        organisation.refresh_from_db()
        DebtorDetails.objects.get_or_create(organisation=organisation, defaults={"email": email})
        permissions.grant_role(chloe, Role.Name.ORGANISATION_MANAGER, organisation)
        organisations[name] = organisation
    for email, address in BILLING_ADDRESSES.items():
        Profile.objects.filter(user=people[email]).update(billing_address=address)
    return organisations


def _plan(operator, kind) -> Plan:
    return Plan.objects.filter(operator=operator, kind=kind).order_by("pk").first()


def _holdings(operators, people, organisations, last_month) -> None:
    telecentre, cocotte = operators["telecentre-murat"], operators["cocotte-numerique"]
    three_months_ago = (last_month - timedelta(days=60)).replace(day=1)
    office_a = Resource.objects.get(site__slug="telecentre-murat", slug="bureau-a")
    for plan, owner, starts_on, extra in (
        (
            _plan(telecentre, Plan.Kind.SUBSCRIPTION),
            {"member": people["alice@cocotte.test"]},
            three_months_ago,
            {},
        ),
        (
            _plan(telecentre, Plan.Kind.LEASE),
            {"organisation": organisations["Coop des Volcans"]},
            three_months_ago,
            {"resource": office_a},
        ),
        (
            _plan(cocotte, Plan.Kind.SUBSCRIPTION),
            {"organisation": organisations["Atelier des Monts"]},
            last_month + timedelta(days=9),  # began on the 10th: its first month is prorated
            {},
        ),
        (_plan(cocotte, Plan.Kind.CARD), {"member": people["bob@cocotte.test"]}, last_month, {}),
    ):
        days = plan.days if plan.kind in (Plan.Kind.CARD, Plan.Kind.DAY_PASS) else Decimal("0")
        ends_on = starts_on + timedelta(days=182) if plan.kind == Plan.Kind.CARD else None
        Holding.objects.get_or_create(
            plan=plan,
            **owner,
            defaults={
                "starts_on": starts_on,
                "ends_on": ends_on,
                "price_excl_vat": plan.price_excl_vat,
                "days_left": days,
                **extra,
            },
        )
    aids.grant(
        telecentre,
        organisations["Coop des Volcans"],
        kind="rent_coverage",
        funder="Hautes Terres Communauté (concours Start’up Chef)",
        starts_on=last_month,
        ends_on=(last_month + timedelta(days=183)).replace(day=1) - timedelta(days=1),
        percent=Decimal("50"),
        revenue_types=[RevenueType.OFFICE],
        market_monthly_rent=Decimal("260.00"),
        monthly_rent=Decimal("200.00"),
        granted_on=last_month,
    )


def _price_demo_bookings() -> None:
    """The demo's bookings were made before any price existed: cover and charge them as the engine's
    participant does for a booking made now (plans first, then pay-as-you-go)."""
    done = set(CreditUse.objects.values_list("booking_id", flat=True)) | set(
        Charge.objects.filter(source=participant.SOURCE).values_list("source_id", flat=True)
    )
    for booking in Booking.objects.live().select_related("resource__site", "member").order_by("start", "pk"):
        if booking.pk not in done and booking.resource.kind != K.OFFICE:
            participant.record(booking)


def _bill_last_month(operators, people, organisations, last_month, today) -> None:
    telecentre, cocotte = operators["telecentre-murat"], operators["cocotte-numerique"]
    atelier = organisations["Atelier des Monts"]
    # A room billed by mistake (the Atelier's meeting was cancelled by the team): credited after issue.
    ledger.hand_over(
        telecentre,
        atelier,
        source="demo.mistake",
        source_id=1,
        revenue_type=RevenueType.MEETING_ROOM,
        label="Salle de réunion, demi-journée",
        service_date=last_month + timedelta(days=14),
        quantity=Decimal("4"),
        unit="half_hour",
        unit_price_excl_vat=Decimal("6.00"),
        vat_rate=Decimal("0"),
    )
    private_run = runs.prepare(telecentre, last_month, today=today)
    runs.issue_run(private_run, on=today, workers=1, send=False)
    alice_invoice = private_run.bills.filter(member=people["alice@cocotte.test"]).first()
    if alice_invoice is not None:  # partly paid by transfer
        half = (alice_invoice.total_incl_vat / 2).quantize(Decimal("0.01"))
        payments.record(telecentre, alice_invoice.member, half, "transfer", today, bills=[alice_invoice])
    coop_invoice = private_run.bills.filter(organisation=organisations["Coop des Volcans"]).first()
    if coop_invoice is not None:  # paid in full
        payments.record(telecentre, coop_invoice.organisation, coop_invoice.total_incl_vat, "transfer", today)
    mistaken = private_run.bills.filter(organisation=atelier).first()
    if mistaken is not None:
        credit = issuing.credit_note_for(mistaken, note="Réunion annulée par l’équipe : facturée par erreur.")
        runs.issue_one(credit, on=today, send=False)

    public_run = runs.prepare(cocotte, last_month, today=today)
    runs.issue_run(public_run, on=today, workers=1, send=False)
    bob_statement = public_run.bills.filter(member=people["bob@cocotte.test"]).first()
    if bob_statement is not None:  # paid at the counter: a régie receipt
        payments.record(
            cocotte,
            bob_statement.member,
            bob_statement.total_incl_vat,
            "cash",
            today,
            revenue_type=RevenueType.COWORKING,
            bills=[bob_statement],
        )
    folder = settings.DATA_DIR / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"releves-{cocotte.siren}-{last_month:%Y-%m}.csv"
    path.write_text(exports.statements_csv(cocotte, last_month.year, last_month.month), encoding="utf-8")


def report(context):
    runs_ = BillingRun.objects.select_related("operator").order_by("operator__name")
    if not runs_:
        return
    context.write(context.style.SUCCESS("\nFacturation de démonstration"))
    for run in runs_:
        context.write(f"  {run.operator.name}, {run.month:%Y-%m} : {run.bills.count()} pièce(s) émise(s)")
    folder = settings.DATA_DIR / "exports"
    context.write(f"  Export des relevés (mode public) : {folder}")

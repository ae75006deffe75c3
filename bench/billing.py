"""Phase: a month's billing run for 1,000 members (issue: "drafts, then issue with PDF/A-3 and Factur-X, on 2
cores, under 60 s whole"), on a database of its own.

Three steps, each its own process (`--step`), as the orchestrator calls them:

- `seed`: one private-mode operator under VAT (the tests' `private_operator`: SIRET 81234567600017, VAT
  FR19812345676, an IBAN), its site and offices, 1,000 members with a billing address, a third of them
  holding a monthly subscription (some started or ended inside the month: prorated), every member 3–8
  booking-like charges in the month, and 50 organisations with a SIREN (Luhn-valid) and a VAT number, some
  of them renting an office, some of those with a 50 % rent coverage (`aids.grant`). In bulk (bulk_create):
  the charges carry the very fields `ledger.hand_over` writes (one of them is handed over through it, the
  others built with the same rules), so that seeding takes seconds.
- `run`: what `cocotte billing_run YYYY-MM --issue --workers 2` does, in this process: `runs.prepare`, then
  `runs.issue_run(workers=2)`, whose PDF rendering (`runs.render_pdfs`) is timed apart from the numbering;
  CPU of this process and of its forked workers (getrusage), and of PostgreSQL and everything else
  (bench.common.CpuMonitor) for each part.
- `breakdown`: on a sample of the issued bills (their PDF set aside and rendered again, in this process,
  through `render_worker.render`, the workers' own code), where a bill's time goes: the database, the context,
  the Django template, WeasyPrint (layout, then writing the PDF), the Factur-X XML, and embedding it;
  then a cProfile of the same sample. A first bill is rendered before, not counted: the once-per-process
  cost (loading WeasyPrint, the fonts, the stylesheet) is reported apart.
"""

import argparse
import cProfile
import io
import pstats
import random
import resource
import time
from collections import defaultdict
from contextlib import contextmanager
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from bench import common

SIRET, VAT_NUMBER = "81234567600017", "FR19812345676"
FIRST = (
    "Alice Bruno Camille Denis Élodie François Gaëlle Hugo Inès Jules Léa Mathis Noémie Océane Paul Chloé "
)
FIRST += (
    "Raphaël Sarah Théo Zoé Anaïs Baptiste Cécile Damien Émilie Fabien Hélène Jérôme Laure Maël Sébastien"
)
LAST = "Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau Simon Laurent Lefèvre Michel "
LAST += "Garcia David Bertrand Roux Vincent Fournier Morel Girard André Mercier Dupont Lambert Bonnet Faure "
LAST += "Rousseau Blanc Guérin Muller Henry Roussel Nicolas Perrin Morin Mathieu Clément Gauthier Chevalier"
STREETS = [
    "rue de la République",
    "avenue de la Gare",
    "place de l’Église",
    "chemin des Crêtes",
    "rue du Faubourg Notre-Dame",
    "impasse des Écoles",
    "route d’Allanche",
    "rue Porte Saint-Esprit",
]
COMMUNES = [
    ("15300", "Murat"),
    ("15160", "Allanche"),
    ("15300", "Laveissière"),
    ("15170", "Neussargues en Pinatelle"),
    ("15100", "Saint-Flour"),
    ("15000", "Aurillac"),
    ("15400", "Riom-ès-Montagnes"),
]
COMPANY = "Volcans Numériques|Scierie du Lioran|Atelier Planèze|Cantal Conseil|Fromagerie des Crêtes|"
COMPANY += "Bois & Bâti|Transports Dorinet|Agence Salers|Studio Puy Mary|Laine d’Auvergne"
FORMS = ["SAS", "SARL", "SCOP", "EURL", "SA"]
# Booking-like charges: (revenue type, label, unit, unit price excl. VAT, quantities).
CHARGES = [
    ("meeting_room", "Salle de réunion « Puy Mary », le {day:%d/%m} de {start}h à {end}h", "hour", "15.00"),
    ("meeting_room", "Salle de visioconférence, le {day:%d/%m} de {start}h à {end}h", "hour", "12.00"),
    ("coworking", "Poste en open space, le {day:%d/%m}", "day", "12.00"),
    ("coworking", "Poste en open space, le {day:%d/%m} (demi-journée)", "half_day", "7.00"),
    ("fablab", "Découpeuse laser, le {day:%d/%m} de {start}h à {end}h", "hour", "10.00"),
]


def last_month() -> date:
    first = common.today().replace(day=1)
    return (first - timedelta(days=1)).replace(day=1)


# --- seed ------------------------------------------------------------------------------------------------


def siren_of(rng: random.Random, taken: set[str]) -> str:
    from stdnum import luhn
    from stdnum.fr import siren

    while True:
        body = str(rng.randrange(10_000_000, 99_999_999))
        number = body + luhn.calc_check_digit(body)
        if number not in taken and siren.is_valid(number):
            taken.add(number)
            return number


def vat_of(siren: str) -> str:
    from stdnum.fr import tva

    number = f"FR{(12 + 3 * (int(siren) % 97)) % 97:02d}{siren}"
    assert tva.is_valid(number), number
    return number


def seed(args) -> dict:
    from django.contrib.auth.hashers import make_password
    from django.db import connection, transaction

    from cocotte.accounts.models import Organisation, Profile, User
    from cocotte.billing import aids, ledger
    from cocotte.billing.models import (
        Charge,
        DebtorDetails,
        Holding,
        Operator,
        Plan,
        RevenueType,
        SiteOperator,
    )
    from cocotte.billing.totals import line_amount
    from cocotte.spaces.models import Network, Resource, Site

    rng = random.Random(args.seed)
    month = date.fromisoformat(args.month + "-01")
    last = (month + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    started = time.perf_counter()
    with transaction.atomic():
        network = Network.objects.create(name="Hautes Terres", slug="hautes-terres")
        site = Site.objects.create(
            network=network,
            slug="murat",
            name="Télécentre de Murat",
            street="Place de l’Hôtel de Ville",
            postal_code="15300",
            city="Murat",
        )
        offices = Resource.objects.bulk_create(
            Resource(
                site=site,
                slug=f"bureau-{n}",
                name=f"Bureau {n}",
                kind=Resource.Kind.OFFICE,
                unit=Resource.Unit.MONTH,
                min_units=1,
                max_units=12,
            )
            for n in range(1, args.organisations + 1)
        )
        operator = Operator.objects.create(  # tests/billing/conftest.py, private_operator
            name="Association du Télécentre",
            legal_name="Association Télécentre de Murat",
            legal_form="Association loi 1901",
            mode=Operator.Mode.PRIVATE,
            street="Place de l’Hôtel de Ville",
            postal_code="15300",
            city="Murat",
            siret=SIRET,
            vat_number=VAT_NUMBER,
            email="factures@telecentre.example",
            iban="FR7630006000011234567890189",
            bic="AGRIFRPP",
            invoice_prefix="TM",
        )
        SiteOperator.objects.create(site=site, operator=operator)
        plan = Plan.objects.create
        subscriptions = [
            plan(
                operator=operator,
                kind=Plan.Kind.SUBSCRIPTION,
                name="Coworking illimité",
                price_excl_vat=Decimal("150.00"),
            ),
            plan(
                operator=operator,
                kind=Plan.Kind.SUBSCRIPTION,
                name="Coworking mi-temps",
                price_excl_vat=Decimal("90.00"),
            ),
        ]
        lease = plan(
            operator=operator, kind=Plan.Kind.LEASE, name="Bureau privatif", price_excl_vat=Decimal("310.00")
        )

        firsts, lasts = FIRST.split(), LAST.split()
        password = make_password(None)  # unusable: nobody logs in
        users = User.objects.bulk_create(
            User(
                email=f"membre{n:04d}@example.org",
                first_name=rng.choice(firsts),
                last_name=rng.choice(lasts),
                password=password,
            )
            for n in range(args.members)
        )

        def address() -> tuple[str, str]:
            postal_code, city = rng.choice(COMMUNES)
            return f"{rng.randint(1, 48)} {rng.choice(STREETS)}\n{postal_code} {city}", city

        profiles = []
        for user in users:
            text, city = address()
            profiles.append(Profile(user=user, billing_address=text, commune=city))
        Profile.objects.bulk_create(profiles)

        taken: set[str] = set()
        companies = COMPANY.split("|")
        organisations = Organisation.objects.bulk_create(
            Organisation(
                name=f"{companies[n % len(companies)]} {n // len(companies) + 1} {rng.choice(FORMS)}",
                siren=siren_of(rng, taken),
                address=address()[0],
            )
            for n in range(args.organisations)
        )
        DebtorDetails.objects.bulk_create(
            DebtorDetails(
                organisation=org, vat_number=vat_of(org.siren), email=f"compta{n}@entreprise.example"
            )
            for n, org in enumerate(organisations)
        )

        holdings = []
        for user in users[: args.members // 3]:
            starts_on, ends_on = month - timedelta(days=rng.randint(20, 400)), None
            draw = rng.random()
            if draw < 0.08:  # started inside the month: prorated
                starts_on = month + timedelta(days=rng.randint(1, 20))
            elif draw < 0.12:  # cancelled, ends inside the month: prorated
                ends_on = month + timedelta(days=rng.randint(9, 25))
            chosen = rng.choice(subscriptions)
            holdings.append(
                Holding(
                    plan=chosen,
                    member=user,
                    starts_on=starts_on,
                    ends_on=ends_on,
                    price_excl_vat=chosen.price_excl_vat,
                )
            )
        leased = organisations[: int(args.organisations * 0.4)]
        for org, office in zip(leased, offices, strict=False):
            holdings.append(
                Holding(
                    plan=lease,
                    organisation=org,
                    resource=office,
                    starts_on=month - timedelta(days=rng.randint(30, 700)),
                    price_excl_vat=lease.price_excl_vat,
                )
            )
        Holding.objects.bulk_create(holdings)

        # Booking-like charges, as `ledger.hand_over` records them (its fields and rules, in bulk).
        source_id = 0

        def charge_of(debtor, is_org: bool) -> Charge:
            nonlocal source_id
            source_id += 1
            revenue_type, label, unit, price = rng.choice(CHARGES)
            day = month + timedelta(days=rng.randint(0, (last - month).days))
            start = rng.randint(8, 17)
            hours = rng.randint(1, 3)
            quantity = Decimal(hours if unit == "hour" else 1)
            price = Decimal(price)
            return Charge(
                operator=operator,
                member=None if is_org else debtor,
                organisation=debtor if is_org else None,
                source="bookings.booking",
                source_id=source_id,
                revenue_type=revenue_type,
                label=label.format(day=day, start=start, end=start + hours)[:300],
                service_date=day,
                quantity=quantity,
                unit=unit,
                unit_price_excl_vat=price,
                vat_rate=Decimal("0") if operator.vat_franchise else Decimal("20"),
                amount_excl_vat=line_amount(quantity, price),
            )

        charges = [charge_of(user, False) for user in users for _ in range(rng.randint(3, 8))]
        charges += [charge_of(org, True) for org in organisations for _ in range(rng.randint(1, 5))]
        first = charges.pop(0)  # one through the real door, to be sure the fields are the same
        handed = ledger.hand_over(
            operator,
            first.member,
            source=first.source,
            source_id=first.source_id,
            revenue_type=first.revenue_type,
            label=first.label,
            service_date=first.service_date,
            quantity=first.quantity,
            unit=first.unit,
            unit_price_excl_vat=first.unit_price_excl_vat,
            vat_rate=Decimal("20"),
        )
        assert handed.amount_excl_vat == first.amount_excl_vat
        Charge.objects.bulk_create(charges, batch_size=2000)

        aided = leased[: int(len(leased) * 0.6)]
        for org in aided:
            aids.grant(
                operator,
                org,
                kind="rent_coverage",
                funder="Hautes Terres Communauté",
                starts_on=month - timedelta(days=31 * rng.randint(0, 6)),
                ends_on=month + timedelta(days=31 * rng.randint(3, 12)),
                percent=Decimal("50"),
                market_monthly_rent=Decimal("400.00"),
                monthly_rent=lease.price_excl_vat,
                revenue_types=[RevenueType.OFFICE],
                granted_on=month - timedelta(days=45),
            )
    seed_seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return {
        "month": args.month,
        "members": len(users),
        "subscriptions": len(holdings) - len(leased),
        "organisations": len(organisations),
        "leases": len(leased),
        "aids": len(aided),
        "charges": len(charges) + 1,
        "seed_seconds": round(seed_seconds, 1),
    }


# --- run -------------------------------------------------------------------------------------------------


def _rusage() -> tuple[float, float]:
    """CPU seconds so far of this process, and of its children that ended (the forked PDF workers)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


STATEMENTS = [0]  # SQL statements this process has run (bench.billing.count_statements)


def count_statements(execute, sql, params, many, context):
    STATEMENTS[0] += 1
    return execute(sql, params, many, context)


class Part:
    """Wall time and CPU (this process, its children, PostgreSQL, others) of a part of the run, and the SQL
    statements this process ran meanwhile (not its forked workers')."""

    def __init__(self):
        self.wall, self.rusage, self.monitor = time.perf_counter(), _rusage(), common.CpuMonitor(every=0.5)
        self.statements = STATEMENTS[0]

    def end(self) -> dict:
        wall = time.perf_counter() - self.wall
        own, children = (b - a for a, b in zip(self.rusage, _rusage(), strict=True))
        cores = self.monitor.read()
        return {
            "seconds": round(wall, 2),
            "statements": STATEMENTS[0] - self.statements,
            "cpu_python_seconds": round(own + children, 2),
            "cpu_workers_seconds": round(children, 2),
            "cpu_postgresql_seconds": round(cores["cores_postgresql"] * cores["seconds"], 2),
            "cores_others": cores["cores_others"],
        }


def run(args) -> dict:
    from django.db import connection

    from cocotte.billing import issuing, runs
    from cocotte.billing.models import Bill, BillingRun, Operator

    operator = Operator.objects.get(siret=SIRET)
    month = runs.month_of(args.month)
    parts: dict[str, dict] = {}
    connection.execute_wrappers.append(count_statements)  # for the whole process, workers' copies too
    whole = Part()

    part = Part()
    drafted = runs.prepare(operator, month)
    parts["prepare"] = part.end()

    # Numbering (issuing.issue_many, chunk by chunk) overlaps the PDFs' rendering: it is timed call by call,
    # and the block from the first number to the sending is timed whole ("render": numbers and PDFs).
    original_many, original_dispatch = issuing.issue_many, runs._dispatch
    numbering = {"seconds": 0.0, "statements": 0, "cpu_python_seconds": 0.0, "cpu_postgresql_seconds": 0.0}
    marks: dict[str, Part] = {}

    def timed_issue_many(*args, **kwargs):
        wall, statements, cpu = time.perf_counter(), STATEMENTS[0], _rusage()[0]
        try:
            return original_many(*args, **kwargs)
        finally:
            numbering["seconds"] += time.perf_counter() - wall
            numbering["statements"] += STATEMENTS[0] - statements
            numbering["cpu_python_seconds"] += _rusage()[0] - cpu

    def timed_dispatch(bills):
        parts["render"] = marks.pop("render").end()
        part = Part()
        try:
            return original_dispatch(bills)
        finally:
            parts["dispatch"] = part.end()

    issuing.issue_many, runs._dispatch = timed_issue_many, timed_dispatch
    try:
        marks["render"] = Part()
        issued = runs.issue_run(drafted, workers=args.workers)
    finally:
        issuing.issue_many, runs._dispatch = original_many, original_dispatch
    parts["issue"] = {key: round(value, 2) for key, value in numbering.items()}
    parts["total"] = whole.end()

    invoices = len(issued)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pdf), avg(octet_length(pdf)), sum((SELECT count(*) FROM billing_billline l "
            "WHERE l.bill_id = b.id)) FROM billing_bill b WHERE run_id = %s AND status = 'issued'",
            [drafted.pk],
        )
        with_pdf, mean_bytes, lines = cursor.fetchone()
    total = parts["total"]
    # "render" holds the numbering's CPU too (they overlap): not counted twice.
    cpu_python = sum(parts[p]["cpu_python_seconds"] for p in ("prepare", "render", "dispatch"))
    cpu_postgresql = sum(parts[p]["cpu_postgresql_seconds"] for p in ("prepare", "render", "dispatch"))
    per = max(invoices, 1)
    return {
        "command": f"runs.prepare + runs.issue_run(workers={args.workers}) = cocotte billing_run "
        f"{args.month} --issue --workers {args.workers}",
        "workers": args.workers,
        "invoices": invoices,
        "drafts_left": Bill.objects.filter(run=drafted, status=Bill.Status.DRAFT).count(),
        "with_pdf": with_pdf,
        "lines": int(lines or 0),
        "pdf_mean_bytes": round(float(mean_bytes or 0)),
        "run_error": BillingRun.objects.get(pk=drafted.pk).error,
        "parts": parts,
        "per_invoice_ms": {
            "wall_total": round(total["seconds"] * 1000 / per, 1),
            "cpu_python": round(cpu_python * 1000 / per, 1),
            "cpu_postgresql": round(cpu_postgresql * 1000 / per, 1),
            "cpu_total": round((cpu_python + cpu_postgresql) * 1000 / per, 1),
            **{
                f"cpu_{p}": round(
                    (parts[p]["cpu_python_seconds"] + parts[p]["cpu_postgresql_seconds"]) * 1000 / per, 1
                )
                for p in ("prepare", "issue", "render")
            },
        },
    }


# --- breakdown -------------------------------------------------------------------------------------------


class Stages:
    """Exclusive CPU and wall time per stage: a stage inside another (a query inside the XML) counts for
    itself only, and the outer one gets the rest."""

    def __init__(self):
        self.cpu, self.wall, self.calls = defaultdict(float), defaultdict(float), defaultdict(int)
        self.stack: list[list] = []

    @contextmanager
    def stage(self, name: str):
        cpu, wall = time.process_time(), time.perf_counter()
        self.stack.append([0.0, 0.0])
        try:
            yield
        finally:
            inner_cpu, inner_wall = self.stack.pop()
            spent_cpu, spent_wall = time.process_time() - cpu, time.perf_counter() - wall
            self.cpu[name] += spent_cpu - inner_cpu
            self.wall[name] += spent_wall - inner_wall
            self.calls[name] += 1
            if self.stack:
                self.stack[-1][0] += spent_cpu
                self.stack[-1][1] += spent_wall

    def wrap(self, owner, attribute: str, name: str):
        """Time every call of `owner.attribute` as `name`; returns how to undo it (None if it is absent)."""
        original = (
            owner.__dict__.get(attribute) if isinstance(owner, type) else getattr(owner, attribute, None)
        )
        if original is None:
            return None
        stages = self

        def timed(*args, **kwargs):
            with stages.stage(name):
                return original(*args, **kwargs)

        setattr(owner, attribute, timed)
        return lambda: setattr(owner, attribute, original)

    def database(self, execute, sql, params, many, context):
        with self.stage("database"):
            return execute(sql, params, many, context)


def _sample(bill_ids: list[int], size: int) -> list[int]:
    step = max(len(bill_ids) // size, 1)
    return bill_ids[::step][:size]


def breakdown(args) -> dict:
    import weasyprint
    import weasyprint.document
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from cocotte.billing import documents, facturx, pdf, render_worker
    from cocotte.billing.models import Bill, BillingRun

    run_ = BillingRun.objects.get(month=date.fromisoformat(args.month + "-01"))
    ids = list(
        Bill.objects.filter(run=run_, status=Bill.Status.ISSUED)
        .order_by("organisation_id", "member_id", "pk")
        .values_list("pk", flat=True)
    )
    # Organisations first in that order: the sample holds companies (business mentions, leases, aids).
    warm, sample = ids[-1], _sample(ids, args.sample)
    kept = dict(Bill.objects.filter(pk__in=[warm, *sample]).values_list("pk", "pdf"))

    def clear(pks):
        Bill.objects.filter(pk__in=pks).update(pdf=None)

    def failed(message: str):
        if message:
            raise RuntimeError(message)

    # The once-per-process cost: the first bill of a fresh process (WeasyPrint, fonts, stylesheet).
    clear([warm])
    cpu, wall = time.process_time(), time.perf_counter()
    failed(render_worker.render([warm]))
    first = {
        "cpu_ms": round((time.process_time() - cpu) * 1000),
        "wall_ms": round((time.perf_counter() - wall) * 1000),
    }

    # Where a bill's time goes, over the sample.
    stages = Stages()
    undo = [
        stages.wrap(documents, "bill_context", "context"),
        stages.wrap(documents, "statement_context", "context"),
        stages.wrap(pdf, "render_to_string", "template"),
        stages.wrap(weasyprint.HTML, "__init__", "weasyprint_layout"),
        stages.wrap(weasyprint.HTML, "render", "weasyprint_layout"),
        stages.wrap(weasyprint.document.Document, "write_pdf", "weasyprint_pdf"),
        stages.wrap(facturx, "cii_xml", "xml"),
        stages.wrap(documents, "with_factur_x", "embed_xml"),  # the code measured first: pypdf
        stages.wrap(documents, "check_xsd", "embed_xml"),  # since: in WeasyPrint's PDF, before it is written
        stages.wrap(documents, "embed_factur_x", "embed_xml"),
    ]
    clear(sample)
    try:
        with (
            connection.execute_wrapper(stages.database),
            CaptureQueriesContext(connection) as queries,
            stages.stage("other"),
        ):
            cpu, wall = time.process_time(), time.perf_counter()
            failed(render_worker.render(sample))
            total_cpu, total_wall = time.process_time() - cpu, time.perf_counter() - wall
    finally:
        for restore in undo:
            if restore:
                restore()
    n = len(sample)
    per_bill = {
        name: {
            "cpu_ms": round(stages.cpu[name] * 1000 / n, 2),
            "wall_ms": round(stages.wall[name] * 1000 / n, 2),
            "calls": stages.calls[name],
        }
        for name in sorted(stages.cpu, key=lambda name: -stages.cpu[name])
    }
    per_bill["weasyprint"] = {
        key: round(
            per_bill.get("weasyprint_layout", {}).get(key, 0)
            + per_bill.get("weasyprint_pdf", {}).get(key, 0),
            2,
        )
        for key in ("cpu_ms", "wall_ms")
    }
    statements = [" ".join(q["sql"].split())[:160] for q in queries.captured_queries]

    # The same sample under cProfile.
    clear(sample)
    profiler = cProfile.Profile()
    profiler.enable()
    failed(render_worker.render(sample))
    profiler.disable()
    profile_path = common.RESULTS / "billing-render.prof"
    profiler.dump_stats(profile_path)
    tops = {}
    for order in ("cumulative", "tottime"):
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats(order).print_stats(args.top)
        tops[order] = _profile_rows(out.getvalue())

    # The PDFs as they were (the run's own), and a check that the renderings were the same size.
    rendered = dict(Bill.objects.filter(pk__in=sample).values_list("pk", "pdf"))
    sizes = [abs(len(rendered[pk]) - len(kept[pk])) for pk in sample]
    for pk, data in kept.items():
        Bill.objects.filter(pk=pk).update(pdf=data)
    return {
        "sample": n,
        "first_bill_of_a_process": first,
        "per_bill": per_bill,
        "per_bill_total": {
            "cpu_ms": round(total_cpu * 1000 / n, 2),
            "wall_ms": round(total_wall * 1000 / n, 2),
        },
        "queries_per_bill": round(len(statements) / n, 2),
        "queries_first_bill": statements[: max(len(statements) // n, 1) + 2],
        "max_pdf_size_difference_bytes": max(sizes),
        "profile": tops,
        "profile_file": str(profile_path.relative_to(common.ROOT)),
    }


def _profile_rows(text: str) -> list[str]:
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.lstrip().startswith("ncalls")), None)
    if start is None:
        return []
    return [" ".join(line.split()) for line in lines[start + 1 :] if line.strip()]


# --- main ------------------------------------------------------------------------------------------------


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--step", choices=["seed", "run", "breakdown"], required=True)
    parser.add_argument("--month", default=f"{last_month():%Y-%m}", help="YYYY-MM (default: last month)")
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--organisations", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--sample", type=int, default=50, help="bills of the breakdown")
    parser.add_argument("--top", type=int, default=25, help="rows of each profile listing")
    parser.add_argument("--seed", type=int, default=2027)
    args = parser.parse_args(argv)
    common.setup_django()
    step = {"seed": seed, "run": run, "breakdown": breakdown}[args.step]
    common.write_json(args.out, step(args))


if __name__ == "__main__":
    main()

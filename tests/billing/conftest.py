"""Billing's fixtures: an operator of each mode, a company, and draft bills built line by line."""

from datetime import date
from decimal import Decimal

import pytest

from cocotte.accounts.models import Organisation
from cocotte.billing.models import Bill, BillLine, DebtorDetails, Operator, RevenueType, SiteOperator
from cocotte.billing.totals import line_amount


@pytest.fixture
def private_operator(site):
    """An association under VAT (not the franchise), running `site`: it issues invoices."""
    operator = Operator.objects.create(
        name="Association du Télécentre",
        legal_name="Association Télécentre de Murat",
        legal_form="Association loi 1901",
        mode=Operator.Mode.PRIVATE,
        street="Place de l’Hôtel de Ville",
        postal_code="15300",
        city="Murat",
        siret="81234567600017",
        vat_number="FR19812345676",
        email="factures@telecentre.example",
        iban="FR7630006000011234567890189",
        bic="AGRIFRPP",
        invoice_prefix="TM",
    )
    SiteOperator.objects.create(site=site, operator=operator)
    return operator


@pytest.fixture
def public_operator(other_site):
    """A communauté de communes in régie, running `other_site`: statements and receipts, no invoice number."""
    operator = Operator.objects.create(
        name="Hautes Terres Communauté",
        legal_name="Communauté de communes Hautes Terres Communauté",
        mode=Operator.Mode.PUBLIC,
        street="4 rue du Faubourg Notre-Dame",
        postal_code="15300",
        city="Murat",
        siret="20006663700014",
        invoice_prefix="HTC",
        regie_revenue_types=[RevenueType.COWORKING, RevenueType.MEETING_ROOM],
    )
    SiteOperator.objects.create(site=other_site, operator=operator)
    return operator


@pytest.fixture
def company(db):
    """A company with its SIREN, VAT number and billing e-mail: a business buyer."""
    organisation = Organisation.objects.create(
        name="Volcans Numériques SAS", siren="732829320", address="2 avenue de la Gare\n15300 Murat"
    )
    DebtorDetails.objects.create(
        organisation=organisation, vat_number="FR44732829320", email="compta@volcans.example"
    )
    return organisation


@pytest.fixture
def make_bill():
    """A draft bill for a debtor (a member or an organisation) with lines (label, quantity, unit price
    excl. VAT, VAT rate[, kind])."""

    def make(operator, debtor, lines, *, kind=Bill.Kind.INVOICE, month=date(2027, 1, 1), **fields):
        is_org = isinstance(debtor, Organisation)
        bill = Bill.objects.create(
            operator=operator,
            kind=kind,
            member=None if is_org else debtor,
            organisation=debtor if is_org else None,
            period_start=month,
            period_end=month.replace(day=28),
            buyer_name=str(debtor),
            buyer_address=getattr(debtor, "address", "") or "1 rue de la Paix\n15300 Murat",
            buyer_siren=getattr(debtor, "siren", ""),
            buyer_is_business=is_org,
            **fields,
        )
        for position, spec in enumerate(lines, start=1):
            label, quantity, price, rate, *rest = spec
            quantity, price, rate = Decimal(str(quantity)), Decimal(str(price)), Decimal(str(rate))
            BillLine.objects.create(
                bill=bill,
                position=position,
                kind=rest[0] if rest else BillLine.Kind.SERVICE,
                label=label,
                revenue_type=RevenueType.COWORKING,
                service_start=bill.period_start,
                service_end=bill.period_end,
                quantity=quantity,
                unit="day",
                unit_price_excl_vat=price,
                vat_rate=rate,
                amount_excl_vat=line_amount(quantity, price),
            )
        return bill

    return make

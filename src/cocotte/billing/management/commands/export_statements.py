"""`cocotte export_statements <structure> <AAAA-MM> [--output DOSSIER]`: a public operator's monthly file for
its finance software, one row per debtor and line of the month's statements (docs/billing-exports.md)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from cocotte.billing.exports import ExportError, operator_named, parse_period, statements_csv


class Command(BaseCommand):
    help = "Écrit l’export mensuel des relevés de liquidation d’une collectivité en régie (CSV)."

    def add_arguments(self, parser):
        parser.add_argument("operator", help="Identifiant, SIRET ou SIREN de la structure.")
        parser.add_argument("month", help="Le mois (AAAA-MM).")
        parser.add_argument("--output", default=".", help="Dossier où écrire le fichier (par défaut : ici).")

    def handle(self, *args, operator, month, output, **options):
        try:
            period, first = parse_period(month)
            if period != "month":
                raise ExportError(_("Un mois s’écrit AAAA-MM."))
            operator = operator_named(operator)
            content = statements_csv(operator, first.year, first.month)
        except ExportError as error:
            raise CommandError(str(error)) from error
        path = Path(output) / f"releves-{operator.siren}-{first:%Y-%m}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8", newline="")
        lines = content.count("\n") - 1  # the header
        self.stdout.write(_("%(path)s : %(n)s lignes.") % {"path": path, "n": lines})

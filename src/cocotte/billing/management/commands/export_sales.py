"""`cocotte export_sales <structure> <du> <au> [--output DOSSIER]`: the sales journal of a period (dates
AAAA-MM-JJ, both included), a semicolon-separated UTF-8 CSV (docs/billing-exports.md)."""

from datetime import date
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from cocotte.billing.exports import ExportError, operator_named, sales_journal


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise CommandError(_("Date invalide « %(text)s » : AAAA-MM-JJ.") % {"text": text}) from error


class Command(BaseCommand):
    help = "Écrit le journal des ventes d’une période (CSV)."

    def add_arguments(self, parser):
        parser.add_argument("operator", help="Identifiant, SIRET ou SIREN de la structure.")
        parser.add_argument("start", help="Premier jour (AAAA-MM-JJ).")
        parser.add_argument("end", help="Dernier jour, inclus (AAAA-MM-JJ).")
        parser.add_argument("--output", default=".", help="Dossier où écrire le fichier (par défaut : ici).")

    def handle(self, *args, operator, start, end, output, **options):
        start, end = _date(start), _date(end)
        try:
            operator = operator_named(operator)
            content = sales_journal(operator, start, end)
        except ExportError as error:
            raise CommandError(str(error)) from error
        path = Path(output) / f"journal-des-ventes-{operator.siren}-{start:%Y%m%d}-{end:%Y%m%d}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8", newline="")
        bills = content.count("\n") - 2  # the header and the totals row
        self.stdout.write(_("%(path)s : %(n)s pièces.") % {"path": path, "n": bills})

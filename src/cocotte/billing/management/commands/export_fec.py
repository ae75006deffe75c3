"""`cocotte export_fec <structure> <année> [--output DOSSIER]`: the FEC of a private operator's fiscal year,
written as `<SIREN>FEC<AAAAMMJJ>.txt` in ISO 8859-15 (docs/billing-exports.md)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from cocotte.billing.exports import FEC_ENCODING, ExportError, fec, operator_named


class Command(BaseCommand):
    help = "Écrit le fichier des écritures comptables (FEC) d’un exercice d’une structure en mode privé."

    def add_arguments(self, parser):
        parser.add_argument("operator", help="Identifiant, SIRET ou SIREN de la structure.")
        parser.add_argument("year", type=int, help="L’exercice (année civile).")
        parser.add_argument("--output", default=".", help="Dossier où écrire le fichier (par défaut : ici).")

    def handle(self, *args, operator, year, output, **options):
        try:
            name, content = fec(operator_named(operator), year)
        except ExportError as error:
            raise CommandError(str(error)) from error
        path = Path(output) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding=FEC_ENCODING, newline="")
        lines = content.count("\n") - 1
        self.stdout.write(_("%(path)s : %(n)s lignes d’écriture.") % {"path": path, "n": lines})

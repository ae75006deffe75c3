"""`cocotte close_period <structure> <AAAA-MM | AAAA> [--output DOSSIER]`: close a month or a fiscal year
(`billing.closings`); with --output, the archive is also written there as a ZIP."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from cocotte.billing.closings import ClosingError, close
from cocotte.billing.exports import ExportError, operator_named, parse_period


class Command(BaseCommand):
    help = "Clôture un mois (AAAA-MM) ou un exercice (AAAA) : archive ses pièces avec leur manifeste."

    def add_arguments(self, parser):
        parser.add_argument("operator", help="Identifiant, SIRET ou SIREN de la structure.")
        parser.add_argument("period", help="AAAA-MM pour un mois, AAAA pour un exercice.")
        parser.add_argument("--output", help="Dossier où écrire aussi l’archive ZIP.")

    def handle(self, *args, operator, period, output, **options):
        try:
            kind, starts_on = parse_period(period)
            operator = operator_named(operator)
            closing = close(operator, kind, starts_on)
        except (ExportError, ClosingError) as error:
            raise CommandError(str(error)) from error
        files = len(closing.manifest.splitlines())
        self.stdout.write(
            _("Clôture du %(start)s au %(end)s enregistrée : %(n)s fichiers, archive SHA-256 %(sha)s.")
            % {
                "start": closing.starts_on.strftime("%d/%m/%Y"),
                "end": closing.ends_on.strftime("%d/%m/%Y"),
                "n": files,
                "sha": closing.archive_sha256,
            }
        )
        if output:
            path = Path(output) / f"cloture-{operator.siren}-{period}.zip"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(bytes(closing.archive))
            self.stdout.write(str(path))

"""`cocotte billing_run 2027-01 [--operator STRUCTURE] [--issue] [--workers 2]`: a month's drafts for every
operator (or one), then with --issue their numbers and PDFs; progress is printed as it goes (billing.runs)."""

from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from cocotte.billing import runs
from cocotte.billing.exports import ExportError, operator_named
from cocotte.billing.models import BillingRun, Operator


class Command(BaseCommand):
    help = "Prépare les brouillons d’un mois (factures ou relevés), et avec --issue les émet avec leurs PDF."

    def add_arguments(self, parser):
        parser.add_argument("month", help="Le mois facturé, AAAA-MM (par exemple 2027-01).")
        parser.add_argument(
            "--operator", help="Identifiant, SIRET ou SIREN d’une structure (par défaut : toutes)."
        )
        parser.add_argument("--issue", action="store_true", help="Émettre les brouillons une fois prêts.")
        parser.add_argument("--on", help="Date d’émission AAAA-MM-JJ (par défaut : aujourd’hui).")
        parser.add_argument(
            "--workers", type=int, default=2, help="Processus de rendu des PDF (par défaut : 2)."
        )

    def handle(self, *args, month, operator, issue, on, workers, **options):
        try:
            month = runs.month_of(month)
            operators = [operator_named(operator)] if operator else list(Operator.objects.order_by("pk"))
            on = date.fromisoformat(on) if on else None
        except (runs.RunError, ExportError, ValueError) as error:
            raise CommandError(str(error)) from error
        for each in operators:
            run = runs.prepare(each, month, progress=self._progress(_("brouillons")))
            self.stdout.write(
                _("%(operator)s, %(month)s : %(n)s brouillon(s).")
                % {"operator": each, "month": f"{month:%Y-%m}", "n": run.bills.filter(status="draft").count()}
            )
            if issue:
                issued = runs.issue_run(run, on=on, workers=workers, progress=self._progress(_("émission")))
                self.stdout.write(_("%(n)s pièce(s) émise(s).") % {"n": len(issued)})
                if run.error:
                    self.stderr.write(run.error)
        if issue and any(BillingRun.objects.filter(month=month, error__gt="").values_list("pk", flat=True)):
            raise CommandError(_("Des brouillons n’ont pas pu être émis : voir ci-dessus."))

    def _progress(self, what: str):
        step = 0

        def show(run: BillingRun) -> None:
            nonlocal step
            # Every tenth of the way, and at the end: enough to see it move without flooding a log.
            if run.done == run.total or run.done * 10 // max(run.total, 1) > step:
                step = run.done * 10 // max(run.total, 1)
                self.stdout.write(f"  {what} : {run.done}/{run.total}")

        return show

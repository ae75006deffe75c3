"""Recompute every chain of issued bills; exit non-zero naming the first one that does not hold."""

from django.core.management.base import BaseCommand, CommandError

from cocotte.billing.issuing import verify


class Command(BaseCommand):
    help = "Vérifie l’empreinte et le chaînage de chaque pièce émise ; échoue en nommant la première altérée."

    def handle(self, *args, **options):
        problems = verify()
        if problems:
            bill, problem = problems[0]
            raise CommandError(
                f"{bill.number or bill.reference} ({bill.operator}) : {problem}"
                f" — {len(problems)} anomalie(s) en tout."
            )
        self.stdout.write(self.style.SUCCESS("Toutes les chaînes de pièces émises sont intactes."))

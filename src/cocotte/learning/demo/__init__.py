"""The demo's trainings: a running business-creation cycle with past sittings signed, and a finished one with
its certificates (`catalogue` makes the programmes, sessions and enrolments; `evidence` the signed sheets,
certificates, surveys and qualifications)."""

from . import catalogue, evidence


def seed(context) -> None:
    catalogue.seed(context)
    evidence.seed(context)


def report(context) -> None:
    context.write(context.style.SUCCESS("\nFormations de démonstration"))
    context.write(f"  {catalogue.TRAINER_EMAIL:<26} Théo Formateur — formateur : /formations/emargement/")
    context.write(
        "  alice@cocotte.test         ses certificats du cycle terminé : /formations/mes-formations/"
    )
    context.write("  bob@cocotte.test           stagiaire du cycle en cours (contrat et échéances)")

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from cocotte.accounts.models import ApiToken


class Command(BaseCommand):
    help = "Crée un jeton d’API personnel pour ce compte et l’affiche (une seule fois : seule son empreinte est gardée)."

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("--name", default="API", help="Nom du jeton, pour le reconnaître ensuite.")

    def handle(self, *args, email, name, **options):
        user = get_user_model().objects.filter(email__iexact=email.strip()).first()
        if user is None:
            raise CommandError(f"Aucun compte pour {email}.")
        if not user.is_active:
            raise CommandError(f"Le compte {email} est désactivé.")
        _token, raw = ApiToken.issue(user, name=name)
        self.stdout.write(raw)

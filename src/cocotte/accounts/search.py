"""Finding a person by what staff remember of them: part of a name or of an e-mail address."""

from django.db.models import Q

from .models import User


def find_people(text: str, *, limit: int = 6) -> list[User]:
    """Active accounts matching every word of `text` in their first name, last name or e-mail."""
    people = User.objects.filter(is_active=True)
    words = text.split()
    if not words:
        return []
    for word in words[:5]:
        people = people.filter(
            Q(email__icontains=word) | Q(first_name__icontains=word) | Q(last_name__icontains=word)
        )
    return list(people.order_by("last_name", "first_name", "email")[:limit])

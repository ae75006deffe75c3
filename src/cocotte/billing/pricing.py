"""What a booking costs before it is confirmed: the engine's quote provider (bookings.hooks).

Pay-as-you-go comes from the operator's price lines, the most precise winning; plans cover bookings before
it (`coverage`, whose `quote` is the engine's provider). Amounts are Decimal euros, rounded once per amount (core.money); the answer is plain JSON
data (strings for amounts), the same on the booking page and in the API.
"""

from django.db.models import Q

from .models import Category, PriceLine

FRANCHISE_NOTE = "TVA non applicable, art. 293 B du CGI"


def category_of(member) -> str:
    """The price category of a member: their profile's status when prices know it, else "" (everyone)."""
    status = getattr(getattr(member, "profile", None), "status", "")
    return status if status in Category.values else ""


def best_line(operator, resource, category: str) -> PriceLine | None:
    """The most precise price line for this resource and category: the resource's own before its kind's,
    the category's before everyone's."""
    lines = PriceLine.objects.filter(operator=operator, unit=resource.unit).filter(
        Q(resource=resource) | Q(resource__isnull=True, kind=resource.kind)
    )
    lines = lines.filter(Q(category=category) | Q(category="")) if category else lines.filter(category="")
    ranked = sorted(lines, key=lambda line: (line.resource_id is None, line.category == ""))
    return ranked[0] if ranked else None
